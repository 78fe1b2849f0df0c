"""Near duplicates, watched: each cell's incremental leakage check on its schedule
(``config.near_duplicates.leakage_schedule``), an alarm when a check finds a pair crossing splits
or a cluster-split mismatch, and an alarm when the near-duplicate index is degraded (a band item
full: the gate's decisions say ``degraded:band_full`` and the ingest function counts them)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.constructs.function import LensFunction
from infra.constructs.ingest import table_resources
from infra.deployment import POWERTOOLS_METRICS_NAMESPACE
from infra.permissions import allow

LEAKAGE_METRICS = ("LeakageCrossingPairs", "LeakageClusterSplitMismatches")


class NearDuplicateWatch(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        schedule: str,
        checker: LensFunction,
        table_arn: str,
        key: kms.IKey,
        alarm_topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, id)
        self.rule = events.Rule(
            self,
            "Schedule",
            description="incremental leakage check of the cell's near-duplicate links",
            schedule=events.Schedule.expression(schedule),
            targets=[targets.LambdaFunction(checker.function, retry_attempts=2)],
        )
        role = checker.role
        allow(
            role,
            sid="ReadLinks",
            actions=["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"],
            resources=table_resources(table_arn),
            reason="links since the cursor (by-day index), their index bands and their roots' records",
        )
        allow(
            role,
            sid="StoreState",
            actions=["dynamodb:PutItem"],
            resources=[table_arn],
            reason="the check's cursor and totals (LEAKAGE#state), a conditional put",
        )
        allow(
            role,
            sid="CellKey",
            actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            resources=[key.key_arn],
            reason="the cell key encrypts its table",
        )
        action = cw_actions.SnsAction(alarm_topic)
        self.leakage_alarms = [
            self._metric(name, "leakage_check").create_alarm(
                self,
                f"{name}Alarm",
                alarm_description=f"{name}: near-duplicate pairs cross train/val/test splits "
                "(the cell's leakage check; report.json leakage.examples names them)",
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            for name in LEAKAGE_METRICS
        ]
        self.degraded_alarm = self._metric("near_index_degraded", "ingest").create_alarm(
            self,
            "NearIndexDegradedAlarm",
            alarm_description="a near-duplicate band item is full: images are indexed in fewer bands "
            "(decisions say degraded:band_full); the cell needs a wider index layout",
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        for alarm in (*self.leakage_alarms, self.degraded_alarm):
            alarm.add_alarm_action(action)

    @staticmethod
    def _metric(name: str, service: str) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=POWERTOOLS_METRICS_NAMESPACE,
            metric_name=name,
            dimensions_map={"service": service},
            statistic="Sum",
            period=Duration.hours(1),
        )
