"""The read side of a cell's table for the audit API: index queries with opaque cursors.

Every list is a query on one of the table's indexes (``lenslog.adapters.schema``), never a scan. A
list may walk several index partitions in order (the days of a range, the statuses of images); its
cursor then names the partition and DynamoDB's key inside it. Optional filters that no index
serves are FilterExpressions on the index query: they cost the read of the items they drop, so a
page may come back short of ``limit`` with a cursor to continue (each request reads at most
``MAX_ROUNDS`` pages of the index, to bound its latency).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from lenslog.adapters import schema as s
from lenslog.adapters.dynamo import aggregate_pk, counter_row, days_pk, image_pk, sum_counters

MAX_ROUNDS = 10
FILTERED_READ = 200  # items read per round when a filter may drop some


class InvalidCursor(ValueError):
    """The cursor was not issued for this query (tampered, truncated or from another list)."""


def key_attributes(index: str | None) -> tuple[str, ...]:
    """The attributes of a LastEvaluatedKey on ``index`` (None = the table itself)."""
    base = (s.PK, s.SK)
    return base if index is None else (*base, f"{index}PK", f"{index}SK")


def encode_cursor(partition: int, key: Mapping[str, Any] | None) -> str:
    payload: dict[str, Any] = {"p": partition}
    if key:
        payload["k"] = {k: v["S"] for k, v in sorted(key.items())}
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(
    cursor: str, index: str | None, partitions: Sequence[str]
) -> tuple[int, dict[str, Any] | None]:
    """(partition number, ExclusiveStartKey) of a cursor issued for this query, else InvalidCursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("not a cursor issued by this API") from exc
    if not isinstance(payload, dict) or set(payload) - {"p", "k"}:
        raise InvalidCursor("not a cursor issued by this API")
    part = payload.get("p")
    if not isinstance(part, int) or isinstance(part, bool) or not 0 <= part < len(partitions):
        raise InvalidCursor("the cursor belongs to another query")
    key = payload.get("k")
    if key is None:
        return part, None
    expected = set(key_attributes(index))
    if not isinstance(key, dict) or set(key) != expected or not all(isinstance(v, str) for v in key.values()):
        raise InvalidCursor("the cursor belongs to another query")
    pk_attr = s.PK if index is None else f"{index}PK"
    if key[pk_attr] != partitions[part]:
        raise InvalidCursor("the cursor belongs to another query")
    return part, {k: {"S": v} for k, v in key.items()}


@dataclass(frozen=True)
class Filter:
    expression: str
    names: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict)
    # False for a filter that drops only the odd item (e.g. erasure tombstones among decisions):
    # a page then reads what it returns, not FILTERED_READ items per round
    selective: bool = True


@dataclass(frozen=True)
class IndexQuery:
    """Items of ``partitions`` (partition key values, walked in order) on ``index``, their sort key
    between ``sk_from`` and ``sk_to`` (strings, inclusive; either may be None), filtered."""

    index: str | None
    partitions: tuple[str, ...]
    sk_from: str | None = None
    sk_to: str | None = None
    filters: tuple[Filter, ...] = ()
    newest_first: bool = False

    @property
    def pk_attr(self) -> str:
        return s.PK if self.index is None else f"{self.index}PK"

    @property
    def sk_attr(self) -> str:
        return s.SK if self.index is None else f"{self.index}SK"


def _s(v: str) -> dict[str, str]:
    return {"S": v}


