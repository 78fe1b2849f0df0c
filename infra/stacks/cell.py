"""Everything one data region owns: storage, table, ingest pipeline, audit API and upload roles.
The stack only composes capabilities."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import ArnFormat, Duration, Stack
from constructs import Construct

from infra.constructs.alarms import AlarmTopic
from infra.constructs.api import AuditApi
from infra.constructs.function import LensFunction, dead_letter_queue
from infra.constructs.ingest import IngestPipeline, table_resources
from infra.constructs.layers import Layers
from infra.constructs.neardup import NearDuplicateWatch
from infra.constructs.partners import UPLOAD_PREFIX, PartnerUploadRoles
from infra.constructs.report import REPORTS_PREFIX
from infra.constructs.storage import CellStorage
from infra.constructs.table import CellTable
from infra.deployment import Deployment
from infra.permissions import alias_condition, allow
from lenslog.retention import lifecycle_days

GATE_MEMORY_MB = 1024
GATE_TIMEOUT = Duration.seconds(60)
API_MEMORY_MB = 512
API_TIMEOUT = Duration.seconds(29)
SNAPSHOT_MEMORY_MB = 1024
SNAPSHOT_TIMEOUT = Duration.minutes(15)  # each invocation stops 2 minutes before it and hands on
SNAPSHOT_PREFIX = "snapshots"
LEAKAGE_MEMORY_MB = 1024  # CPU for 16 lookup threads (botocore parsing is the work)
LEAKAGE_TIMEOUT = Duration.minutes(15)


class CellStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        deployment: Deployment,
        cell: str,
        config_path: Path,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        config = deployment.config
        names = deployment.resources(cell)
        self.cell = cell
        self.storage = CellStorage(
            self,
            "Storage",
            resources=names,
            key_alias=deployment.key_alias(cell),
            access_log_bucket_name=f"{deployment.prefix}-{cell}-access-logs{deployment.suffix}",
            curated_retention_days=lifecycle_days(config, cell, "curated"),
            quarantine_retention_days=lifecycle_days(config, cell, "quarantine"),
            log_days=deployment.log_days,
        )
        self.table = CellTable(self, "Records", table_name=names.table, key=self.storage.key)
        self.alarms = AlarmTopic(
            self, "Alarms", key=self.storage.key, topic_name=f"{deployment.prefix}-{cell}-alarms"
        )
        self.layers = Layers(self, "Layers", architecture=config.architecture, config_path=config_path)
        common = {
            "settings": deployment.settings(cell),
            "architecture": config.architecture,
            "layers": self.layers.all,
            "alarm_topic": self.alarms.topic,
            "log_days": deployment.log_days,
            "key": self.storage.key,
        }
        self.gate = LensFunction(
            self,
            "Gate",
            name="ingest",
            function_name=deployment.function_name(cell, "ingest"),
            description=f"lenslog gate of cell {cell}: validate, fingerprint, deduplicate, decide",
            memory_size=GATE_MEMORY_MB,
            timeout=GATE_TIMEOUT,
            reserved_concurrency=config.scaling.ingest_reserved_concurrency,
            no_dlq_reason="is invoked synchronously by its SQS event source: a failed message is "
            "retried, then moved to the ingest queue's own dead-letter queue, its object still in landing",
            **common,
        )
        self.ingest = IngestPipeline(
            self,
            "Ingest",
            deployment=deployment,
            cell=cell,
            storage=self.storage,
            table=self.table,
            gate=self.gate,
            alarm_topic=self.alarms.topic,
        )
        self.api_function = LensFunction(
            self,
            "AuditApiFunction",
            name="audit_api",
            function_name=deployment.function_name(cell, "audit_api"),
            description=f"lenslog audit API of cell {cell}",
            memory_size=API_MEMORY_MB,
            timeout=API_TIMEOUT,
            reserved_concurrency=config.scaling.api_reserved_concurrency,
            no_dlq_reason="is invoked synchronously by API Gateway: the caller receives the error and "
            "may retry; there is no asynchronous event to keep",
            **common,
        )
        # Invoked asynchronously (it hands an unfinished build on to itself).
        self.snapshot_function = self._async_function(
            "SnapshotFunction",
            "SnapshotDeadLetters",
            name="snapshot",
            function_name=deployment.function_name(cell, "snapshot"),
            description=f"lenslog snapshots of cell {cell}: builds a manifest part by part, then hands on",
            memory_size=SNAPSHOT_MEMORY_MB,
            timeout=SNAPSHOT_TIMEOUT,
            reserved_concurrency=config.scaling.snapshot_reserved_concurrency,
            dlq_name=names.snapshot_dlq,
            **common,
        )
        snapshot_arn = self.format_arn(
            service="lambda",
            resource="function",
            resource_name=deployment.function_name(cell, "snapshot"),
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        for role in (self.snapshot_function.role, self.api_function.role):
            self._grant_snapshots(role, snapshot_arn)
        self._grant_api(deployment)
        self.api = AuditApi(
            self,
            "AuditApi",
            api_name=f"{deployment.prefix}-{cell}-audit",
            handler=self.api_function,
            log_days=deployment.log_days,
            key=self.storage.key,
        )
        # Invoked asynchronously by its schedule.
        self.leakage_function = self._async_function(
            "LeakageCheck",
            "LeakageDeadLetters",
            name="leakage_check",
            function_name=deployment.function_name(cell, "leakage_check"),
            description=f"lenslog leakage check of cell {cell}: near-duplicate links since the last run",
            memory_size=LEAKAGE_MEMORY_MB,
            timeout=LEAKAGE_TIMEOUT,
            reserved_concurrency=config.scaling.leakage_reserved_concurrency,
            dlq_name=names.leakage_dlq,
            **common,
        )
        self.near_watch = NearDuplicateWatch(
            self,
            "NearDuplicates",
            schedule=config.near_duplicates.leakage_schedule,
            checker=self.leakage_function,
            table_arn=self.table.table.table_arn,
            key=self.storage.key,
            alarm_topic=self.alarms.topic,
        )
        self.uploads = PartnerUploadRoles(
            self,
            "Uploads",
            config=config,
            cell=cell,
            role_name_prefix=f"{deployment.prefix}-{cell}",
            landing=self.storage.landing,
            key=self.storage.key,
        )

    def _grant_snapshots(self, role: Any, snapshot_arn: str) -> None:
        """Build snapshots of the cell (the API for up to 20 seconds, the snapshot function for the
        rest, invocation after invocation): read the image records by status, write the snapshot
        record and its manifest parts in the cell's curated bucket, hand the build on."""
        storage = self.storage
        allow(
            role,
            sid="SnapshotRecords",
            actions=["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
            resources=table_resources(self.table.table.table_arn),
            reason="a build reads image records through the status index and saves the snapshot record",
        )
        allow(
            role,
            sid="SnapshotManifests",
            actions=["s3:PutObject", "s3:GetObject"],
            resources=[storage.curated.arn_for_objects(f"{SNAPSHOT_PREFIX}/*")],
            reason=f"manifest parts live under {SNAPSHOT_PREFIX}/ of the cell's curated bucket, nowhere else",
        )
        allow(
            role,
            sid="SnapshotKey",
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=[storage.key.key_arn],
            reason="the cell key encrypts the table and the curated bucket",
        )
        allow(
            role,
            sid="SnapshotHandOn",
            actions=["lambda:InvokeFunction"],
            resources=[snapshot_arn],
            reason="an unfinished build goes on in the next invocation of the snapshot function",
        )

    def _async_function(
        self, function_id: str, dlq_id: str, *, dlq_name: str, key: Any, **props: Any
    ) -> LensFunction:
        """A function invoked asynchronously: an event that failed Lambda's retries is kept in its
        own dead-letter queue (encrypted with the cell key, alarmed) instead of being dropped."""
        dlq = dead_letter_queue(self, dlq_id, queue_name=dlq_name, key=key)
        return LensFunction(self, function_id, key=key, dead_letter_queue=dlq, **props)

    def _grant_api(self, deployment: Deployment) -> None:
        """Read the cell's records and curated images, record erasure requests, sign partner
        upload URLs (the URL carries this role's permission) and read the reports."""
        storage, role = self.storage, self.api_function.role
        allow(
            role,
            sid="Records",
            actions=["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem"],
            resources=table_resources(self.table.table.table_arn),
            reason="the API queries images, decisions and clusters by index and records erasure requests",
        )
        allow(
            role,
            sid="Erase",
            actions=["dynamodb:DeleteItem", "dynamodb:UpdateItem", "dynamodb:Scan"],
            resources=table_resources(self.table.table.table_arn),
            reason="POST /erasures removes the subject's records and lowers its counters; selecting "
            "by camera, consent or source is a filtered scan (erasure is rare)",
        )
        allow(
            role,
            sid="EraseObjects",
            actions=["s3:DeleteObject", "s3:DeleteObjectVersion"],
            resources=[b.arn_for_objects("*") for b in storage.data_buckets],
            reason="an erasure removes every version of the subject's objects in the cell's buckets",
        )
        allow(
            role,
            sid="EraseVerify",
            actions=["s3:ListBucket", "s3:ListBucketVersions"],
            resources=[b.bucket_arn for b in storage.data_buckets],
            reason="an erasure is verified by listing every version in the cell's buckets",
        )
        allow(
            role,
            sid="ReadCurated",
            actions=["s3:GetObject"],
            resources=[storage.curated.arn_for_objects("*")],
            reason="the API signs download URLs of curated images of its cell",
        )
        allow(
            role,
            sid="SignUploads",
            actions=["s3:PutObject"],
            resources=[storage.landing.arn_for_objects(f"{UPLOAD_PREFIX}/*")],
            reason=f"presigned upload forms (POST) carry this permission; partners land under "
            f"{UPLOAD_PREFIX}/ only",
        )
        allow(
            role,
            sid="CellKey",
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=[storage.key.key_arn],
            reason="the cell key encrypts the table and the buckets",
        )
        allow(
            role,
            sid="ReadReports",
            actions=["s3:GetObject"],
            resources=[f"{deployment.bucket_arn(deployment.reports_bucket)}/{REPORTS_PREFIX}*"],
            reason="the API serves the weekly reports (aggregates only) from the home region",
        )
        allow(
            role,
            sid="ReadReportsKey",
            actions=["kms:Decrypt"],
            resources=[deployment.keys_arn_pattern(deployment.home_region)],
            conditions=alias_condition(deployment.reports_key_alias, "s3", deployment.home_region),
            reason=f"the key behind {deployment.reports_key_alias}, via S3 in {deployment.home_region} only",
        )
