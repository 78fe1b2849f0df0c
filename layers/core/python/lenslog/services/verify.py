"""Reconciliation: account for every object and every record of every cell.

The ingest ordering (copy, commit, then delete from landing) means that, at rest, every object is
in exactly one of these states, and ``reconcile`` checks each of them:

- a **landing** object (any stored version) is *pending*: not decided yet, or decided with its
  clean-up still to do (a replayed event finishes it). Its age says whether something is stuck.
- a **curated** object ``images/<id[:2]>/<id>.<ext>`` is the copy of an image record that names it;
  one under ``snapshots/<snapshot id>/`` is a manifest part that its snapshot record lists.
- a **quarantine** object ``<reason>/<version>/<key>`` has its ``.reason.json`` beside it and is
  named by the latest decision on that object version (``.sidecar.json`` beside it is allowed).
- every image record, latest decision and pending item names an object that exists.

- a **label file** kept in curated under ``labels/`` (or in quarantine under ``labels_invalid/``)
  is named by its label file record; a label file none of whose images was ingested is listed as
  an *orphan label* (``lenslog.services.verify_labels``), which is not an error.

Anything else is an *orphan*: an object nothing accounts for, or a record whose object is gone.
``reconcile`` is a pure function over listings and table items; ``verify`` gathers them through
the ports. Superseded decisions (the first verdict on an object that a late sidecar re-evaluated)
are history: their quarantined copy was removed on purpose, so they are not checked.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from lenslog.domain.labels.keys import KeyKind, classify
from lenslog.ports import ListedObject
from lenslog.services.verify_labels import account
from lenslog.settings import CellResources

REASON_SUFFIX = ".reason.json"
SIDECAR_COPY_SUFFIX = ".sidecar.json"
SNAPSHOT_PREFIX = "snapshots/"
CURATED_KEY = re.compile(r"^images/(?P<prefix>[0-9a-f]{2})/(?P<id>[0-9a-f]{64})\.[a-z0-9]+$")


class Listing(Protocol):
    def list_objects(self, bucket: str, versions: bool = False) -> Iterable[ListedObject]: ...


class TableScan(Protocol):
    def scan_items(self) -> Iterable[dict[str, Any]]: ...


@dataclass(frozen=True)
class Pending:
    cell: str
    bucket: str
    key: str
    version_id: str | None
    age: timedelta
    state: str  # "undecided" | "decided, landing clean-up pending" | "sidecar"

    def __str__(self) -> str:
        version = f" (version {self.version_id})" if self.version_id else ""
        return f"{self.cell}: s3://{self.bucket}/{self.key}{version} pending {_age(self.age)}: {self.state}"


@dataclass(frozen=True)
class Orphan:
    cell: str
    where: str
    problem: str

    def __str__(self) -> str:
        return f"{self.cell}: {self.where}: {self.problem}"


@dataclass
class VerifyReport:
    pending: list[Pending] = field(default_factory=list)
    orphans: list[Orphan] = field(default_factory=list)
    orphan_labels: list[str] = field(default_factory=list)
    accounted: dict[str, Counter[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.orphans


@dataclass
class CellSnapshot:
    """What one cell holds: its buckets' listings (landing with every version) and its items."""

    resources: CellResources
    landing: list[ListedObject]
    curated: list[ListedObject]
    quarantine: list[ListedObject]
    items: list[dict[str, Any]]


