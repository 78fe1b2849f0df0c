"""The app composes one stack per configured cell in its region and the audit stack at home."""

from __future__ import annotations

import pytest

from infra.app import AUDIT_STACK_ID, cell_stack_id
from infra.deployment import PLACEHOLDER_ACCOUNT

pytestmark = pytest.mark.xdist_group("infra")


def test_one_stack_per_cell_in_the_cells_region_and_the_audit_stack_in_the_home_region(synth):
    expected = {cell_stack_id(c): cell.region for c, cell in synth.config.cells.items()}
    expected[AUDIT_STACK_ID] = synth.config.cells[synth.config.home_cell].region
    assert {sid: stack.region for sid, stack in synth.stacks.items()} == expected
    assert {stack.account for stack in synth.stacks.values()} == {PLACEHOLDER_ACCOUNT}


def test_a_third_cell_in_the_config_gets_its_own_stack_and_the_home_moves_with_the_config(variant):
    assert {sid: stack.region for sid, stack in variant.stacks.items()} == {
        "lenslog-cell-eu": "eu-west-1",
        "lenslog-cell-us": "us-west-2",
        "lenslog-cell-ap": "ap-southeast-2",
        AUDIT_STACK_ID: "us-west-2",
    }


def test_resource_names_follow_the_shared_naming_convention(synth):
    for cell in synth.config.cells:
        names = synth.deployment.resources(cell)
        template = synth.cell(cell)
        buckets = {r["Properties"]["BucketName"] for r in template.find_resources("AWS::S3::Bucket").values()}
        assert {names.landing_bucket, names.curated_bucket, names.quarantine_bucket} <= buckets
        queues = {r["Properties"]["QueueName"] for r in template.find_resources("AWS::SQS::Queue").values()}
        assert queues == {names.queue, names.dlq, names.snapshot_dlq, names.leakage_dlq}
        tables = [
            r["Properties"]["TableName"] for r in template.find_resources("AWS::DynamoDB::Table").values()
        ]
        assert tables == [names.table]
        assert names.landing_bucket == f"lenslog-{cell}-landing-{PLACEHOLDER_ACCOUNT}"


def test_the_account_comes_from_the_context_when_given(tmp_path):
    from infra.app import build_app

    app = build_app(
        outdir=str(tmp_path), context={"account": "210987654321", "aws:cdk:bundling-stacks": []}, nag=False
    )
    accounts = {child.account for child in app.node.children if hasattr(child, "account")}
    assert accounts == {"210987654321"}
