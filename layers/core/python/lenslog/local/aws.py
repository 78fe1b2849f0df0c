"""The embedded AWS: a moto server on loopback, provisioned with the same cells as a deployment.

Every cell gets what the CDK app gives it (versioned landing, curated and quarantine buckets, the
ingest queue with its DLQ and redrive policy, the landing bucket's ObjectCreated notification to
the queue, the table with its indexes and TTL), plus the reports bucket and the verified SES sender
in the home cell's region. Names come from ``lenslog.settings.cell_resources``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from lenslog.adapters.schema import TTL_ATTRIBUTE, create_table_kwargs
from lenslog.config import Config
from lenslog.retention import lifecycle_configuration
from lenslog.settings import CellResources, Settings, cell_resources, reports_bucket_name

MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter


def fewer_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas for this process (what ``MALLOC_ARENA_MAX`` does at start-up).
    The moto server answers each request in a thread of its own, and glibc gives threads arenas of
    their own (up to 8 per core), each holding freed memory it rarely returns: measured on
    ``lenslog local`` with 800 photos, 247 MB of RSS with the default and 227 MB with 2 arenas, at
    the same speed. False where the C library is not glibc (nothing changes there)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(_M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False


LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "lenslog-local",
    "AWS_SECRET_ACCESS_KEY": "lenslog-local",
    "AWS_SESSION_TOKEN": "lenslog-local",
}
LOCAL_VISIBILITY_TIMEOUT = 2  # seconds: a failed record is retried quickly on a laptop


def use_local_credentials() -> None:
    """Point boto3 at fake credentials: the embedded AWS accepts any, real AWS none of these."""
    for k, v in LOCAL_CREDENTIALS.items():
        os.environ[k] = v
    os.environ.pop("AWS_PROFILE", None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmbeddedAws:
    """A moto server in a background thread of this process, bound to 127.0.0.1."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self._server: Any = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> EmbeddedAws:
        from moto.server import ThreadedMotoServer

        from lenslog.local import emulator

        emulator.install()  # transactions that cost what they touch, not the whole table
        fewer_malloc_arenas()
        use_local_credentials()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log lines on the console
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        # moto keeps its state per process: an embedded AWS always starts empty.
        urllib.request.urlopen(urllib.request.Request(self.endpoint_url + "/moto-api/reset", method="POST"))
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> EmbeddedAws:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class LocalStack:
    """What ``provision`` created: per-cell resources and the settings a function uses there."""

    config: Config
    endpoint_url: str | None
    prefix: str
    cells: dict[str, CellResources] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)
    dlq_urls: dict[str, str] = field(default_factory=dict)
    reports_bucket: str = ""

    def settings(self, cell: str) -> Settings:
        return Settings(cell=cell, prefix=self.prefix, endpoint_url=self.endpoint_url)

    def client(self, service: str, cell: str | None = None) -> Any:
        from lenslog.runtime import client

        region = self.config.cells[cell or self.config.home_cell].region
        return client(service, region, self.endpoint_url)


def _create_bucket(s3: Any, name: str, region: str, versioned: bool = True) -> None:
    kwargs: dict[str, Any] = {"Bucket": name}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(**kwargs)
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def provision(config: Config, endpoint_url: str | None, prefix: str = "lenslog") -> LocalStack:
    """Create every cell's resources (idempotent). Works on moto server and under ``mock_aws``."""
    stack = LocalStack(config=config, endpoint_url=endpoint_url, prefix=prefix)
    for cell in config.cells:
        res = cell_resources(config, cell, prefix)
        stack.cells[cell] = res
        s3 = stack.client("s3", cell)
        sqs = stack.client("sqs", cell)
        ddb = stack.client("dynamodb", cell)
        for bucket in (res.landing_bucket, res.curated_bucket, res.quarantine_bucket):
            _create_bucket(s3, bucket, res.region)
        for bucket, role in ((res.curated_bucket, "curated"), (res.quarantine_bucket, "quarantine")):
            rules = lifecycle_configuration(config, cell, role)  # type: ignore[arg-type]
            if rules:
                s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})

        dlq_url = sqs.create_queue(QueueName=res.dlq)["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        queue_url = sqs.create_queue(
            QueueName=res.queue,
            Attributes={
                "VisibilityTimeout": str(LOCAL_VISIBILITY_TIMEOUT),
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(config.dlq_max_receive_count)}
                ),
            },
        )["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        stack.queue_urls[cell], stack.dlq_urls[cell] = queue_url, dlq_url
        s3.put_bucket_notification_configuration(
            Bucket=res.landing_bucket,
            NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]
            },
        )
        try:
            ddb.create_table(**create_table_kwargs(res.table))
            ddb.update_time_to_live(
                TableName=res.table,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
            )
        except ddb.exceptions.ResourceInUseException:
            pass

    seed_consents(stack)
    home = config.home_cell
    stack.reports_bucket = reports_bucket_name(prefix)
    _create_bucket(stack.client("s3", home), stack.reports_bucket, config.cells[home].region)
    stack.client("ses", home).verify_email_identity(EmailAddress=config.report.sender)
    return stack


def attach(config: Config, endpoint_url: str, prefix: str = "lenslog") -> LocalStack:
    """The stack ``provision`` made at ``endpoint_url``, looked up (another process's view)."""
    stack = LocalStack(config=config, endpoint_url=endpoint_url, prefix=prefix)
    for cell in config.cells:
        res = cell_resources(config, cell, prefix)
        stack.cells[cell] = res
        sqs = stack.client("sqs", cell)
        stack.queue_urls[cell] = sqs.get_queue_url(QueueName=res.queue)["QueueUrl"]
        stack.dlq_urls[cell] = sqs.get_queue_url(QueueName=res.dlq)["QueueUrl"]
    stack.reports_bucket = reports_bucket_name(prefix)
    return stack


def seed_consents(stack: LocalStack) -> None:
    """The consent registry of each cell, seeded from config (as the CDK app does at deploy)."""
    from lenslog.adapters.dynamo import DynamoLedger
    from lenslog.domain.consent import ConsentRecord

    config = stack.config
    for consent_id, grant in config.consents.items():
        cell = config.cell_of_source(grant.source) or config.home_cell
        res = stack.cells[cell]
        DynamoLedger(stack.client("dynamodb", cell), res.table, cell).put_consent(
            ConsentRecord(
                consent_id=consent_id,
                source=grant.source,
                scope=tuple(str(p) for p in grant.scope),
                expires=grant.expires,
            )
        )