def doc_of(item: Mapping[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(item["doc"]["S"])
    return doc


class TableReader:
    """Reads of one cell's table over an injected DynamoDB client."""

    def __init__(self, client: Any, table: str, cell: str):
        self.client = client
        self.table = table
        self.cell = cell

    # pages -----------------------------------------------------------------------------------------
    def _kwargs(self, q: IndexQuery, partition: str, limit: int) -> dict[str, Any]:
        names = {"#pk": q.pk_attr}
        values: dict[str, Any] = {":pk": _s(partition)}
        cond = "#pk = :pk"
        if q.sk_from is not None or q.sk_to is not None:
            names["#sk"] = q.sk_attr
            lo, hi = q.sk_from, q.sk_to
            if lo is not None and hi is not None:
                cond += " AND #sk BETWEEN :lo AND :hi"
                values.update({":lo": _s(lo), ":hi": _s(hi)})
            elif lo is not None:
                cond += " AND #sk >= :lo"
                values[":lo"] = _s(lo)
            else:
                cond += " AND #sk <= :hi"
                values[":hi"] = _s(hi or "")
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": cond,
            "ScanIndexForward": not q.newest_first,
            "Limit": limit,
        }
        if q.index is not None:
            kwargs["IndexName"] = q.index
        if q.filters:
            kwargs["FilterExpression"] = " AND ".join(f"({f.expression})" for f in q.filters)
            for f in q.filters:
                names.update(f.names)
                values.update(f.values)
        kwargs["ExpressionAttributeNames"] = names
        kwargs["ExpressionAttributeValues"] = values
        return kwargs

    def page(
        self, q: IndexQuery, limit: int, cursor: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Up to ``limit`` items and the cursor of the rest (None at the end)."""
        part, start = decode_cursor(cursor, q.index, q.partitions) if cursor else (0, None)
        items: list[dict[str, Any]] = []
        rounds = 0
        while part < len(q.partitions) and len(items) < limit and rounds < MAX_ROUNDS:
            want = limit - len(items)
            selective = any(f.selective for f in q.filters)
            kwargs = self._kwargs(q, q.partitions[part], max(want, FILTERED_READ) if selective else want)
            if start:
                kwargs["ExclusiveStartKey"] = start
            try:
                resp = self.client.query(**kwargs)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "ValidationException" and start:
                    raise InvalidCursor("the cursor belongs to another query") from exc
                raise
            rounds += 1
            got = resp.get("Items", [])
            if len(got) > want:  # a filtered round read past the page: resume after the last kept item
                items.extend(got[:want])
                last = got[want - 1]
                start = {a: last[a] for a in key_attributes(q.index)}
                break
            items.extend(got)
            start = resp.get("LastEvaluatedKey")
            if start is None:
                part += 1
        if part >= len(q.partitions):
            return items, None
        return items, encode_cursor(part, start)

    def docs(
        self, q: IndexQuery, limit: int, cursor: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        items, nxt = self.page(q, limit, cursor)
        return [doc_of(i) for i in items], nxt

    def all_items(self, q: IndexQuery) -> Iterable[dict[str, Any]]:
        """Every item of a small query (an image's decisions, a cluster's members)."""
        for partition in q.partitions:
            kwargs = self._kwargs(q, partition, 1000)
            while True:
                resp = self.client.query(**kwargs)
                yield from resp.get("Items", [])
                if "LastEvaluatedKey" not in resp:
                    break
                kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    # single items ----------------------------------------------------------------------------------
    def image_record(self, image_id: str) -> dict[str, Any] | None:
        item = self.client.get_item(
            TableName=self.table, Key={s.PK: _s(image_pk(image_id)), s.SK: _s(s.IMAGE_SK)}
        ).get("Item")
        return doc_of(item) if item else None

    def image_records(self, image_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        ids = list(dict.fromkeys(image_ids))
        for i in range(0, len(ids), 100):
            keys = [{s.PK: _s(image_pk(x)), s.SK: _s(s.IMAGE_SK)} for x in ids[i : i + 100]]
            request: dict[str, Any] = {self.table: {"Keys": keys}}
            while request:
                resp = self.client.batch_get_item(RequestItems=request)
                for item in resp.get("Responses", {}).get(self.table, []):
                    doc = doc_of(item)
                    out[doc["image_id"]] = doc
                request = resp.get("UnprocessedKeys") or {}
        return out

    def decisions_of_image(self, image_id: str) -> list[dict[str, Any]]:
        q = IndexQuery(index=s.GSI_BY_IMAGE, partitions=(image_pk(image_id),))
        return [doc_of(i) for i in self.all_items(q)]

    def cluster_member_ids(self, cluster_id: str) -> list[str]:
        q = IndexQuery(index=s.GSI_BY_CLUSTER, partitions=(f"CLUSTER#{cluster_id}",))
        return [i[f"{s.GSI_BY_CLUSTER}SK"]["S"] for i in self.all_items(q)]

    def latest_image_of_camera(self, camera_id: str) -> dict[str, Any] | None:
        resp = self.client.query(
            TableName=self.table,
            IndexName=s.GSI_BY_CAMERA,
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": f"{s.GSI_BY_CAMERA}PK"},
            ExpressionAttributeValues={":pk": _s(f"CAM#{camera_id}")},
            ScanIndexForward=False,
            Limit=1,
        )
        items = resp.get("Items", [])
        return doc_of(items[0]) if items else None

    def days_with_counters(self) -> set[str]:
        """The days of the cell that have counters: the set the ledger adds a day to before it
        commits that day's first counter (a superset, never short of a day)."""
        resp = self.client.get_item(
            TableName=self.table,
            Key={s.PK: _s(days_pk(self.cell)), s.SK: _s("DAYS")},
            ProjectionExpression="#d",
            ExpressionAttributeNames={"#d": "days"},
        )
        return set((resp.get("Item") or {}).get("days", {}).get("SS", []))

    def aggregates(self, days: Sequence[str], dimensions: Sequence[str] = ()) -> list[dict[str, Any]]:
        """Counters of the given days, shards summed (one query per day and dimension; all
        dimensions when empty).
        A window of more than a couple of queries first reads which days have counters (one
        GetItem) and skips the others: a quiet camera's 28 days, or a window before the cell's
        first image, cost a request, not 84."""
        out: list[dict[str, Any]] = []
        prefixes: Sequence[str | None] = [f"{d}#" for d in dimensions] or [None]
        if len(days) * len(prefixes) > 2:
            known = self.days_with_counters()
            days = [d for d in days if d in known]
        for day in days:
            for prefix in prefixes:
                q = IndexQuery(index=None, partitions=(aggregate_pk(self.cell, day),))
                kwargs_q = q
                if prefix is not None:
                    # begins_with on the sort key: "<dimension>#" .. "<dimension>#\uffff"
                    kwargs_q = IndexQuery(
                        index=None, partitions=q.partitions, sk_from=prefix, sk_to=prefix + "\uffff"
                    )
                out.extend(counter_row(item) for item in self.all_items(kwargs_q))
        return sum_counters(out)  # one row per (day, dimension, value): the shards summed
