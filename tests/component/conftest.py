from __future__ import annotations

import json
from typing import Any

import pytest
from moto import mock_aws

from lenslog import runtime
from lenslog.adapters.dynamo import DynamoLedger
from lenslog.local.aws import LOCAL_CREDENTIALS, LocalStack, provision
from lenslog.local.worker import Worker


def _clear_caches() -> None:
    runtime.client.cache_clear()
    runtime.ingest_service.cache_clear()


@pytest.fixture
def aws(monkeypatch):
    for k, v in LOCAL_CREDENTIALS.items():
        monkeypatch.setenv(k, v)
    with mock_aws():
        _clear_caches()
        yield
    _clear_caches()


@pytest.fixture
def stack(aws, config) -> LocalStack:
    return provision(config, endpoint_url=None)


@pytest.fixture
def worker(stack) -> Worker:
    w = Worker(stack)
    w.drain()  # consume the s3:TestEvent of each notification configuration
    return w


class Cell:
    """A test's view of one provisioned cell: upload, run the worker, look at what is where."""

    def __init__(self, stack: LocalStack, worker: Worker, name: str):
        self.stack, self.worker, self.name = stack, worker, name
        self.res = stack.cells[name]
        self.s3 = stack.client("s3", name)
        self.ddb = stack.client("dynamodb", name)
        self.ledger = DynamoLedger(self.ddb, self.res.table, name)

    def put(self, key: str, body: bytes, metadata: dict[str, str] | None = None) -> dict[str, Any]:
        return self.s3.put_object(Bucket=self.res.landing_bucket, Key=key, Body=body, Metadata=metadata or {})

    def put_sidecar(self, image_key: str, content: dict[str, Any]) -> dict[str, Any]:
        return self.put(image_key + ".json", json.dumps(content).encode())

    def drain(self) -> None:
        self.worker.drain(stall=60)

    def keys(self, bucket: str) -> list[str]:
        resp = self.s3.list_objects_v2(Bucket=bucket)
        return sorted(o["Key"] for o in resp.get("Contents", []))

    def landing(self) -> list[str]:
        return self.keys(self.res.landing_bucket)

    def curated(self) -> list[str]:
        return self.keys(self.res.curated_bucket)

    def quarantine(self) -> list[str]:
        return self.keys(self.res.quarantine_bucket)

    def decision(self, key: str, put_response: dict[str, Any]) -> dict[str, Any] | None:
        version = put_response.get("VersionId") or put_response["ETag"].strip('"')
        return self.ledger.get_decision(self.res.landing_bucket, key, version)

    def items(self, prefix: str) -> list[dict[str, Any]]:
        items = self.ddb.scan(TableName=self.res.table)["Items"]
        return [i for i in items if i["PK"]["S"].startswith(prefix)]

    def counters(self) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for item in self.items("AGG#"):
            k = (item["dimension"]["S"], item["value"]["S"])
            out[k] = out.get(k, 0) + int(item["count"]["N"])
        return out


@pytest.fixture
def eu(stack, worker) -> Cell:
    return Cell(stack, worker, "eu")


@pytest.fixture
def serialised_dynamodb(monkeypatch):
    """Real DynamoDB serialises conditional writes on an item and never lets a read see a
    transaction half applied; moto's in-memory backend checks a condition and writes without a lock
    (two threads can both pass the check) and applies a transaction action by action, rolling back
    on failure (a concurrent read can see writes that are then undone). Restore the real semantics
    by letting moto answer one request at a time, so that race tests test our code, not moto's."""
    import threading

    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.RLock()
    original = BotocoreStubber.__call__

    def serialised(self, *args, **kwargs):
        with lock:
            return original(self, *args, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", serialised)
