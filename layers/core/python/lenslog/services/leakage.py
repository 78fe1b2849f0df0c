"""The leakage check: no near-duplicate pair may straddle train/val/test.

It reads the cell's dataset records (accepted and linked images, by the status index), finds every
pair the match rule would link (through the same bands as the index, so it costs n x bucket size),
and counts the pairs whose images sit in different splits, and the cluster members whose split
differs from their root's. Both must be 0. The result is stored as ``LEAKAGE#latest`` / ``LEAKAGE``
in the cell's table, where the audit report reads it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from lenslog.adapters import schema as s
from lenslog.config import Config, NearDuplicateConfig
from lenslog.domain import hashing, neardup
from lenslog.domain.aggregates import DATASET_STATUSES

LEAKAGE_PK = "LEAKAGE#latest"
LEAKAGE_SK = "LEAKAGE"
MAX_EXAMPLES = 20


def dataset_records(ledger: Any) -> list[dict[str, Any]]:
    """Every image record in the dataset (accepted and linked near duplicates), as dicts."""
    out: list[dict[str, Any]] = []
    for status in DATASET_STATUSES:
        kwargs: dict[str, Any] = {
            "TableName": ledger.table,
            "IndexName": s.GSI_BY_STATUS,
            "KeyConditionExpression": "GSI4PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"STATUS#{status}"}},
        }
        while True:
            resp = ledger.client.query(**kwargs)
            out.extend(json.loads(item["doc"]["S"]) for item in resp.get("Items", []))
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
    return out


def entry_of(record: dict[str, Any]) -> neardup.Entry | None:
    hashes = record.get("hashes") or {}
    flags = (record.get("quality") or {}).get("flags") or []
    if not hashes.get("phash") or neardup.LOW_INFORMATION in flags:
        return None
    md = record.get("metadata") or {}
    at = md.get("captured_at")
    return neardup.Entry(
        image_id=record["image_id"],
        phash=hashing.from_hex(hashes["phash"]),
        cluster_id=record.get("cluster_id"),
        split=record.get("split"),
        camera_id=md.get("camera_id"),
        captured_at=neardup.epoch_of(datetime.fromisoformat(at)) if at else None,
        dark=neardup.DARK in flags,
    )


def prints_of(record: dict[str, Any]) -> neardup.Prints:
    """The stored hashes of a record as the match rule reads them (no pixels)."""
    hashes = record.get("hashes") or {}
    check = hashes.get("phash_check")
    return neardup.Prints(
        variants=(hashing.from_hex(hashes["phash"]),),
        checks=(hashing.from_hex(check),) if check else (),
        views=tuple(hashing.from_hex(h) for h in hashes.get("crop_phashes") or ()),
        view_checks=tuple(hashing.from_hex(h) for h in hashes.get("crop_checks") or ()),
    )


def evaluate(records: list[dict[str, Any]], cfg: NearDuplicateConfig) -> dict[str, Any]:
    """The leakage figures of a set of records (pure: no table access)."""
    entries = [e for e in (entry_of(r) for r in records) if e is not None]
    split_of = {r["image_id"]: r.get("split") for r in records}
    prints = {r["image_id"]: prints_of(r) for r in records if (r.get("hashes") or {}).get("phash")}
    pairs = neardup.near_pairs(
        entries,
        cfg.bands,
        cfg.max_distance,
        cfg.burst_seconds,
        prints if cfg.crop_views else {k: replace(p, views=(), view_checks=()) for k, p in prints.items()},
        cfg.check_distance,
        cfg.crop_check_distance,
    )
    crossing = neardup.crossing_pairs(pairs, split_of)
    roots = {r["image_id"]: r.get("split") for r in records if r.get("cluster_id") in (None, r["image_id"])}
    strays = sorted(
        r["image_id"]
        for r in records
        if r.get("cluster_id") in roots and r.get("split") != roots[r["cluster_id"]]
    )
    clusters = {r.get("cluster_id") or r["image_id"] for r in records}
    return {
        "images": len(records),
        "clusters": len(clusters),
        "linked": sum(1 for r in records if r.get("duplicate_of")),
        "near_pairs": len(pairs),
        "crossing_pairs": len(crossing),
        "cluster_split_mismatches": len(strays),
        "examples": [list(p) for p in crossing[:MAX_EXAMPLES]],
        "passed": not crossing and not strays,
        "rule": {"bands": cfg.bands, "max_distance": cfg.max_distance, "burst_seconds": cfg.burst_seconds},
    }


def check(ledger: Any, config: Config | None = None) -> dict[str, Any]:
    """Count near-duplicate pairs crossing splits in the ledger's cell, store and return the result."""
    if config is None:
        from lenslog.config import load_config

        config = load_config()
    result = evaluate(dataset_records(ledger), config.near_duplicates)
    result["checked_at"] = datetime.now(UTC).isoformat()
    result["cell"] = ledger.cell
    ledger.client.put_item(
        TableName=ledger.table,
        Item={
            s.PK: {"S": LEAKAGE_PK},
            s.SK: {"S": LEAKAGE_SK},
            "kind": {"S": "leakage"},
            "crossing_pairs": {"N": str(result["crossing_pairs"])},
            "checked_at": {"S": result["checked_at"]},
            "doc": {"S": json.dumps(result, sort_keys=True)},
        },
    )
    return result


def latest(ledger: Any) -> dict[str, Any] | None:
    """The stored result of the last check (what the audit report reads)."""
    item = ledger.client.get_item(
        TableName=ledger.table, Key={s.PK: {"S": LEAKAGE_PK}, s.SK: {"S": LEAKAGE_SK}}, ConsistentRead=True
    ).get("Item")
    return json.loads(item["doc"]["S"]) if item else None
