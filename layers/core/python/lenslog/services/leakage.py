"""The leakage check: no near-duplicate pair may straddle train/val/test.

``run`` is the check that runs on a schedule (and before the report in ``lenslog report`` and
``lenslog demo``): incremental, it examines only the near-duplicate links decided since its last
run, and keeps a cursor and running totals in ``LEAKAGE#state`` / ``LEAKAGE``, which the audit
report reads (``state``). ``check`` is the full check, on demand (``lenslog leakage --full``):
it reads the cell's dataset records (accepted and linked images, by the status index), finds every
pair the match rule would link (through the same bands as the index, so it costs n x bucket size),
and counts the pairs whose images sit in different splits, and the cluster members whose split
differs from their root's. Both must be 0. Its result is stored as ``LEAKAGE#latest`` / ``LEAKAGE``
in the cell's table (``latest``); the report shows the incremental check's state.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from lenslog.adapters import schema as s
from lenslog.config import Config, NearDuplicateConfig
from lenslog.domain import hashing, layout, neardup
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
        layouts=tuple(layout.decode(t) for t in hashes.get("layouts") or ()),
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
        cfg.layout_distance,
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


# the incremental check --------------------------------------------------------------------------------
# What runs on the schedule and with the report: it looks only at the near-duplicate links decided
# since its cursor (the decision-day index, filtered to ``near_duplicate``), never at the corpus.
# Per link, a constant number of requests: the link's own index lookup (the gate's bands, under
# the 8 dihedral variants estimated from the stored hash), and its cluster root's record.
STATE_PK = "LEAKAGE#state"
STATE_SK = "LEAKAGE"
ROOTS_PER_BATCH = 100
LOOKUP_THREADS = 16
FIRST_RUN_DAYS = 366


@dataclass(frozen=True)
class Link:
    """A near-duplicate link as its decision recorded it."""

    entry: neardup.Entry
    duplicate_of: str | None
    decided: str  # the decision's sort key in the by-day index: the cursor moves past it

    @classmethod
    def of(cls, doc: dict[str, Any], sort_key: str) -> Link | None:
        record = {**doc, "split": doc.get("split")}
        entry = entry_of(record) if doc.get("image_id") else None
        if entry is None:
            return None
        return cls(entry=entry, duplicate_of=doc.get("duplicate_of"), decided=sort_key)


def links_since(ledger: Any, cursor: tuple[str, str] | None, until: datetime) -> Iterator[tuple[str, Link]]:
    """(day, link) of every ``near_duplicate`` decision after ``cursor`` (day, index sort key) and
    decided before ``until``, oldest first. Without a cursor: from the cell's first day with
    counters."""
    today = until.astimezone(UTC).date()
    stop = until.astimezone(UTC).isoformat()
    if cursor is not None:
        first = date.fromisoformat(cursor[0])
    else:
        # The cell's first day with counters (capture days may be years before any decision:
        # a first run walks at most FIRST_RUN_DAYS of decision days; ``--full`` covers the rest).
        days = ledger.aggregate_days()
        first = min((date.fromisoformat(d) for d in days), default=today)
        first = max(first, today - timedelta(days=FIRST_RUN_DAYS))
    day = first
    while day <= today:
        pk = f"DAY#{day.isoformat()}"
        kwargs: dict[str, Any] = {
            "TableName": ledger.table,
            "IndexName": s.GSI_BY_DAY,
            "FilterExpression": "#st = :nd",
            "ExpressionAttributeNames": {"#pk": f"{s.GSI_BY_DAY}PK", "#st": "status"},
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":nd": {"S": "near_duplicate"}},
            "KeyConditionExpression": "#pk = :pk",
        }
        if cursor is not None and day.isoformat() == cursor[0]:
            kwargs["KeyConditionExpression"] = "#pk = :pk AND #sk > :after"
            kwargs["ExpressionAttributeNames"]["#sk"] = f"{s.GSI_BY_DAY}SK"
            kwargs["ExpressionAttributeValues"][":after"] = {"S": cursor[1]}
        while True:
            resp = ledger.client.query(**kwargs)
            for item in resp.get("Items", []):
                sort_key = item[f"{s.GSI_BY_DAY}SK"]["S"]
                if sort_key >= stop:  # decided too recently: maybe not all committed yet
                    return
                link = Link.of(json.loads(item["doc"]["S"]), sort_key)
                if link is not None:
                    yield day.isoformat(), link
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        day += timedelta(days=1)


def _records(ledger: Any, image_ids: Iterable[str]) -> dict[str, dict[str, str]]:
    """image id -> {split, cluster_id, status} of the image records that exist (batched reads)."""
    ids = sorted(set(image_ids))
    out: dict[str, dict[str, str]] = {}
    for start in range(0, len(ids), ROOTS_PER_BATCH):
        request: dict[str, Any] = {
            ledger.table: {
                "Keys": [
                    {s.PK: {"S": s.image_pk(i)}, s.SK: {"S": s.IMAGE_SK}}
                    for i in ids[start : start + ROOTS_PER_BATCH]
                ],
                "ProjectionExpression": "#pk, #sp, cluster_id, #st",
                "ExpressionAttributeNames": {"#pk": s.PK, "#sp": "split", "#st": "status"},
            }
        }
        while request:
            resp = ledger.client.batch_get_item(RequestItems=request)
            for item in resp.get("Responses", {}).get(ledger.table, []):
                image_id = item[s.PK]["S"].removeprefix(s.IMAGE_PREFIX)
                out[image_id] = {k: v["S"] for k, v in item.items() if "S" in v}
            request = resp.get("UnprocessedKeys") or {}
    return out


def examine(
    links: Sequence[Link],
    neighbours: Callable[[Link], Sequence[neardup.Entry]],
    records: Mapping[str, Mapping[str, str]],
    cfg: NearDuplicateConfig,
) -> dict[str, Any]:
    """The leakage figures of a batch of links (pure): every pair the match rule makes between a
    link and what the index holds around it, those whose splits differ, and the links whose split
    is not their cluster root's. ``records`` gives the current split of linked images and roots
    (an image erased since has none and is skipped)."""
    pairs: dict[tuple[str, str], tuple[str | None, str | None]] = {}
    mismatches: list[dict[str, Any]] = []
    examined = 0
    for link in links:
        me = link.entry
        mine = records.get(me.image_id)
        if mine is None:  # erased since
            continue
        examined += 1
        split = mine.get("split")
        root = mine.get("cluster_id") or me.cluster_id
        root_split = records.get(root or "", {}).get("split")
        if root and root != me.image_id and root_split is not None and root_split != split:
            mismatches.append({"image": me.image_id, "root": root, "splits": [split, root_split]})
        query = neardup.Query(
            variants=neardup.hash_variants(me.phash),
            camera_id=me.camera_id,
            captured_at=me.captured_at,
            flags=(neardup.DARK,) if me.dark else (),
            image_id=me.image_id,
        )
        for other in neighbours(link):
            if other.image_id == me.image_id:
                continue
            if neardup.best_match(query, [other], cfg.max_distance, cfg.burst_seconds) is None:
                continue
            a, b = sorted((me.image_id, other.image_id))
            theirs = records.get(other.image_id, {}).get("split", other.split)
            pairs[(a, b)] = (split, theirs) if a == me.image_id else (theirs, split)
    crossing = [{"images": list(p), "splits": list(sp)} for p, sp in sorted(pairs.items()) if sp[0] != sp[1]]
    return {
        "links_examined": examined,
        "near_pairs": len(pairs),
        "crossing_pairs": len(crossing),
        "cluster_split_mismatches": len(mismatches),
        "examples": (
            [{"kind": "crossing_pair", **c} for c in crossing]
            + [{"kind": "cluster_split_mismatch", **m} for m in mismatches]
        )[:MAX_EXAMPLES],
    }


def state(ledger: Any) -> dict[str, Any] | None:
    """The incremental check's stored state: its cursor, its totals since the first run and its
    last run (what the audit report shows)."""
    item = ledger.client.get_item(
        TableName=ledger.table, Key={s.PK: {"S": STATE_PK}, s.SK: {"S": STATE_SK}}, ConsistentRead=True
    ).get("Item")
    return json.loads(item["doc"]["S"]) if item else None


class CheckRaced(RuntimeError):
    """Another run of the check moved the cursor first; this run's figures were not stored."""


