"""A cell's ledger in its DynamoDB table: image records, the decision log, pending items and the
aggregate counters, written together in one transaction so that a replayed event can neither
create a second record nor count twice. See ``lenslog.adapters.schema`` for the layout.

Counters are sharded: every (day, dimension, value) is ``shards`` items in the day's partition,
and one decision's increments all go to the shard its image id (or, without one, its object key)
hashes to. The shard is a function of the decision alone, so a replay hits the items the first
delivery hit (and is refused by the same transaction's conditional write), an erasure takes an
image out of the shard that counted it, and every dimension, whoever adds it, is sharded alike.
Readers sum the shards (``aggregates``); a report still costs one query per day.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from lenslog.adapters import schema as s
from lenslog.adapters.schema import image_pk
from lenslog.domain import layout
from lenslog.domain.aggregates import Increment
from lenslog.domain.consent import ConsentRecord
from lenslog.domain.models import Decision
from lenslog.ports import AlreadyDecided, ImageExists, IndexChanged


def decision_pk(bucket: str, key: str) -> str:
    return f"OBJ#{bucket}/{key}"


def decision_sk(version: str, reevaluated: bool = False) -> str:
    return f"V#{version}" + ("#R" if reevaluated else "")


def pending_pk(bucket: str, key: str) -> str:
    return f"PENDING#{bucket}/{key}"


def origin_pk(origin: str) -> str:
    return f"ORIGIN#{origin}"


def consent_pk(consent_id: str) -> str:
    return f"CONSENT#{consent_id}"


def aggregate_pk(cell: str, day: str) -> str:
    return f"AGG#{cell}#{day}"


# Counter shards: at 1,000 images/s a counter every image bumps (``images#all``) takes 1,000
# transactional updates a second, 2 WCU each; split over 8 items that is 250 WCU/s an item, a
# quarter of what DynamoDB allows one item. ``counters.shards`` in the config (the default here).
COUNTER_SHARDS = 8
# Between the value and the shard number: a character no counted value holds (metadata text
# refuses control characters), so that no (value, shard) pair can name another's item.
SHARD_SEPARATOR = "\x1f"


def counter_shard(shard_key: str, shards: int) -> int:
    """The shard of every counter a decision with this key bumps (deterministic)."""
    if shards <= 1:
        return 0
    return int.from_bytes(hashlib.sha256(shard_key.encode()).digest()[:4], "big") % shards


def counter_sk(dimension: str, value: str, shard: int) -> str:
    """``<dimension>#<value>`` for shard 0 (the layout of unsharded counters, so they keep being
    read), ``<dimension>#<value>\x1f<shard>`` for the others: a ``<dimension>#`` prefix query
    still finds every shard of a dimension."""
    base = f"{dimension}#{value}"
    return base if shard == 0 else f"{base}{SHARD_SEPARATOR}{shard}"


def shard_key_of(decision: Decision) -> str:
    """What a decision's counters are sharded by: the image id (every decision on the same bytes,
    their erasure included, hits the same shard), else the object."""
    return decision.image_id or f"{decision.bucket}/{decision.key}"


def sum_counters(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Counter rows (``day``, ``dimension``, ``value``, ``count``; one per shard) summed into one
    row per (day, dimension, value), in the order first seen."""
    total: dict[tuple[str, str, str], int] = {}
    for r in rows:
        key = (r["day"], r["dimension"], r["value"])
        total[key] = total.get(key, 0) + int(r["count"])
    return [{"day": d, "dimension": dim, "value": v, "count": c} for (d, dim, v), c in total.items()]


def counter_row(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "day": item["day"]["S"],
        "dimension": item["dimension"]["S"],
        "value": item["value"]["S"],
        "count": int(item["count"]["N"]),
    }


def version_of(decision: Decision) -> str:
    return decision.version_id or decision.etag or "unversioned"


