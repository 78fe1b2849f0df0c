"""The lenslog CDK app: one ``CellStack`` per configured cell, in the cell's region, and one
``AuditStack`` in the home cell's region, all from the same validated config the functions read.

Run by the CDK CLI through ``cdk.json`` (``python -m infra.app``). Synthesis is offline: the
account comes from the context (``-c account=...``), the cell's config, the CLI's environment or
a placeholder, never from a lookup.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from aws_cdk import App, Environment, Tags

from infra.deployment import PLACEHOLDER_ACCOUNT, Deployment
from infra.nag import add_checks
from infra.stacks.audit import AuditStack
from infra.stacks.cell import CellStack
from lenslog.config import Config, default_config_path, load_config


def resolve_account(app: App, config: Config) -> str:
    from_context = app.node.try_get_context("account")
    configured = {c.account for c in config.cells.values() if c.account}
    if from_context:
        return str(from_context)
    if len(configured) == 1:
        return configured.pop()
    return os.environ.get("CDK_DEFAULT_ACCOUNT") or PLACEHOLDER_ACCOUNT


def cell_stack_id(cell: str) -> str:
    return f"lenslog-cell-{cell}"


AUDIT_STACK_ID = "lenslog-audit"
# Behaviour the app relies on, set here so the CLI and the tests synthesise the same templates.
FEATURE_FLAGS: dict[str, Any] = {
    # Access-log delivery authorised by a bucket policy, not the legacy LogDeliveryWrite ACL.
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}


def build_app(
    config_path: Path | None = None,
    *,
    outdir: str | None = None,
    context: dict[str, Any] | None = None,
    nag: bool = True,
) -> App:
    config_path = Path(config_path) if config_path else default_config_path()
    config = load_config(config_path)
    app = App(outdir=outdir, context={**FEATURE_FLAGS, **(context or {})})
    deployment = Deployment(config=config, account=resolve_account(app, config))
    for cell, spec in config.cells.items():
        CellStack(
            app,
            cell_stack_id(cell),
            deployment=deployment,
            cell=cell,
            config_path=config_path,
            env=Environment(account=deployment.account, region=spec.region),
            description=f"lenslog cell {cell} ({spec.region}): buckets, gate, records, audit API",
        )
    AuditStack(
        app,
        AUDIT_STACK_ID,
        deployment=deployment,
        config_path=config_path,
        env=Environment(account=deployment.account, region=deployment.home_region),
        description="lenslog audit: weekly report, reports bucket, SES sender",
    )
    Tags.of(app).add("project", "lenslog")
    if nag:
        add_checks(app)
    return app


def main() -> None:
    path = os.environ.get("LENSLOG_CONFIG_PATH")
    build_app(Path(path) if path else None).synth()


if __name__ == "__main__":
    main()