def run(
    ledger: Any,
    index: Any,
    config: Config,
    now: datetime | None = None,
    settle_seconds: int | None = None,
    max_links: int | None = None,
) -> dict[str, Any]:
    """One incremental check of a cell: examine the links decided since the stored cursor, add
    the figures to the totals, move the cursor; a conditional write, so two runs never count the
    same links twice. Returns the new state (its ``behind``: links left for the next run)."""
    cfg = config.near_duplicates
    now = now or datetime.now(UTC)
    settle = cfg.leakage_settle_seconds if settle_seconds is None else settle_seconds
    limit = cfg.leakage_max_links if max_links is None else max_links
    previous = state(ledger)
    cursor = tuple(previous["cursor"]) if previous and previous.get("cursor") else None
    links: list[Link] = []
    last = cursor
    # Only links decided ``settle`` seconds ago or earlier: a decision is indexed by its decision
    # time, which precedes its commit (the S3 copy) and the index's propagation; the cursor must
    # not move past a link still in flight. At most ``limit`` links a run; the next run goes on.
    for day, link in links_since(ledger, cursor, now - timedelta(seconds=settle)):  # type: ignore[arg-type]
        if len(links) >= limit:
            break
        links.append(link)
        last = (day, link.decided)
    radius = neardup.radius_for(cfg.max_distance, cfg.bands)

    def neighbours(link: Link) -> list[neardup.Entry]:
        keys = neardup.lookup_keys(neardup.hash_variants(link.entry.phash), cfg.bands, radius)
        found: list[neardup.Entry] = index.lookup(keys).entries
        return found

    roots = {lk.entry.cluster_id for lk in links if lk.entry.cluster_id}
    records = _records(ledger, {lk.entry.image_id for lk in links} | roots)
    # The lookups are independent reads: run them side by side (a botocore client is thread-safe).
    with ThreadPoolExecutor(max_workers=LOOKUP_THREADS) as pool:
        found = dict(zip((lk.decided for lk in links), pool.map(neighbours, links), strict=True))
    batch = examine(links, lambda link: found[link.decided], records, cfg)
    totals = dict((previous or {}).get("totals") or {})
    for k in ("links_examined", "near_pairs", "crossing_pairs", "cluster_split_mismatches"):
        totals[k] = int(totals.get(k, 0)) + batch[k]
    examples = (batch["examples"] + list((previous or {}).get("examples") or []))[:MAX_EXAMPLES]
    new_state = {
        "cell": ledger.cell,
        "checked_at": now.isoformat(),
        "first_checked_at": (previous or {}).get("first_checked_at") or now.isoformat(),
        "runs": int((previous or {}).get("runs", 0)) + 1,
        "cursor": list(last) if last else None,
        "totals": totals,
        "last_run": {k: batch[k] for k in batch if k != "examples"},
        "behind": len(links) >= limit,
        "examples": examples,
        "passed": totals["crossing_pairs"] == 0 and totals["cluster_split_mismatches"] == 0,
        "rule": {"bands": cfg.bands, "max_distance": cfg.max_distance, "burst_seconds": cfg.burst_seconds},
    }
    condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(PK)"}
    if previous is not None:
        condition = {
            "ConditionExpression": "checked_at = :seen",
            "ExpressionAttributeValues": {":seen": {"S": previous["checked_at"]}},
        }
    try:
        _put_state(ledger, new_state, condition)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise CheckRaced(ledger.cell) from exc
        raise
    return new_state