def _str(v: str) -> dict[str, str]:
    return {"S": v}


def _expiry(days: int | None, now: datetime) -> dict[str, dict[str, str]]:
    if not days:
        return {}
    return {s.TTL_ATTRIBUTE: {"N": str(int((now + timedelta(days=days)).timestamp()))}}


def decision_item(d: Decision, retention_days: int | None = None) -> dict[str, Any]:
    decided = d.decided_at.astimezone(UTC)
    obj = f"{d.bucket}/{d.key}"
    item: dict[str, Any] = {
        s.PK: _str(decision_pk(d.bucket, d.key)),
        s.SK: _str(decision_sk(version_of(d), d.reevaluated)),
        "kind": _str("decision"),
        "status": _str(str(d.status)),
        "decided_at": _str(decided.isoformat()),
        "doc": _str(json.dumps(d.to_json_dict(), sort_keys=True)),
        f"{s.GSI_BY_DAY}PK": _str(f"DAY#{decided.date().isoformat()}"),
        f"{s.GSI_BY_DAY}SK": _str(f"{decided.isoformat()}#{obj}"),
    }
    if d.reasons:
        item["reasons"] = {"L": [_str(r) for r in d.reasons]}
    if d.image_id:
        item["image_id"] = _str(d.image_id)
        item[f"{s.GSI_BY_IMAGE}PK"] = _str(image_pk(d.image_id))
        item[f"{s.GSI_BY_IMAGE}SK"] = _str(f"{decided.isoformat()}#{obj}")
    for attr, value in (
        ("camera_id", d.metadata.camera_id),
        ("source_id", d.metadata.source_id),
        ("consent_id", d.metadata.consent_id),
    ):
        if value:
            item[attr] = _str(value)
    item.update(_expiry(retention_days, decided))
    return item


def image_item(d: Decision, retention_days: int | None = None) -> dict[str, Any]:
    assert d.image_id, "an image record needs an image id"
    md = d.metadata
    captured = md.captured_at.astimezone(UTC).isoformat() if md.captured_at else ""
    item: dict[str, Any] = {
        s.PK: _str(image_pk(d.image_id)),
        s.SK: _str(s.IMAGE_SK),
        "kind": _str("image"),
        "status": _str(str(d.status)),
        "first_seen": _str(d.decided_at.astimezone(UTC).isoformat()),
        "doc": _str(json.dumps(d.to_json_dict(), sort_keys=True)),
        f"{s.GSI_BY_STATUS}PK": _str(f"STATUS#{d.status}"),
        f"{s.GSI_BY_STATUS}SK": _str(f"{captured or d.decided_at.isoformat()}#{d.image_id}"),
    }
    if md.camera_id:
        item["camera_id"] = _str(md.camera_id)
        item[f"{s.GSI_BY_CAMERA}PK"] = _str(f"CAM#{md.camera_id}")
        item[f"{s.GSI_BY_CAMERA}SK"] = _str(f"{captured}#{d.image_id}")
    for attr, value in (
        ("captured_at", captured),
        ("source_type", md.source_type),
        ("source_id", md.source_id),
        ("split", d.split),
        ("cluster_id", d.cluster_id),
        ("data_region", d.data_region),
        ("consent_id", md.consent_id),
    ):
        if value:
            item[attr] = _str(value)
    if md.classes:
        item["classes"] = {"SS": sorted(set(md.classes))}
    if d.hashes and d.hashes.layouts:
        item[s.LAYOUTS] = _str(layout.pack([layout.decode(text) for text in d.hashes.layouts]))
    if d.cluster_id and d.cluster_id != d.image_id:
        item[f"{s.GSI_BY_CLUSTER}PK"] = _str(f"CLUSTER#{d.cluster_id}")
        item[f"{s.GSI_BY_CLUSTER}SK"] = _str(d.image_id)
    item.update(_expiry(retention_days, d.decided_at))
    return item


