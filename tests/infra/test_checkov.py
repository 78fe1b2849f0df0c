"""checkov, run once on every synthesised template (the default app and the variant), finds no
failed check; every check it skips is skipped in the template's own metadata with a reason, and
only the reviewed checks are skipped. A canary template in the same run shows that the run does
catch a failure."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.xdist_group("infra")

REPO_ROOT = Path(__file__).resolve().parents[2]
# Its own environment (make venv): checkov's pins conflict with lenslog's (pyproject.toml).
CHECKOV = REPO_ROOT / ".venv" / "checkov" / "bin" / "checkov"

# The checks skipped on purpose; each skip's reason sits in the construct that skips it
# (infra.nag.skip_checkov). A new skip is added here too, on review.
REVIEWED_SKIPS = {
    "CKV_AWS_117": "functions outside a VPC",
    "CKV_AWS_116": "no DLQ on a synchronously invoked function",
    "CKV_AWS_18": "no access log of the access-log bucket",
    "CKV_AWS_21": "no versioning of the access-log bucket",
    "CKV_AWS_120": "no API Gateway response cache",
}
# A log group with neither a key nor a retention: checkov must fail it.
CANARY = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {"PlainLogs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "canary"}}},
}


def _checkov() -> str:
    if CHECKOV.exists():
        return str(CHECKOV)
    found = shutil.which("checkov")
    if found is None:
        pytest.fail("checkov is not installed: `make venv` installs it into .venv/checkov")
    return found


@pytest.fixture(scope="session")
def checkov(synth, variant, tmp_path_factory) -> dict[str, Any]:
    """One checkov run over both apps' templates and the canary, offline (--skip-download)."""
    folder = tmp_path_factory.mktemp("checkov")
    files = {}
    for name, s in (("default", synth), ("variant", variant)):
        for stack_id in s.templates:
            target = folder / f"{name}-{stack_id}.template.json"
            shutil.copy(Path(s.app.outdir) / f"{stack_id}.template.json", target)
            files[target.name] = (name, stack_id)
    canary = folder / "canary.template.json"
    canary.write_text(json.dumps(CANARY))
    args = [_checkov(), "--directory", str(folder), "--framework", "cloudformation", "--output", "json"]
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    run = subprocess.run(
        [*args, "--skip-download", "--compact"], capture_output=True, text=True, env=env, timeout=300
    )
    assert run.returncode in (0, 1), run.stderr[-2000:]  # 1: a check failed (the canary)
    report = json.loads(run.stdout)
    by_file: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for outcome in ("passed_checks", "failed_checks", "skipped_checks"):
        for check in report["results"][outcome]:
            by_file[Path(check["file_path"]).name][outcome].append(check)
    return {"summary": report["summary"], "by_file": by_file, "files": files}


def _ours(checkov):
    return [(name, checkov["by_file"][name]) for name in checkov["files"]]


def test_checkov_reads_every_template_and_fails_none_of_ours(checkov):
    assert checkov["summary"]["parsing_errors"] == 0
    ours = _ours(checkov)
    assert len(ours) == 3 + 4  # two cells + audit; three cells + audit
    for name, results in ours:
        assert results["passed_checks"], name  # read and checked, not silently ignored
        failed = [(c["check_id"], c["resource"]) for c in results["failed_checks"]]
        assert failed == [], name


def test_the_run_catches_a_failure_the_canary_has(checkov):
    failed = {c["check_id"] for c in checkov["by_file"]["canary.template.json"]["failed_checks"]}
    assert "CKV_AWS_158" in failed  # a log group without a KMS key


def test_every_skip_is_a_reviewed_check_with_a_specific_reason(checkov):
    skipped = [(name, c) for name, results in _ours(checkov) for c in results["skipped_checks"]]
    assert skipped
    for name, check in skipped:
        assert check["check_id"] in REVIEWED_SKIPS, (name, check["check_id"], check["resource"])
        reason = check["check_result"].get("suppress_comment", "")
        assert len(reason.split()) >= 8, (name, check["check_id"], reason)


def test_only_synchronously_invoked_functions_skip_the_dead_letter_queue(synth, checkov):
    for name, results in _ours(checkov):
        no_dlq = {c["resource"] for c in results["skipped_checks"] if c["check_id"] == "CKV_AWS_116"}
        if "audit" in name:
            assert no_dlq == set(), name  # the scheduled report is asynchronous: it has one
        else:
            assert {r.split(".")[1].split("Function")[0] for r in no_dlq} == {"Gate", "AuditApi"}, name
    name = synth.deployment.function_name(synth.config.home_cell, "audit_report")
    (reporter,) = [
        f
        for f in synth.audit.find_resources("AWS::Lambda::Function").values()
        if f["Properties"]["FunctionName"] == name
    ]
    (dlq_id,) = [
        lid
        for lid, q in synth.audit.find_resources("AWS::SQS::Queue").items()
        if q["Properties"]["QueueName"] == "lenslog-audit-report-dlq"
    ]
    assert reporter["Properties"]["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]}}
