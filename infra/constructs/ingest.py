"""The ingest pipeline of a cell: landing bucket -> SQS queue (+ DLQ) -> the gate function, with
partial batch failures, and the gate's least-privilege permissions."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.function import LensFunction
from infra.constructs.storage import CellStorage
from infra.constructs.table import CellTable
from infra.deployment import Deployment
from infra.nag import acknowledge
from infra.permissions import alias_condition, allow
from lenslog.config import QUEUE_RETENTION_SECONDS

# SQS visibility must outlast the function and its retries (AWS: six times the timeout).
VISIBILITY_TIMEOUT_FACTOR = 6
BATCH_SIZE = 10
MAX_BATCHING_WINDOW = Duration.seconds(5)
DLQ_RETENTION = Duration.seconds(QUEUE_RETENTION_SECONDS)  # both queues; the config's alarms stay below
TABLE_READ_WRITE = [
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
]


def table_resources(table_arn: str) -> list[str]:
    return [table_arn, f"{table_arn}/index/*"]


class IngestPipeline(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        deployment: Deployment,
        cell: str,
        storage: CellStorage,
        table: CellTable,
        gate: LensFunction,
        alarm_topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, id)
        names = deployment.resources(cell)
        timeout = gate.function.timeout or Duration.seconds(60)
        self.dlq = sqs.Queue(
            self,
            "DeadLetterQueue",
            queue_name=names.dlq,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=storage.key,
            enforce_ssl=True,
            retention_period=DLQ_RETENTION,
        )
        acknowledge(self.dlq, "AwsSolutions-SQS3", "this queue is the dead-letter queue of the ingest queue")
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=names.queue,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=storage.key,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(timeout.to_seconds() * VISIBILITY_TIMEOUT_FACTOR),
            retention_period=DLQ_RETENTION,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dlq, max_receive_count=deployment.config.dlq_max_receive_count
            ),
        )
        self._notify_queue_on_object_created(deployment, storage, names.landing_bucket)

        scaling = deployment.config.scaling
        # At most this many gate instances at once, sized to the cell's rate (config [scaling]); the
        # gate's reserved concurrency is at least as high, so the event source is never throttled
        # by the function's own limit, and no other function of the region can take its instances.
        gate.function.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=BATCH_SIZE,
                max_batching_window=MAX_BATCHING_WINDOW,
                report_batch_item_failures=True,
                max_concurrency=scaling.ingest_max_concurrency,
            )
        )
        self._grant_gate(deployment, cell, storage, table, gate)

        max_receive = deployment.config.dlq_max_receive_count
        action = cw_actions.SnsAction(alarm_topic)
        self.dlq_alarm = self._alarm(
            "DeadLetterAlarm",
            self.dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(5)),
            threshold=1,
            description=f"{names.dlq}: messages the gate failed {max_receive} times",
            action=action,
        )
        # The age of the oldest message: the queue's says the gate is falling behind (throttled,
        # failing or under-sized for the rate); the DLQ's that a failed upload has waited for a
        # redrive long enough to be at risk of the DLQ's retention.
        self.queue_age_alarm = self._alarm(
            "QueueAgeAlarm",
            self.queue.metric_approximate_age_of_oldest_message(period=Duration.minutes(1)),
            threshold=scaling.queue_age_alarm_seconds,
            evaluation_periods=3,
            description=f"{names.queue}: the oldest upload has waited over "
            f"{scaling.queue_age_alarm_seconds} s for the gate (3 minutes running)",
            action=action,
        )
        dlq_age = scaling.dlq_age_alarm_hours * 3600
        self.dlq_age_alarm = self._alarm(
            "DeadLetterAgeAlarm",
            self.dlq.metric_approximate_age_of_oldest_message(period=Duration.minutes(5)),
            threshold=dlq_age,
            description=f"{names.dlq}: a failed upload has waited over {scaling.dlq_age_alarm_hours} h "
            f"for a redrive; the DLQ deletes it after {DLQ_RETENTION.to_days():.0f} days",
            action=action,
        )

    def _alarm(
        self,
        id: str,
        metric: cloudwatch.Metric,
        *,
        threshold: float,
        description: str,
        action: cw_actions.SnsAction,
        evaluation_periods: int = 1,
    ) -> cloudwatch.Alarm:
        alarm = metric.create_alarm(
            self,
            id,
            alarm_description=description,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(action)
        return alarm

    def _notify_queue_on_object_created(
        self, deployment: Deployment, storage: CellStorage, bucket: str
    ) -> None:
        """Native bucket notification (no custom-resource Lambda): the queue policy and the key
        policy name the landing bucket by its deterministic ARN, and the bucket waits for the
        queue policy because S3 checks the destination when the configuration is written."""
        bucket_arn = deployment.bucket_arn(bucket)
        account = Stack.of(self).account
        self.queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid="LandingBucketNotifications",
                principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[self.queue.queue_arn],
                conditions={
                    "ArnLike": {"aws:SourceArn": bucket_arn},
                    "StringEquals": {"aws:SourceAccount": account},
                },
            )
        )
        storage.allow_service("s3.amazonaws.com", bucket_arn)
        landing = storage.landing.node.default_child
        assert isinstance(landing, s3.CfnBucket)
        landing.add_property_override(
            "NotificationConfiguration.QueueConfigurations",
            [{"Event": "s3:ObjectCreated:*", "Queue": self.queue.queue_arn}],
        )
        landing.node.add_dependency(self.queue.node.find_child("Policy"))

    def _grant_gate(
        self, deployment: Deployment, cell: str, storage: CellStorage, table: CellTable, gate: LensFunction
    ) -> None:
        role = gate.role
        landing, curated, quarantine = storage.landing, storage.curated, storage.quarantine
        allow(
            role,
            sid="ReadAndClearLanding",
            actions=[
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:GetObjectTagging",
                "s3:GetObjectVersionTagging",
                "s3:DeleteObject",
                "s3:DeleteObjectVersion",
            ],
            resources=[landing.arn_for_objects("*")],
            reason="the gate reads any upload (and its sidecar) of its cell and clears that version once "
            "committed; a relocated upload is purged with every version",
        )
        allow(
            role,
            sid="FindSidecars",
            actions=["s3:ListBucket"],
            resources=[landing.bucket_arn, quarantine.bucket_arn],
            reason="a missing sidecar is a 404, not a 403",
        )
        allow(
            role,
            sid="ListLandingVersions",
            actions=["s3:ListBucketVersions"],
            resources=[landing.bucket_arn],
            reason="a relocated upload's versions are listed to purge every one of them",
        )
        allow(
            role,
            sid="WriteCurated",
            actions=["s3:PutObject", "s3:PutObjectTagging", "s3:GetObject"],
            resources=[curated.arn_for_objects("*")],
            reason="accepted images are stored by content address in the cell's curated bucket",
        )
        allow(
            role,
            sid="WriteQuarantine",
            actions=["s3:PutObject", "s3:PutObjectTagging", "s3:GetObject", "s3:DeleteObject"],
            resources=[quarantine.arn_for_objects("*")],
            reason="quarantined objects are kept by reason and released when their sidecar arrives",
        )
        allow(
            role,
            sid="Records",
            actions=TABLE_READ_WRITE,
            resources=table_resources(table.table.table_arn),
            reason="records, audit log, aggregates and near-duplicate bands: the cell's table and indexes",
        )
        allow(
            role,
            sid="CellKey",
            actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
            resources=[storage.key.key_arn],
            reason="the cell key encrypts its buckets, table and queues",
        )
        for peer in deployment.peers(cell):
            peer_names = deployment.resources(peer)
            allow(
                role,
                sid=f"RelocateTo{peer.capitalize()}",
                actions=["s3:PutObject"],
                resources=[f"{deployment.bucket_arn(peer_names.landing_bucket)}/*"],
                reason=f"misrouted images are relocated into cell {peer}'s landing bucket (put only)",
            )
            allow(
                role,
                sid=f"RelocateTo{peer.capitalize()}Key",
                actions=["kms:Encrypt", "kms:GenerateDataKey"],
                resources=[deployment.keys_arn_pattern(peer_names.region)],
                conditions=alias_condition(deployment.key_alias(peer), "s3", peer_names.region),
                reason=f"the key behind {deployment.key_alias(peer)}, used by S3 in {peer_names.region} only",
            )
