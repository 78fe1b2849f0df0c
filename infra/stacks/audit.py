"""The audit stack, in the home cell's region: the reports bucket, the SES sender identity and the
weekly audit_report function."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import Duration, Stack
from constructs import Construct

from infra.constructs.alarms import AlarmTopic
from infra.constructs.function import LensFunction, dead_letter_queue
from infra.constructs.layers import Layers
from infra.constructs.report import REPORTS_PREFIX, ReportSchedule
from infra.constructs.storage import access_log_bucket, cell_key, data_bucket
from infra.deployment import Deployment

REPORT_MEMORY_MB = 1024
REPORT_TIMEOUT = Duration.minutes(5)


class AuditStack(Stack):
    def __init__(
        self, scope: Construct, id: str, *, deployment: Deployment, config_path: Path, **kwargs: Any
    ) -> None:
        super().__init__(scope, id, **kwargs)
        config = deployment.config
        home = config.home_cell
        self.key = cell_key(self, "Key", alias=deployment.reports_key_alias, description="lenslog reports")
        logs_bucket = access_log_bucket(
            self,
            "AccessLogs",
            name=f"{deployment.prefix}-reports-access-logs{deployment.suffix}",
            days=deployment.log_days,
        )
        self.reports = data_bucket(
            self,
            "Reports",
            name=deployment.reports_bucket,
            key=self.key,
            logs=logs_bucket,
            lifecycle_rules=[],
        )
        self.alarms = AlarmTopic(self, "Alarms", key=self.key, topic_name=f"{deployment.prefix}-audit-alarms")
        self.layers = Layers(self, "Layers", architecture=config.architecture, config_path=config_path)
        # The schedule invokes the reporter asynchronously: an event that failed Lambda's retries is
        # kept here (and alarmed) instead of being dropped.
        self.report_dlq = dead_letter_queue(
            self, "ReportDeadLetters", queue_name=f"{deployment.prefix}-audit-report-dlq", key=self.key
        )
        self.reporter = LensFunction(
            self,
            "Reporter",
            name="audit_report",
            function_name=deployment.function_name(home, "audit_report"),
            description=f"lenslog weekly audit report: {REPORTS_PREFIX} and email",
            settings=deployment.settings(home),
            architecture=config.architecture,
            layers=self.layers.all,
            alarm_topic=self.alarms.topic,
            log_days=deployment.log_days,
            memory_size=REPORT_MEMORY_MB,
            timeout=REPORT_TIMEOUT,
            key=self.key,
            reserved_concurrency=config.scaling.report_reserved_concurrency,
            dead_letter_queue=self.report_dlq,
        )
        self.schedule = ReportSchedule(
            self, "Report", deployment=deployment, reporter=self.reporter, reports=self.reports, key=self.key
        )