def _put_state(ledger: Any, doc: Mapping[str, Any], condition: Mapping[str, Any]) -> None:
    """Write the check's state item under ``condition`` (the state it was computed from)."""
    ledger.client.put_item(
        TableName=ledger.table,
        Item={
            s.PK: {"S": STATE_PK},
            s.SK: {"S": STATE_SK},
            "kind": {"S": "leakage"},
            "checked_at": {"S": doc["checked_at"]},
            "doc": {"S": json.dumps(doc, sort_keys=True)},
        },
        **condition,
    )


def _names(example: Mapping[str, Any]) -> set[str]:
    return set(example.get("images") or []) | {example.get("image") or "", example.get("root") or ""}


def forget(ledger: Any, image_ids: Iterable[str]) -> int:
    """Drop the stored examples that name any of ``image_ids`` (an erasure); the totals stay, as
    counts do. Returns how many examples went."""
    erased = set(image_ids)
    for _ in range(3):
        previous = state(ledger)
        if not previous or not erased:
            return 0
        kept = [ex for ex in previous.get("examples") or [] if not (_names(ex) & erased)]
        dropped = len(previous.get("examples") or []) - len(kept)
        if not dropped:
            return 0
        doc = {**previous, "examples": kept}
        try:
            _put_state(
                ledger,
                doc,
                {
                    "ConditionExpression": "checked_at = :seen",
                    "ExpressionAttributeValues": {":seen": {"S": previous["checked_at"]}},
                },
            )
            return dropped
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
    raise CheckRaced(ledger.cell)
