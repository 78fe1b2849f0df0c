"""Everything one data region owns: storage, table, ingest pipeline, audit API and upload roles.
The stack only composes capabilities."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Duration, Stack
from constructs import Construct

from infra.constructs.alarms import AlarmTopic
from infra.constructs.api import AuditApi
from infra.constructs.function import LensFunction
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
        }
        self.gate = LensFunction(
            self,
            "Gate",
            name="ingest",
            function_name=deployment.function_name(cell, "ingest"),
            description=f"lenslog gate of cell {cell}: validate, fingerprint, deduplicate, decide",
            memory_size=GATE_MEMORY_MB,
            timeout=GATE_TIMEOUT,
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
            **common,
        )
        self._grant_api(deployment)
        self.api = AuditApi(
            self,
            "AuditApi",
            api_name=f"{deployment.prefix}-{cell}-audit",
            handler=self.api_function,
            log_days=deployment.log_days,
        )
        self.leakage_function = LensFunction(
            self,
            "LeakageCheck",
            name="leakage_check",
            function_name=deployment.function_name(cell, "leakage_check"),
            description=f"lenslog leakage check of cell {cell}: near-duplicate links since the last run",
            memory_size=LEAKAGE_MEMORY_MB,
            timeout=LEAKAGE_TIMEOUT,
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
            reason=f"presigned upload URLs carry this permission; partners land under {UPLOAD_PREFIX}/ only",
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
