"""The weekly audit report: an EventBridge schedule from ``config.report.schedule`` invokes the
audit_report function, which reads every cell's aggregates, writes the reports bucket and sends
the email through the SES identity of ``config.report.sender``."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ses as ses
from constructs import Construct

from infra.constructs.function import LensFunction
from infra.constructs.ingest import table_resources
from infra.deployment import Deployment
from infra.permissions import alias_condition, allow

REPORTS_PREFIX = "reports/"
TABLE_READ = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"]


class ReportSchedule(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        deployment: Deployment,
        reporter: LensFunction,
        reports: s3.IBucket,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, id)
        config = deployment.config
        stack = Stack.of(self)
        self.identity = ses.EmailIdentity(self, "Sender", identity=ses.Identity.email(config.report.sender))
        self.rule = events.Rule(
            self,
            "Weekly",
            description="weekly lenslog audit report",
            schedule=events.Schedule.expression(config.report.schedule),
            targets=[targets.LambdaFunction(reporter.function, retry_attempts=2)],
        )
        role = reporter.role
        allow(
            role,
            sid="WriteReports",
            actions=["s3:PutObject", "s3:GetObject"],
            resources=[reports.arn_for_objects(f"{REPORTS_PREFIX}*")],
            reason=f"reports are written under {REPORTS_PREFIX} (one folder per week)",
        )
        allow(
            role,
            sid="ReportsKey",
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=[key.key_arn],
            reason="the reports bucket is encrypted with the reports key",
        )
        allow(
            role,
            sid="SendReport",
            actions=["ses:SendEmail", "ses:SendRawEmail"],
            resources=[
                f"arn:{stack.partition}:ses:{stack.region}:{stack.account}:identity/{config.report.sender}"
            ],
            reason="the report is sent from the configured sender identity only",
        )
        home = config.home_cell
        home_region = deployment.resources(home).region
        allow(
            role,
            sid="IndexReports",
            actions=["dynamodb:PutItem"],
            resources=[deployment.table_arn(home)],
            reason="the report's index items (REPORT#<id>, REPORTS) go to the home cell's table, "
            "written in one transaction (TransactWriteItems is authorised per PutItem)",
        )
        allow(
            role,
            sid="IndexReportsKey",
            actions=["kms:Encrypt", "kms:GenerateDataKey"],
            resources=[deployment.keys_arn_pattern(home_region)],
            conditions=alias_condition(deployment.key_alias(home), "dynamodb", home_region),
            reason=f"the key behind {deployment.key_alias(home)}, used by DynamoDB in {home_region} only",
        )
        # Aggregates (no personal data) are the only thing that crosses cells.
        for cell in config.cells:
            region = deployment.resources(cell).region
            allow(
                role,
                sid=f"ReadAggregates{cell.capitalize()}",
                actions=TABLE_READ,
                resources=table_resources(deployment.table_arn(cell)),
                reason=f"the report reads cell {cell}'s aggregates and recent decisions (by-day index)",
            )
            allow(
                role,
                sid=f"ReadAggregates{cell.capitalize()}Key",
                actions=["kms:Decrypt"],
                resources=[deployment.keys_arn_pattern(region)],
                conditions=alias_condition(deployment.key_alias(cell), "dynamodb", region),
                reason=f"the key behind {deployment.key_alias(cell)}, used by DynamoDB in {region} only",
            )
