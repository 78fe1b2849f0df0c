"""Helpers of the reliability suite: a fresh embedded AWS per run, fault injection through
botocore's own event system, full state snapshots, and reconciliation of a stack."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.awsrequest import AWSResponse
from moto import mock_aws

from lenslog import runtime
from lenslog.adapters.dynamo import DynamoLedger
from lenslog.adapters.s3 import S3ObjectStore
from lenslog.local.aws import LocalStack, provision
from lenslog.local.worker import Worker
from lenslog.services.verify import VerifyReport, verify
from tests.component.conftest import Cell

FIXED_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
META = {"camera-id": "cam-01", "captured-at": "2026-11-18T10:00:00Z"}


def clear_runtime_caches() -> None:
    """Services hold per-run state (the clock); boto3 clients do not, and moto
    intercepts every client whenever a mock is active, so they are kept: making them is slow."""
    runtime.ingest_service.cache_clear()


@contextmanager
def fresh_stack(config: Any) -> Iterator[Cell]:
    """A new, empty embedded AWS with the default cells provisioned; yields the eu cell. The
    ingest service's clock is fixed so that two runs can be compared item for item."""
    with mock_aws():
        clear_runtime_caches()
        try:
            stack = provision(config, endpoint_url=None)
            w = Worker(stack)
            w.drain()
            for cell in stack.cells:
                runtime.ingest_service(stack.settings(cell)).clock = lambda: FIXED_NOW
            yield Cell(stack, w, "eu")
        finally:
            clear_runtime_caches()


def reconcile(stack: LocalStack) -> VerifyReport:
    cells = {}
    for name, res in stack.cells.items():
        cells[name] = (
            res,
            S3ObjectStore(stack.client("s3", name), res.region),
            DynamoLedger(stack.client("dynamodb", name), res.table, name),
        )
    return verify(cells)


# fault injection -------------------------------------------------------------------------------------
class _Raw:
    def __init__(self, body: bytes):
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


_S3_ERRORS = {
    "throttle": (503, "SlowDown", "Please reduce your request rate."),
    "5xx": (500, "InternalError", "We encountered an internal error. Please try again."),
}
_DDB_ERRORS = {
    "throttle": (
        400,
        "com.amazonaws.dynamodb.v20120810#ThrottlingException",
        "Rate of requests exceeds the allowed throughput.",
    ),
    "5xx": (500, "com.amazon.coral.service#InternalFailure", "The request processing has failed."),
}
_QUERY_ERRORS = {  # SES, SQS (query protocol)
    "throttle": (400, "Throttling", "Maximum sending rate exceeded."),
    "5xx": (500, "InternalFailure", "The request processing has failed."),
}


def error_response(service: str, kind: str, url: str) -> AWSResponse:
    """The HTTP response the real service sends when it throttles or fails."""
    if service == "s3":
        status, code, message = _S3_ERRORS[kind]
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
        )
        headers = {"Content-Type": "application/xml"}
    elif service == "dynamodb":
        status, code, message = _DDB_ERRORS[kind]
        body = json.dumps({"__type": code, "message": message})
        headers = {"Content-Type": "application/x-amz-json-1.0"}
    else:
        status, code, message = _QUERY_ERRORS[kind]
        body = (
            f"<ErrorResponse><Error><Type>{'Sender' if status < 500 else 'Receiver'}</Type>"
            f"<Code>{code}</Code>"
            f"<Message>{message}</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
        )
        headers = {"Content-Type": "text/xml"}
    return AWSResponse(url, status, headers, _Raw(body.encode()))


@dataclass
class Fault:
    service: str
    operation: str
    kind: str
    sends: int | None  # how many sends fail; None = until removed
    match: str | None = None  # only requests whose URL or body contain this
    injected: int = 0

    def __call__(self, request: Any, **_: Any) -> AWSResponse | None:
        if self.sends is not None and self.injected >= self.sends:
            return None
        if self.match is not None:
            body = request.body if isinstance(request.body, bytes | str) else b""
            text = (body.decode("utf-8", "replace") if isinstance(body, bytes) else body) + request.url
            if self.match not in text:
                return None
        self.injected += 1
        return error_response(self.service, self.kind, request.url)


