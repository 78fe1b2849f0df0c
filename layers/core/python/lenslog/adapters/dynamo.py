"""A cell's ledger in its DynamoDB table: image records, the decision log, pending items and the
aggregate counters, written together in one transaction so that a replayed event can neither
create a second record nor count twice. See ``lenslog.adapters.schema`` for the layout."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from lenslog.adapters import schema as s
from lenslog.domain.aggregates import Increment
from lenslog.domain.models import Decision
from lenslog.ports import AlreadyDecided, ImageExists, IndexChanged


def decision_pk(bucket: str, key: str) -> str:
    return f"OBJ#{bucket}/{key}"


def decision_sk(version: str, reevaluated: bool = False) -> str:
    return f"V#{version}" + ("#R" if reevaluated else "")


def image_pk(image_id: str) -> str:
    return f"IMG#{image_id}"


def pending_pk(bucket: str, key: str) -> str:
    return f"PENDING#{bucket}/{key}"


def aggregate_pk(cell: str, day: str) -> str:
    return f"AGG#{cell}#{day}"


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
    if d.metadata.camera_id:
        item["camera_id"] = _str(d.metadata.camera_id)
    item.update(_expiry(retention_days, decided))
    return item


def image_item(d: Decision, retention_days: int | None = None) -> dict[str, Any]:
    assert d.image_id, "an image record needs an image id"
    md = d.metadata
    captured = md.captured_at.astimezone(UTC).isoformat() if md.captured_at else ""
    item: dict[str, Any] = {
        s.PK: _str(image_pk(d.image_id)),
        s.SK: _str("IMAGE"),
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
    item.update(_expiry(retention_days, d.decided_at))
    return item


def _merge(increments: Sequence[Increment]) -> dict[tuple[str, str, str], int]:
    merged: dict[tuple[str, str, str], int] = defaultdict(int)
    for inc in increments:
        merged[(inc.day.isoformat(), inc.dimension, inc.value)] += inc.delta
    return {k: v for k, v in merged.items() if v}


class DynamoLedger:
    def __init__(self, client: Any, table: str, cell: str):
        self.client = client
        self.table = table
        self.cell = cell

    # reads ---------------------------------------------------------------------------------------
    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        resp = self.client.get_item(
            TableName=self.table, Key={s.PK: _str(pk), s.SK: _str(sk)}, ConsistentRead=True
        )
        return resp.get("Item")

    def get_decision(self, bucket: str, key: str, version: str) -> dict[str, Any] | None:
        """The latest decision on this object version (its re-evaluation, if any), as a dict."""
        for sk in (decision_sk(version, True), decision_sk(version)):
            item = self._get(decision_pk(bucket, key), sk)
            if item:
                doc: dict[str, Any] = json.loads(item["doc"]["S"])
                return doc
        return None

    def get_image(self, image_id: str) -> dict[str, Any] | None:
        item = self._get(image_pk(image_id), "IMAGE")
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
    ) -> None:
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
        for (day, dim, value), delta in _merge(increments).items():
            actions.append(
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": {s.PK: _str(aggregate_pk(self.cell, day)), s.SK: _str(f"{dim}#{value}")},
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
                }
            )
        index_start = len(actions)
        actions.extend(dict(a) for a in index_actions)  # near-duplicate index entries
        try:
            self.client.transact_write_items(TransactItems=actions)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            codes = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            failed = {i for i, c in enumerate(codes) if c == "ConditionalCheckFailed"}
            if failed & {0, resolve_index}:
                raise AlreadyDecided(f"{decision.bucket}/{decision.key}") from exc
            if image_index in failed:
                raise ImageExists(decision.image_id or "") from exc
            if any(i >= index_start for i in failed):
                raise IndexChanged(decision.image_id or "") from exc
            raise

    def annotate_decision(self, bucket: str, key: str, version: str, attributes: Mapping[str, Any]) -> None:
        names = {f"#a{i}": k for i, k in enumerate(attributes)}
        values = {f":v{i}": _str(json.dumps(v)) for i, v in enumerate(attributes.values())}
        self.client.update_item(
            TableName=self.table,
            Key={s.PK: _str(decision_pk(bucket, key)), s.SK: _str(decision_sk(version))},
            UpdateExpression="SET " + ", ".join(f"{n} = :v{i}" for i, n in enumerate(names)),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    # aggregates ----------------------------------------------------------------------------------
    def aggregates(self, days: Sequence[str]) -> list[dict[str, Any]]:
        """Every counter of the given days: one query per day, whatever the number of images."""
        out: list[dict[str, Any]] = []
        for day in days:
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "KeyConditionExpression": "PK = :pk",
                "ExpressionAttributeValues": {":pk": _str(aggregate_pk(self.cell, day))},
            }
            while True:
                resp = self.client.query(**kwargs)
                for item in resp.get("Items", []):
                    out.append(
                        {
                            "day": item["day"]["S"],
                            "dimension": item["dimension"]["S"],
                            "value": item["value"]["S"],
                            "count": int(item["count"]["N"]),
                        }
                    )
                if "LastEvaluatedKey" not in resp:
                    break
                kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        return out
