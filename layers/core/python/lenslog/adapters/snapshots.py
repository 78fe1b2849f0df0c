"""Where a cell's snapshots live, in the cell itself:

- table item ``SNAPSHOTS`` / ``<snapshot_id>`` (kind ``snapshot``): the record — name, filters,
  status, config version, counts, content hash, the list of manifest parts, and while it is being
  built, the continuation (where the next invocation goes on). Ids sort by creation time, so the
  list newest first is one query of one partition. The record holds counts, never image ids (but
  for the continuation key of a snapshot still being built).
- ``s3://<curated bucket>/snapshots/<snapshot_id>/v<version>/part-<n>.jsonl``: the manifest, in
  parts of a fixed number of lines (one image each). A part rewritten by an erasure goes to the
  next version's folder and every version of the old object is deleted.

Every write of the record is conditional on its revision, so two builders (a retried invocation)
or a builder and an erasure never overwrite each other's progress.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from lenslog.adapters import schema as s
from lenslog.ports import ObjectStore

SNAPSHOTS_PK = "SNAPSHOTS"
SNAPSHOT_PREFIX = "snapshots/"


class Conflict(Exception):
    """The snapshot record changed since it was read (another builder or an erasure)."""


class ManifestPart(BaseModel):
    key: str
    sha256: str
    images: int


class Continuation(BaseModel):
    """Where the build goes on: the index partition (by status) and the key after which to read."""

    status_index: int = 0
    start_key: dict[str, Any] | None = None
    invocations: int = 0


class SnapshotRecord(BaseModel):
    snapshot_id: str
    name: str | None = None
    cell: str
    created_at: datetime
    updated_at: datetime
    status: Literal["building", "complete"] = "building"
    filters: dict[str, list[str]] = Field(default_factory=dict)
    config_version: str
    version: int = 1
    bucket: str
    parts: list[ManifestPart] = Field(default_factory=list)
    content_hash: str | None = None
    counts: dict[str, Any] = Field(default_factory=dict)
    removed: int = Field(0, description="images removed by erasures or consent revocations since creation")
    erasures: int = 0
    continuation: Continuation | None = None
    rev: int = 0

    @property
    def images(self) -> int:
        return sum(p.images for p in self.parts)


def part_key(snapshot_id: str, version: int, index: int) -> str:
    return f"{SNAPSHOT_PREFIX}{snapshot_id}/v{version}/part-{index:05d}.jsonl"


class SnapshotStore:
    def __init__(self, ddb: Any, table: str, store: ObjectStore, bucket: str):
        self.ddb = ddb
        self.table = table
        self.store = store
        self.bucket = bucket

    # records ------------------------------------------------------------------------------------
    def get(self, snapshot_id: str) -> SnapshotRecord | None:
        resp = self.ddb.get_item(
            TableName=self.table,
            Key={s.PK: {"S": SNAPSHOTS_PK}, s.SK: {"S": snapshot_id}},
            ConsistentRead=True,
        )
        item = resp.get("Item")
        return SnapshotRecord.model_validate_json(item["doc"]["S"]) if item else None

    def save(self, record: SnapshotRecord) -> SnapshotRecord:
        """Write the record if nobody wrote it since it was read (``rev``); returns it with the new
        revision, or raises Conflict."""
        expected = record.rev
        saved = record.model_copy(update={"rev": expected + 1})
        item = {
            s.PK: {"S": SNAPSHOTS_PK},
            s.SK: {"S": record.snapshot_id},
            "kind": {"S": "snapshot"},
            "rev": {"N": str(saved.rev)},
            "doc": {"S": saved.model_dump_json()},
        }
        kwargs: dict[str, Any] = {"TableName": self.table, "Item": item}
        if expected == 0:
            kwargs["ConditionExpression"] = "attribute_not_exists(PK)"
        else:
            kwargs["ConditionExpression"] = "rev = :rev"
            kwargs["ExpressionAttributeValues"] = {":rev": {"N": str(expected)}}
        try:
            self.ddb.put_item(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise Conflict(record.snapshot_id) from exc
            raise
        return saved

    def page(
        self, limit: int, start_key: Mapping[str, Any] | None = None
    ) -> tuple[list[SnapshotRecord], dict[str, Any] | None]:
        """One page of the cell's snapshots, newest first."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": SNAPSHOTS_PK}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if start_key:
            kwargs["ExclusiveStartKey"] = dict(start_key)
        resp = self.ddb.query(**kwargs)
        records = [SnapshotRecord.model_validate_json(i["doc"]["S"]) for i in resp.get("Items", [])]
        return records, resp.get("LastEvaluatedKey")

    def all(self) -> Iterator[SnapshotRecord]:
        start: dict[str, Any] | None = None
        while True:
            records, start = self.page(100, start)
            yield from records
            if not start:
                return

    # manifest parts ------------------------------------------------------------------------------
    def put_part(self, key: str, body: bytes) -> ManifestPart:
        self.store.put(self.bucket, key, body, content_type="application/x-ndjson")
        return ManifestPart(key=key, sha256=hashlib.sha256(body).hexdigest(), images=body.count(b"\n"))

    def read_part(self, part: ManifestPart) -> bytes:
        """A part's bytes, checked against the digest the record holds (an immutable manifest)."""
        body = self.store.get(self.bucket, part.key)
        if body is None:
            raise LookupError(f"manifest part s3://{self.bucket}/{part.key} is missing")
        if hashlib.sha256(body).hexdigest() != part.sha256:
            raise ValueError(f"manifest part s3://{self.bucket}/{part.key} does not match its sha256")
        return body

    def delete_part(self, key: str) -> int:
        return self.store.delete_all_versions(self.bucket, key)


def dumps(record: SnapshotRecord) -> str:
    return json.dumps(record.model_dump(mode="json"), sort_keys=True)


class ImageRecords:
    """The cell's image records of one status, in index order (GSI4: status, then capture time and
    image id), read page by page from a continuation key. Counts what it reads, for the bench."""

    def __init__(self, ddb: Any, table: str):
        self.ddb = ddb
        self.table = table
        self.requests = 0
        self.items = 0
        self.bytes = 0

    def after(self, status: str, start_key: Mapping[str, Any] | None) -> Iterator[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": s.GSI_BY_STATUS,
            "KeyConditionExpression": f"{s.GSI_BY_STATUS}PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"STATUS#{status}"}},
        }
        if start_key:
            kwargs["ExclusiveStartKey"] = dict(start_key)
        while True:
            resp = self.ddb.query(**kwargs)
            self.requests += 1
            items = resp.get("Items", [])
            self.items += len(items)
            self.bytes += sum(_item_bytes(i) for i in items)
            yield from items
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    @staticmethod
    def key_of(item: Mapping[str, Any]) -> dict[str, Any]:
        """The item's key on the status index, as ExclusiveStartKey takes it."""
        names = (s.PK, s.SK, f"{s.GSI_BY_STATUS}PK", f"{s.GSI_BY_STATUS}SK")
        return {k: item[k] for k in names}


def _item_bytes(item: Mapping[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (strings as UTF-8)."""
    total = 0
    for name, value in item.items():
        total += len(name.encode())
        for v in value.values():
            total += len(v.encode()) if isinstance(v, str) else len(json.dumps(v).encode())
    return total