@dataclass
class FaultInjector:
    """Makes chosen calls of the cached runtime clients fail as the service would. The response is
    returned from botocore's ``before-send`` event, inside botocore's retry loop, so the client's
    own standard retries run and our code sees what it would see in production."""

    stack: LocalStack
    faults: list[tuple[Any, str, Fault]] = field(default_factory=list)
    total: Counter[str] = field(default_factory=Counter)

    def attempts(self, service: str) -> int:
        """Sends per call: botocore's ``max_attempts: 5`` means 5 retries, 6 sends in all."""
        return int(self.stack.client(service, "eu").meta.config.retries["total_max_attempts"])

    def add(
        self,
        service: str,
        operation: str,
        kind: str = "throttle",
        calls: int | None = 1,
        match: str | None = None,
    ) -> Fault:
        """Fail the next ``calls`` calls of the operation (every send of each, retries included),
        or every call until ``clear`` when ``calls`` is None."""
        sends = None if calls is None else calls * self.attempts(service)
        fault = Fault(service, operation, kind, sends, match)
        events = self.stack.client(service, "eu").meta.events
        event = f"before-send.{service}.{operation}"
        events.register_first(event, fault)
        self.faults.append((events, event, fault))
        return fault

    def clear(self) -> None:
        for events, event, fault in self.faults:
            events.unregister(event, fault)
            self.total[f"{fault.service}.{fault.operation}"] += fault.injected
        self.faults.clear()


def no_retry_backoff(monkeypatch: Any) -> None:
    """Keep botocore's retries (their number and their decisions) but not their sleeping."""
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


# state snapshots ------------------------------------------------------------------------------------
def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


@dataclass
class Snapshot:
    items: dict[tuple[str, str], str]
    objects: dict[str, dict[str, str]]

    def normalised(self, versions: dict[str, str]) -> Snapshot:
        """Replace S3 version ids (random per run) by the stable name of their upload."""
        if not versions:
            return self
        pattern = re.compile("|".join(re.escape(v) for v in sorted(versions, key=len, reverse=True)))

        def fix(text: str) -> str:
            return pattern.sub(lambda m: versions[m.group(0)], text)

        return Snapshot(
            items={(fix(pk), fix(sk)): fix(v) for (pk, sk), v in self.items.items()},
            objects={b: {fix(k): fix(v) for k, v in objs.items()} for b, objs in self.objects.items()},
        )


def snapshot(cell: Cell) -> Snapshot:
    """Every table item, every current curated and quarantine object and every landing version of
    the cell. Idempotency items are left out: they are Powertools' bookkeeping (hashed keys,
    wall-clock expiry), not lenslog's state."""
    items = {}
    for item in cell.ddb.scan(TableName=cell.res.table)["Items"]:
        pk, sk = item["PK"]["S"], item["SK"]["S"]
        if "kind" not in item:
            continue
        # DynamoDB sets (SS) have no order: compare them as sorted lists.
        items[(pk, sk)] = json.dumps(
            {k: {"SS": sorted(v["SS"])} if "SS" in v else v for k, v in item.items()}, sort_keys=True
        )
    objects: dict[str, dict[str, str]] = {}
    for role in ("landing_bucket", "curated_bucket", "quarantine_bucket"):
        bucket = getattr(cell.res, role)
        listing = cell.s3.list_object_versions(Bucket=bucket)
        out = {}
        for v in listing.get("Versions", []):
            if role != "landing_bucket" and not v["IsLatest"]:
                continue  # a retried copy leaves an older version of the same bytes: harmless
            body = cell.s3.get_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])["Body"].read()
            text = body.decode() if v["Key"].endswith(".json") else _digest(body)
            out[f"{v['Key']}#{'latest' if v['IsLatest'] else 'old'}"] = text
        if role == "landing_bucket":
            out.update({f"{m['Key']}#deleted": "" for m in listing.get("DeleteMarkers", [])})
        objects[role] = out
    return Snapshot(items=items, objects=objects)


def capture_events(cell: Cell) -> list[str]:
    """Take the pending notifications off the cell's queue (undelivered) and return their bodies."""
    sqs = cell.stack.client("sqs", cell.name)
    url = cell.stack.queue_urls[cell.name]
    bodies: list[str] = []
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get(
            "Messages", []
        )
        if not msgs:
            return bodies
        bodies.extend(m["Body"] for m in msgs)
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)],
        )


def deliver(cell: Cell, bodies: list[str]) -> None:
    sqs = cell.stack.client("sqs", cell.name)
    url = cell.stack.queue_urls[cell.name]
    for i in range(0, len(bodies), 10):
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(j), "MessageBody": b} for j, b in enumerate(bodies[i : i + 10])]
        )