def _cancellation_codes(exc: ClientError) -> list[str | None]:
    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return []
    return [r.get("Code") for r in exc.response.get("CancellationReasons", [])]


def _merge(increments: Sequence[Increment]) -> dict[tuple[str, str, str], int]:
    merged: dict[tuple[str, str, str], int] = defaultdict(int)
    for inc in increments:
        merged[(inc.day.isoformat(), inc.dimension, inc.value)] += inc.delta
    return {k: v for k, v in merged.items() if v}


def days_pk(cell: str) -> str:
    return f"AGGDAYS#{cell}"


TRANSACTION_ATTEMPTS = 5


class DynamoLedger:
    def __init__(self, client: Any, table: str, cell: str, shards: int = COUNTER_SHARDS):
        self.client = client
        self.table = table
        self.cell = cell
        self.shards = max(1, shards)
        self._known_days: set[str] = set()

    # reads ---------------------------------------------------------------------------------------
    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        resp = self.client.get_item(
            TableName=self.table, Key={s.PK: _str(pk), s.SK: _str(sk)}, ConsistentRead=True
        )
        return resp.get("Item")

    def latest_decision(self, bucket: str, key: str, version: str) -> dict[str, Any] | None:
        """The latest decision on this object version (its re-evaluation, if any), as a dict, in
        one strongly consistent query of the object's partition."""
        latest, first = decision_sk(version, True), decision_sk(version)
        resp = self.client.query(
            TableName=self.table,
            KeyConditionExpression="#pk = :pk AND #sk BETWEEN :first AND :latest",
            ExpressionAttributeNames={"#pk": s.PK, "#sk": s.SK},
            ExpressionAttributeValues={
                ":pk": _str(decision_pk(bucket, key)),
                ":first": _str(first),
                ":latest": _str(latest),
            },
            ConsistentRead=True,
        )
        found = {item[s.SK]["S"]: item for item in resp.get("Items", [])}
        for sk in (latest, first):  # the range may hold other versions that share the prefix
            if sk in found:
                doc: dict[str, Any] = json.loads(found[sk]["doc"]["S"])
                return doc
        return None

    def has_decisions(self, objects: Sequence[tuple[str, str, str]]) -> list[bool]:
        """For each (bucket, key, version): is a decision on it, or on its relocated copy, recorded
        in this cell? Batched key reads (100 keys a request, keys only), whatever the partitions
        hold: the cheap probe ``lenslog ingest`` makes before it reads a decision whole."""
        keys: list[tuple[str, str]] = []
        for bucket, key, version in objects:
            keys += [
                (decision_pk(bucket, key), decision_sk(version)),
                (origin_pk(f"{bucket}/{key}@{version}"), "ORIGIN"),
            ]
        found: set[tuple[str, str]] = set()
        for start in range(0, len(keys), 100):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [
                        {s.PK: _str(pk), s.SK: _str(sk)}
                        for pk, sk in dict.fromkeys(keys[start : start + 100])
                    ],
                    "ProjectionExpression": "#pk, #sk",
                    "ExpressionAttributeNames": {"#pk": s.PK, "#sk": s.SK},
                    "ConsistentRead": True,
                }
            }
            while request:
                resp = self.client.batch_get_item(RequestItems=request)
                found.update(
                    (i[s.PK]["S"], i[s.SK]["S"]) for i in resp.get("Responses", {}).get(self.table, [])
                )
                request = resp.get("UnprocessedKeys") or {}
        return [
            (decision_pk(b, k), decision_sk(v)) in found or (origin_pk(f"{b}/{k}@{v}"), "ORIGIN") in found
            for b, k, v in objects
        ]

    def get_decision(self, bucket: str, key: str, version: str) -> dict[str, Any] | None:
        """``latest_decision``, or for an object relocated here from another cell, the decision on
        its relocated copy (one read more; the ingest of a landing object never needs it)."""
        decision = self.latest_decision(bucket, key, version)
        if decision is not None:
            return decision
        pointer = self._get(origin_pk(f"{bucket}/{key}@{version}"), "ORIGIN")
        if pointer:
            return self.latest_decision(pointer["bucket"]["S"], pointer["key"]["S"], pointer["version"]["S"])
        return None

    def get_consent(self, consent_id: str) -> ConsentRecord | None:
        item = self._get(consent_pk(consent_id), "CONSENT")
        if not item:
            return None
        expires = item.get("expires", {}).get("S")
        return ConsentRecord(
            consent_id=consent_id,
            source=item["source"]["S"],
            scope=tuple(item.get("scope", {}).get("SS", [])),
            expires=date.fromisoformat(expires) if expires else None,
            revoked=item.get("revoked", {}).get("BOOL", False),
        )

    def put_consent(self, record: ConsentRecord) -> None:
        item: dict[str, Any] = {
            s.PK: _str(consent_pk(record.consent_id)),
            s.SK: _str("CONSENT"),
            "kind": _str("consent"),
            "source": _str(record.source),
            "revoked": {"BOOL": record.revoked},
        }
        if record.scope:
            item["scope"] = {"SS": sorted(record.scope)}
        if record.expires:
            item["expires"] = _str(record.expires.isoformat())
        self.client.put_item(TableName=self.table, Item=item)

    def get_image(self, image_id: str) -> dict[str, Any] | None:
        item = self._get(image_pk(image_id), s.IMAGE_SK)
        if not item:
            return None
        doc: dict[str, Any] = json.loads(item["doc"]["S"])
        return doc

    def get_pending(self, bucket: str, key: str) -> dict[str, Any] | None:
        item = self._get(pending_pk(bucket, key), "PENDING")
        if not item:
            return None
        doc: dict[str, Any] = json.loads(item["doc"]["S"])
        return doc

    # the one write path ----------------------------------------------------------------------------
    def commit(
        self,
        *,
        decision: Decision,
        increments: Sequence[Increment] = (),
        claim_image: bool = False,
        pending: Mapping[str, Any] | None = None,
        resolve_pending: tuple[str, str] | None = None,
        retention_days: int | None = None,
        index_actions: Sequence[Mapping[str, Any]] = (),
        extra_actions: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """``extra_actions``: unconditional puts that belong to the decision (label pairing)."""
        actions: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table,
                    "Item": decision_item(decision, retention_days),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            }
        ]
        image_index = None
        if claim_image:
            image_index = len(actions)
            actions.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": image_item(decision, retention_days),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                }
            )
        if pending is not None:
            actions.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": {
                            s.PK: _str(pending_pk(decision.bucket, decision.key)),
                            s.SK: _str("PENDING"),
                            "kind": _str("pending"),
                            "doc": _str(json.dumps(dict(pending), sort_keys=True)),
                        },
                    }
                }
            )
        if decision.relocated_from:
            actions.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": {
                            s.PK: _str(origin_pk(decision.relocated_from)),
                            s.SK: _str("ORIGIN"),
                            "kind": _str("origin"),
                            "bucket": _str(decision.bucket),
                            "key": _str(decision.key),
                            "version": _str(version_of(decision)),
                        },
                    }
                }
            )
        resolve_index = None
        if resolve_pending is not None:
            resolve_index = len(actions)
            actions.append(
                {
                    "Delete": {
                        "TableName": self.table,
                        "Key": {s.PK: _str(pending_pk(*resolve_pending)), s.SK: _str("PENDING")},
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                }
            )
        index_start = len(actions)
        actions.extend(dict(a) for a in index_actions)  # near-duplicate index entries
        actions.extend(dict(a) for a in extra_actions)
        shard = counter_shard(shard_key_of(decision), self.shards)
        actions.extend({"Update": u} for u in self._counter_updates(increments, shard))
        self.note_days({inc.day.isoformat() for inc in increments})
        for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
            try:
                self.client.transact_write_items(TransactItems=actions)
                return
            except ClientError as exc:
                codes = _cancellation_codes(exc)
                if "TransactionConflict" in codes and attempt < TRANSACTION_ATTEMPTS:
                    # Another transaction holds a shared counter item: back off and try again.
                    time.sleep(random.uniform(0, 0.05 * 2**attempt))
                    continue
                failed = {i for i, c in enumerate(codes) if c == "ConditionalCheckFailed"}
                if failed & {0, resolve_index}:
                    raise AlreadyDecided(f"{decision.bucket}/{decision.key}") from exc
                if image_index in failed:
                    raise ImageExists(decision.image_id or "") from exc
                if any(index_start <= i < index_start + len(index_actions) for i in failed):
                    raise IndexChanged(decision.image_id or "") from exc
                raise

    def _counter_updates(self, increments: Sequence[Increment], shard: int) -> list[dict[str, Any]]:
        return [
            {
                "TableName": self.table,
                "Key": {s.PK: _str(aggregate_pk(self.cell, day)), s.SK: _str(counter_sk(dim, value, shard))},
                "UpdateExpression": "ADD #c :d SET kind = :k, dimension = :dim, #v = :v, #day = :day",
                "ExpressionAttributeNames": {"#c": "count", "#v": "value", "#day": "day"},
                "ExpressionAttributeValues": {
                    ":d": {"N": str(delta)},
                    ":k": _str("aggregate"),
                    ":dim": _str(dim),
                    ":v": _str(value),
                    ":day": _str(day),
                },
            }
            for (day, dim, value), delta in _merge(increments).items()
        ]

    def transact_with_counters(
        self, actions: Sequence[Mapping[str, Any]], increments: Sequence[Increment], shard_key: str
    ) -> None:
        """``actions`` and the counters' increments in one transaction (a late label file's change
        to an image record), in the shard of ``shard_key`` (the image id: where its other counts
        are, so an erasure lowers them together); a failed condition raises ``ClientError`` for
        the caller to re-read."""
        shard = counter_shard(shard_key, self.shards)
        items = [dict(a) for a in actions] + [{"Update": u} for u in self._counter_updates(increments, shard)]
        self.note_days({inc.day.isoformat() for inc in increments})
        for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
            try:
                self.client.transact_write_items(TransactItems=items)
                return
            except ClientError as exc:
                if "TransactionConflict" in _cancellation_codes(exc) and attempt < TRANSACTION_ATTEMPTS:
                    time.sleep(random.uniform(0, 0.05 * 2**attempt))
                    continue
                raise

    def note_days(self, days: set[str]) -> None:
        """Add days to the cell's set of days with counters (an idempotent set ADD, written once
        per day per container), so a report knows which day partitions to read."""
        new = days - self._known_days
        if not new:
            return
        self.client.update_item(
            TableName=self.table,
            Key={s.PK: _str(days_pk(self.cell)), s.SK: _str("DAYS")},
            UpdateExpression="ADD #d :d SET kind = :k",
            ExpressionAttributeNames={"#d": "days"},
            ExpressionAttributeValues={":d": {"SS": sorted(new)}, ":k": _str("aggregate_days")},
        )
        self._known_days |= new

    def aggregate_days(self) -> list[str]:
        item = self._get(days_pk(self.cell), "DAYS")
        return sorted(item["days"]["SS"]) if item and "days" in item else []

    def recent_decisions(self, limit: int, until: date, horizon_days: int = 90) -> list[Decision]:
        """The latest decisions up to ``until`` (newest first), one day partition at a time."""
        out: list[Decision] = []
        for back in range(horizon_days):
            day = (until - timedelta(days=back)).isoformat()
            for item in self._pages(
                "query",
                IndexName=s.GSI_BY_DAY,
                KeyConditionExpression=f"{s.GSI_BY_DAY}PK = :pk",
                FilterExpression="kind = :k",
                ExpressionAttributeValues={":pk": _str(f"DAY#{day}"), ":k": _str("decision")},
                ScanIndexForward=False,
            ):
                out.append(Decision.model_validate_json(item["doc"]["S"]))
                if len(out) >= limit:
                    return out
        return out

    def bump(self, increments: Sequence[Increment], shard_key: str | None = None) -> int:
        """Counters outside any transaction (anonymous operational counts, erasure's decrements),
        in the shard of ``shard_key`` (an erasure passes the decision's ``shard_key_of``, so it
        lowers the items that counted it; None: any shard). A counter shard a decrement brings to
        zero is deleted, so that no item is left naming a value that no longer counts anything
        (the delete is conditional: an increment in between wins). A shard below zero (a decrement
        in another shard than its increment: the shard count changed since) is kept, so the sum
        stays right; ``sweep_counters`` removes values whose shards sum to zero.
        Returns how many counter items were deleted."""
        shard = (
            counter_shard(shard_key, self.shards) if shard_key is not None else random.randrange(self.shards)
        )
        deleted = 0
        for update in self._counter_updates(increments, shard):
            resp = self.client.update_item(**update, ReturnValues="UPDATED_NEW")
            if int(resp.get("Attributes", {}).get("count", {}).get("N", "1")) == 0:
                deleted += self.delete_counter(update["Key"], only_if_count=0)
        return deleted

    def delete_counter(
        self, key: Mapping[str, Any], only_if_zero: bool = True, only_if_count: int | None = None
    ) -> bool:
        """Delete one counter item (by its own key, whatever shard it is); ``only_if_zero``: only
        if its count is still zero or less; ``only_if_count``: only if it still holds that count."""
        kwargs: dict[str, Any] = {"TableName": self.table, "Key": dict(key)}
        if only_if_count is not None:
            kwargs.update(
                ConditionExpression="#c = :seen",
                ExpressionAttributeNames={"#c": "count"},
                ExpressionAttributeValues={":seen": {"N": str(only_if_count)}},
            )
        elif only_if_zero:
            kwargs.update(
                ConditionExpression="#c <= :zero",
                ExpressionAttributeNames={"#c": "count"},
                ExpressionAttributeValues={":zero": {"N": "0"}},
            )
        try:
            self.client.delete_item(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def counter_items(self, days: Sequence[str]) -> Iterator[dict[str, Any]]:
        """Every counter item of the given days, raw (whatever their sort keys: one item per
        (day, dimension, value) today, several if the counters are sharded)."""
        for day in days:
            yield from self._pages(
                "query",
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": _str(aggregate_pk(self.cell, day))},
                ConsistentRead=True,
            )

    def sweep_counters(self, days: Sequence[str], names: Callable[[str, str], bool]) -> int:
        """Delete the counter items of these days whose (dimension, value) ``names`` says names an
        erased subject, or whose shards together count nothing (zero or less), selected by their
        ``dimension`` and ``value`` attributes, not by one key, so every shard goes. A shard is
        deleted for counting nothing only if it still holds the count read (an increment in
        between wins). Returns how many items went."""
        removed = 0
        groups: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        for item in self.counter_items(days):
            groups[(item["day"]["S"], item["dimension"]["S"], item["value"]["S"])].append(item)
        for (_day, dimension, value), items in groups.items():
            erased = names(dimension, value)
            if not erased and sum(int(i["count"]["N"]) for i in items) > 0:
                continue
            for item in items:
                key = {s.PK: item[s.PK], s.SK: item[s.SK]}
                if erased:
                    removed += self.delete_counter(key, only_if_zero=False)
                else:
                    removed += self.delete_counter(key, only_if_count=int(item["count"]["N"]))
        return removed

    # aggregates ----------------------------------------------------------------------------------
    def aggregates(self, days: Sequence[str], summed: bool = True) -> list[dict[str, Any]]:
        """Every counter of the given days, its shards summed: one query per day, whatever the
        number of images (the items read are days x values x shards). ``summed=False``: one row
        per counter item read (the report sums them itself and counts the items it read)."""
        rows = [
            counter_row(item)
            for day in days
            for item in self._pages(
                "query",
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": _str(aggregate_pk(self.cell, day))},
            )
        ]
        return sum_counters(rows) if summed else rows

    # erasure ---------------------------------------------------------------------------------------
    def _pages(self, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paginated Query or Scan."""
        kwargs["TableName"] = self.table
        while True:
            resp = getattr(self.client, operation)(**kwargs)
            yield from resp.get("Items", [])
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def items_with(self, attribute: str, value: str) -> list[dict[str, Any]]:
        """Image records and decisions whose ``attribute`` equals ``value`` (a filtered scan)."""
        if attribute not in ("camera_id", "source_id", "consent_id", "image_id", "cluster_id"):
            raise ValueError(f"cannot select by {attribute}")
        return list(
            self._pages(
                "scan",
                FilterExpression="#a = :v AND (kind = :i OR kind = :d)",
                ExpressionAttributeNames={"#a": attribute},
                ExpressionAttributeValues={":v": _str(value), ":i": _str("image"), ":d": _str("decision")},
            )
        )

    def decisions_of_image(self, image_id: str) -> list[dict[str, Any]]:
        return list(
            self._pages(
                "query",
                IndexName=s.GSI_BY_IMAGE,
                KeyConditionExpression=f"{s.GSI_BY_IMAGE}PK = :pk",
                ExpressionAttributeValues={":pk": _str(image_pk(image_id))},
            )
        )

    def get_item(self, pk: str, sk: str) -> dict[str, Any] | None:
        return self._get(pk, sk)

    def delete_item(self, pk: str, sk: str) -> bool:
        resp = self.client.delete_item(
            TableName=self.table, Key={s.PK: _str(pk), s.SK: _str(sk)}, ReturnValues="ALL_OLD"
        )
        return "Attributes" in resp

    def set_cluster(self, image_id: str, cluster_id: str) -> None:
        item = self._get(image_pk(image_id), s.IMAGE_SK)
        if not item:
            return
        doc = json.loads(item["doc"]["S"])
        doc["cluster_id"] = cluster_id
        self.client.update_item(
            TableName=self.table,
            Key={s.PK: _str(image_pk(image_id)), s.SK: _str(s.IMAGE_SK)},
            UpdateExpression="SET cluster_id = :c, doc = :d",
            ExpressionAttributeValues={":c": _str(cluster_id), ":d": _str(json.dumps(doc, sort_keys=True))},
        )

    def put_tombstone(self, tombstone: Mapping[str, Any]) -> None:
        when = str(tombstone["erased_at"])
        self.client.put_item(
            TableName=self.table,
            Item={
                s.PK: _str(f"ERASURE#{tombstone['erasure_id']}"),
                s.SK: _str("TOMBSTONE"),
                "kind": _str("erasure"),
                "doc": _str(json.dumps(dict(tombstone), sort_keys=True, default=str)),
                f"{s.GSI_BY_DAY}PK": _str(f"DAY#{when[:10]}"),
                f"{s.GSI_BY_DAY}SK": _str(f"{when}#erasure#{tombstone['erasure_id']}"),
            },
        )

    # reconciliation --------------------------------------------------------------------------------
    def scan_items(self) -> Iterator[dict[str, Any]]:
        """Every item of the table (strongly consistent, paginated): for ``lenslog verify`` only;
        its cost grows with the table, which is why nothing on the ingest path calls it."""
        for page in self.client.get_paginator("scan").paginate(TableName=self.table, ConsistentRead=True):
            yield from page.get("Items", [])
