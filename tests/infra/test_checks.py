"""cdk-nag AwsSolutions finds nothing unacknowledged, every acknowledgement says why, a new
finding fails synthesis, and cfn-lint reports no error on any template."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import Validations
from cdk_nag import AwsSolutionsChecks

pytestmark = pytest.mark.xdist_group("infra")


def _acknowledgements(app):
    key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    return [
        (construct.node.path, rule.removeprefix("Annotation::"), reason)
        for construct in app.node.find_all()
        for entry in construct.node.metadata
        if entry.type == key
        for rule, reason in entry.data.items()
    ]


def test_cdk_nag_aws_solutions_reports_no_unacknowledged_finding(synth, variant):
    for s in (synth, variant):
        report = AwsSolutionsChecks().validate_scope(s.app)
        findings = [(v.rule_name, r.construct_path) for v in report.violations for r in v.violating_resources]
        assert findings == []
        assert report.success is True


def test_every_acknowledgement_names_one_finding_and_a_specific_reason(synth):
    acknowledgements = _acknowledgements(synth.app)
    assert acknowledgements
    for path, rule, reason in acknowledgements:
        assert rule.startswith("AwsSolutions-"), path
        if rule.startswith("AwsSolutions-IAM"):  # wildcard findings are acknowledged one by one
            assert "[" in rule and rule.endswith("]"), (path, rule)
        assert len(reason.split()) >= 6, (path, rule, reason)


def test_an_unacknowledged_finding_fails_synthesis(tmp_path):
    from aws_cdk import aws_sqs as sqs

    from infra.app import build_app

    app = build_app(outdir=str(tmp_path), context={"aws:cdk:bundling-stacks": []})
    sqs.Queue(app.node.find_child("lenslog-audit"), "PlainQueue")
    with pytest.raises(RuntimeError, match="AwsSolutions-SQS4"):
        app.synth()


@pytest.mark.parametrize("stack_id", ["lenslog-cell-eu", "lenslog-cell-us", "lenslog-audit"])
def test_cfn_lint_reports_no_error_on_the_template(synth, stack_id):
    from cfnlint.api import ManualArgs, lint_file

    path = Path(synth.app.outdir) / f"{stack_id}.template.json"
    matches = lint_file(path, config=ManualArgs(regions=[synth.stacks[stack_id].region]))
    errors = [f"{m.rule.id} {m.message} ({m.path})" for m in matches if m.rule.id.startswith("E")]
    assert errors == []