def _age(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def _doc(item: Mapping[str, Any]) -> dict[str, Any]:
    try:
        doc = json.loads(item["doc"]["S"])
    except (KeyError, TypeError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def _stored(doc: Mapping[str, Any]) -> tuple[str, str] | None:
    stored = doc.get("stored")
    if isinstance(stored, dict) and stored.get("bucket") and stored.get("key"):
        return str(stored["bucket"]), str(stored["key"])
    return None


def _version(doc: Mapping[str, Any]) -> str:
    return str(doc.get("version_id") or doc.get("etag") or "unversioned")


def reconcile(cells: Mapping[str, CellSnapshot], now: datetime) -> VerifyReport:
    report = VerifyReport()
    present: set[tuple[str, str]] = set()
    for snap in cells.values():
        for listed in (*snap.curated, *snap.quarantine):
            present.add((listed.bucket, listed.key))

    # What the records say exists, across every cell (an image may be stored in another cell).
    latest: dict[str, dict[tuple[str, str, str], dict[str, Any]]] = {}
    named_by_image: set[tuple[str, str]] = set()
    named_by_decision: set[tuple[str, str]] = set()
    named_by_snapshot: set[tuple[str, str]] = set()
    named_by_label: set[tuple[str, str]] = set()
    for snap in cells.values():
        labels = account(snap.items)
        named_by_label |= labels.kept
        report.orphan_labels += labels.orphan_labels
    for name, snap in cells.items():
        decisions: dict[tuple[str, str, str], tuple[bool, dict[str, Any]]] = {}
        for item in snap.items:
            kind = item.get("kind", {}).get("S")
            pk, sk = item.get("PK", {}).get("S", ""), item.get("SK", {}).get("S", "")
            doc = _doc(item)
            if kind == "decision":
                ident = (str(doc.get("bucket")), str(doc.get("key")), _version(doc))
                reevaluated = sk.endswith("#R")
                if ident not in decisions or reevaluated:
                    decisions[ident] = (reevaluated, doc)
            elif kind == "image":
                where = _stored(doc)
                if where is None:
                    report.orphans.append(Orphan(name, f"table {pk}", "image record names no stored object"))
                else:
                    named_by_image.add(where)
                    if where not in present:
                        report.orphans.append(
                            Orphan(
                                name,
                                f"table {pk}",
                                f"image record's object s3://{'/'.join(where)} is missing",
                            )
                        )
            elif kind == "snapshot":
                named_by_snapshot.update(
                    (str(doc.get("bucket")), str(p.get("key")))
                    for p in doc.get("parts") or []
                    if isinstance(p, dict)
                )
            elif kind == "pending":
                where = _stored(doc.get("decision") or {})
                if where is None or where not in present:
                    report.orphans.append(
                        Orphan(name, f"table {pk}", "pending item's quarantined object is missing")
                    )
        latest[name] = {ident: doc for ident, (_, doc) in decisions.items()}
        for ident, doc in latest[name].items():
            where = _stored(doc)
            label = f"table decision on s3://{ident[0]}/{ident[1]} version {ident[2]}"
            if where is None:
                report.orphans.append(
                    Orphan(name, label, f"{doc.get('status')} decision names no stored object")
                )
                continue
            named_by_decision.add(where)
            if where not in present:
                report.orphans.append(Orphan(name, label, f"its object s3://{'/'.join(where)} is missing"))

    for name, snap in cells.items():
        res = snap.resources
        counted: Counter[str] = Counter()
        report.accounted[name] = counted
        decided = latest[name]
        for obj in snap.landing:
            version = obj.version_id or obj.etag or "unversioned"
            kind = classify(obj.key)
            if kind is not KeyKind.image:
                state = "sidecar" if kind in (KeyKind.sidecar, KeyKind.coco) else "label file"
            elif (res.landing_bucket, obj.key, version) in decided:
                state = "decided, landing clean-up pending"
            else:
                state = "undecided"
            report.pending.append(
                Pending(
                    name,
                    obj.bucket,
                    obj.key,
                    obj.version_id,
                    max(now - obj.last_modified, timedelta()),
                    state,
                )
            )
            counted["landing pending"] += 1

        for obj in snap.curated:
            match = CURATED_KEY.match(obj.key)
            location = f"s3://{obj.bucket}/{obj.key}"
            if obj.key.startswith(SNAPSHOT_PREFIX):
                if (obj.bucket, obj.key) in named_by_snapshot:
                    counted["curated snapshot manifest parts"] += 1
                else:
                    report.orphans.append(Orphan(name, location, "snapshot manifest part no snapshot lists"))
            elif obj.key.startswith("labels/"):
                if (obj.bucket, obj.key) in named_by_label:
                    counted["curated label files with record"] += 1
                else:
                    report.orphans.append(Orphan(name, location, "label file without its label file record"))
            elif match is None or match["id"][:2] != match["prefix"]:
                report.orphans.append(Orphan(name, location, "curated key is not images/<id[:2]>/<id>.<ext>"))
            elif (obj.bucket, obj.key) not in named_by_image:
                report.orphans.append(Orphan(name, location, "curated object without an image record"))
            else:
                counted["curated with record"] += 1

        keys = {o.key for o in snap.quarantine}
        for obj in snap.quarantine:
            location = f"s3://{obj.bucket}/{obj.key}"
            for suffix, what in ((REASON_SUFFIX, "reason document"), (SIDECAR_COPY_SUFFIX, "kept sidecar")):
                # Landing keys ending in .json are sidecars, never quarantined as images: any
                # quarantine key with these suffixes is a document about its neighbour.
                if obj.key.endswith(suffix):
                    if obj.key[: -len(suffix)] in keys:
                        counted[f"quarantine {what}"] += 1
                    else:
                        report.orphans.append(
                            Orphan(name, location, f"{what} without its quarantined object")
                        )
                    break
            else:
                problems = []
                if obj.key + REASON_SUFFIX not in keys:
                    problems.append("no reason document beside it")
                if (obj.bucket, obj.key) not in named_by_decision and (
                    obj.bucket,
                    obj.key,
                ) not in named_by_label:
                    problems.append("no decision names it")
                if problems:
                    report.orphans.append(
                        Orphan(name, location, "quarantined object with " + " and ".join(problems))
                    )
                else:
                    counted["quarantine with reason and decision"] += 1
        counted["decisions"] = len(decided)
        counted["images"] = sum(1 for i in snap.items if i.get("kind", {}).get("S") == "image")
    return report


def snapshot(resources: CellResources, store: Listing, table: TableScan) -> CellSnapshot:
    return CellSnapshot(
        resources=resources,
        landing=list(store.list_objects(resources.landing_bucket, versions=True)),
        curated=list(store.list_objects(resources.curated_bucket)),
        quarantine=list(store.list_objects(resources.quarantine_bucket)),
        items=list(table.scan_items()),
    )


def verify(
    cells: Mapping[str, tuple[CellResources, Listing, TableScan]], now: datetime | None = None
) -> VerifyReport:
    """Gather every cell, then reconcile them together."""
    snaps = {name: snapshot(res, store, table) for name, (res, store, table) in cells.items()}
    return reconcile(snaps, now or datetime.now(UTC))


def render(report: VerifyReport) -> str:
    lines = []
    for cell, counted in report.accounted.items():
        parts = ", ".join(f"{v} {k}" for k, v in counted.items() if v) or "empty"
        lines.append(f"cell {cell}: {parts}")
    if report.pending:
        lines.append(f"pending in landing ({len(report.pending)}):")
        lines.extend(f"  {p}" for p in sorted(report.pending, key=lambda p: -p.age))
    if report.orphan_labels:
        lines.append(f"orphan labels, no image of theirs ingested ({len(report.orphan_labels)}):")
        lines.extend(f"  {label}" for label in report.orphan_labels)
    lines.append(f"orphans ({len(report.orphans)}):" if report.orphans else "orphans: none")
    lines.extend(f"  {o}" for o in report.orphans)
    return "\n".join(lines)
