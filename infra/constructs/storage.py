"""A cell's storage: its KMS key, the landing, curated and quarantine buckets and the bucket that
receives their server access logs."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.nag import acknowledge, skip_checkov
from lenslog.retention import RETENTION_TAG, tag_value
from lenslog.settings import CellResources

NONCURRENT_VERSION_DAYS = 30
ABORT_MULTIPART_DAYS = 7


# What CloudWatch Logs does with a log group's key (its documented key policy, actions spelled out).
LOGS_KEY_ACTIONS = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
]


def cell_key(scope: Construct, id: str, *, alias: str, description: str) -> kms.Key:
    """A stack's key. It also encrypts the stack's log groups, so CloudWatch Logs of the stack's
    region may use it for log groups of this account and region only."""
    key = kms.Key(
        scope,
        id,
        alias=alias,
        description=description,
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.RETAIN,
    )
    stack = Stack.of(key)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="LogGroups",
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=LOGS_KEY_ACTIONS,
            resources=["*"],
            conditions={
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": (
                        f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"
                    )
                }
            },
        )
    )
    return key


def access_log_bucket(scope: Construct, id: str, *, name: str, days: int) -> s3.Bucket:
    """Server access logs: S3 delivers them only to SSE-S3 buckets (SSE-KMS is unsupported). They
    name object keys, which carry camera ids and capture times: kept ``days`` (the config's
    shortest retention), never longer than an object they name."""
    bucket = s3.Bucket(
        scope,
        id,
        bucket_name=name,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=Duration.days(days))],
        removal_policy=RemovalPolicy.RETAIN,
    )
    acknowledge(
        bucket,
        "AwsSolutions-S1",
        "this is the server access log bucket itself; logging it into itself would loop",
    )
    skip_checkov(
        bucket,
        "CKV_AWS_18",
        "this is the server access log bucket itself: logging it into itself would loop, and into "
        "another bucket would only move the question there",
    )
    skip_checkov(
        bucket,
        "CKV_AWS_21",
        f"only S3's log delivery writes here, once per object under a new name; versions would keep "
        f"logs that name object keys (camera ids, capture times) past their {days}-day retention "
        "(docs/privacy.md)",
    )
    return bucket


def data_bucket(
    scope: Construct,
    id: str,
    *,
    name: str,
    key: kms.IKey,
    logs: s3.IBucket,
    lifecycle_rules: list[s3.LifecycleRule],
) -> s3.Bucket:
    """A bucket holding images: private, TLS-only, SSE-KMS with the cell key, versioned, logged."""
    return s3.Bucket(
        scope,
        id,
        bucket_name=name,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.KMS,
        encryption_key=key,
        bucket_key_enabled=True,
        enforce_ssl=True,
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        server_access_logs_bucket=logs,
        server_access_logs_prefix=f"{name}/",
        lifecycle_rules=[
            *lifecycle_rules,
            s3.LifecycleRule(
                id="expire-noncurrent-versions",
                noncurrent_version_expiration=Duration.days(NONCURRENT_VERSION_DAYS),
                abort_incomplete_multipart_upload_after=Duration.days(ABORT_MULTIPART_DAYS),
                expired_object_delete_marker=True,
            ),
        ],
        removal_policy=RemovalPolicy.RETAIN,
    )


def retention_rules(days: Sequence[int]) -> list[s3.LifecycleRule]:
    """One rule per retention, filtered on the tag the ingest function sets (lenslog.retention)."""
    return [
        s3.LifecycleRule(
            id=f"retention-{tag_value(d)}",
            tag_filters={RETENTION_TAG: tag_value(d)},
            expiration=Duration.days(d),
        )
        for d in days
    ]


class CellStorage(Construct):
    """Everything a cell stores objects in, encrypted with one customer-managed key per cell."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        resources: CellResources,
        key_alias: str,
        access_log_bucket_name: str,
        curated_retention_days: Sequence[int],
        quarantine_retention_days: Sequence[int],
        log_days: int,
    ) -> None:
        super().__init__(scope, id)
        self.key = cell_key(
            self, "Key", alias=key_alias, description=f"lenslog cell {resources.cell}: buckets, table, queues"
        )
        self.access_logs = access_log_bucket(self, "AccessLogs", name=access_log_bucket_name, days=log_days)
        self.landing = data_bucket(
            self, "Landing", name=resources.landing_bucket, key=self.key, logs=self.access_logs,
            lifecycle_rules=[],
        )  # fmt: skip
        self.curated = data_bucket(
            self, "Curated", name=resources.curated_bucket, key=self.key, logs=self.access_logs,
            lifecycle_rules=retention_rules(curated_retention_days),
        )  # fmt: skip
        self.quarantine = data_bucket(
            self, "Quarantine", name=resources.quarantine_bucket, key=self.key, logs=self.access_logs,
            lifecycle_rules=retention_rules(quarantine_retention_days),
        )  # fmt: skip

    @property
    def data_buckets(self) -> list[s3.Bucket]:
        return [self.landing, self.curated, self.quarantine]

    def allow_service(self, principal: str, source_arn: str) -> None:
        """Let an AWS service (S3 notifying the queue, CloudWatch alarming to SNS) use the key for
        one source only."""
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(principal)],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={"ArnLike": {"aws:SourceArn": source_arn}},
            )
        )
