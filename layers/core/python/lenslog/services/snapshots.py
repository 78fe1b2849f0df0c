"""Snapshots: an immutable manifest of a cell's dataset at a point in time, built in steps.

A build reads the image records of the dataset statuses (accepted, then near duplicates linked to
their cluster) through the status index, page by page, keeps those first seen before the
snapshot's time that match its filters, and writes their manifest lines in parts of
``part_lines`` lines. After each part it saves the record with the continuation (the index key of
the last record read) and the counts so far; ``should_stop`` is asked there. So a build of any size
runs as a chain of invocations, each well inside Lambda's 15 minutes (the snapshot function asks
its remaining time; the API hands a large build on to that function), and a crashed invocation
loses at most one part of work: the next starts from the saved continuation and rewrites that
part with the same bytes.

Erasure calls ``remove_images``: every snapshot's parts are read, each part naming an erased image
is rewritten without it under the next version and every version of the old object is deleted;
the snapshot keeps its id, its counts drop by what went, and ``removed`` says how many images went.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lenslog.adapters.snapshots import (
    Conflict,
    Continuation,
    ImageRecords,
    SnapshotRecord,
    SnapshotStore,
    part_key,
)
from lenslog.domain import snapshot as snap

PART_LINES = 10_000


class SnapshotNotFound(LookupError):
    def __init__(self, snapshot_id: str):
        super().__init__(f"no snapshot {snapshot_id!r}")
        self.snapshot_id = snapshot_id


@dataclass(frozen=True)
class Removal:
    snapshot_id: str
    removed: int
    version: int


class SnapshotService:
    def __init__(
        self,
        cell: str,
        store: SnapshotStore,
        records: ImageRecords,
        config_version: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        part_lines: int | None = None,
        continue_build: Callable[[str], None] | None = None,
    ):
        self.cell = cell
        self.store = store
        self.records = records
        self.config_version = config_version
        self.clock = clock
        self.part_lines = part_lines or PART_LINES
        self.continue_build = continue_build  # hands an unfinished build to another invocation

    # create ---------------------------------------------------------------------------------------
    def start(
        self, name: str | None = None, filters: Mapping[str, Sequence[str]] | None = None
    ) -> SnapshotRecord:
        if name is not None and not re.match(snap.NAME_PATTERN, name):
            raise snap.SnapshotInputError("name", "letters, digits, '.', '_' and '-', at most 64")
        checked = snap.check_filters(filters or {})
        now = self.clock()
        record = SnapshotRecord(
            snapshot_id=snap.new_snapshot_id(now, os.urandom(4)),
            name=name,
            cell=self.cell,
            created_at=now,
            updated_at=now,
            filters={k: list(v) for k, v in checked.items()},
            config_version=self.config_version,
            bucket=self.store.bucket,
            counts=snap.Counts().to_dict(),
            continuation=Continuation(),
        )
        return self.store.save(record)

    def create(
        self,
        name: str | None = None,
        filters: Mapping[str, Sequence[str]] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> SnapshotRecord:
        """Start a snapshot and build it until done, or until ``should_stop`` says so; then the
        rest is handed to ``continue_build`` (if any: else the caller goes on with ``step``)."""
        record = self.step(self.start(name, filters).snapshot_id, should_stop)
        if record.status != "complete" and self.continue_build is not None:
            self.continue_build(record.snapshot_id)
        return record

    def step(self, snapshot_id: str, should_stop: Callable[[], bool] = lambda: False) -> SnapshotRecord:
        """Go on with a build from its continuation: part after part, until it is complete or
        ``should_stop`` (asked after each part is saved) says stop."""
        record = self.get(snapshot_id)
        if record.status == "complete" or record.continuation is None:
            return record
        cont = record.continuation
        record = self.store.save(
            record.model_copy(
                update={"continuation": cont.model_copy(update={"invocations": cont.invocations + 1})}
            )
        )
        cont = record.continuation or cont
        created = record.created_at.astimezone(UTC).isoformat()
        filters = {k: tuple(v) for k, v in record.filters.items()}
        counts = snap.Counts.from_dict(record.counts)
        pending: list[bytes] = []
        pending_counts = snap.Counts()
        for index in range(cont.status_index, len(snap.DATASET_STATUSES)):
            start = cont.start_key if index == cont.status_index else None
            for item in self.records.after(snap.DATASET_STATUSES[index], start):
                if item.get("first_seen", {}).get("S", "") <= created:
                    line = snap.manifest_line(_doc(item))
                    if line is not None and snap.matches(line, filters):
                        pending.append(snap.encode_line(line))
                        pending_counts.add(line)
                if len(pending) == self.part_lines:
                    record = self._flush(record, pending, counts, pending_counts)
                    record = self.store.save(
                        record.model_copy(
                            update={
                                "continuation": Continuation(
                                    status_index=index,
                                    start_key=ImageRecords.key_of(item),
                                    invocations=cont.invocations + 1,
                                )
                            }
                        )
                    )
                    pending, pending_counts = [], snap.Counts()
                    if should_stop():
                        return record
        if pending:
            record = self._flush(record, pending, counts, pending_counts)
        return self.store.save(
            record.model_copy(
                update={
                    "status": "complete",
                    "continuation": None,
                    "content_hash": snap.content_hash([p.sha256 for p in record.parts]),
                    "updated_at": self.clock(),
                }
            )
        )

    def _flush(
        self, record: SnapshotRecord, lines: list[bytes], counts: snap.Counts, more: snap.Counts
    ) -> SnapshotRecord:
        part = self.store.put_part(
            part_key(record.snapshot_id, record.version, len(record.parts)), b"".join(lines)
        )
        _merge(counts, more)
        return record.model_copy(
            update={"parts": [*record.parts, part], "counts": counts.to_dict(), "updated_at": self.clock()}
        )

    # read -----------------------------------------------------------------------------------------
    def get(self, snapshot_id: str) -> SnapshotRecord:
        if not re.match(snap.SNAPSHOT_ID_PATTERN, snapshot_id):
            raise SnapshotNotFound(snapshot_id)
        record = self.store.get(snapshot_id)
        if record is None:
            raise SnapshotNotFound(snapshot_id)
        return record

    def lines(self, record: SnapshotRecord) -> Iterator[dict[str, Any]]:
        """The manifest's images in order, every part checked against its digest."""
        for part in record.parts:
            yield from snap.decode_lines(self.store.read_part(part))

    # erasure --------------------------------------------------------------------------------------
    def remove_images(self, image_ids: set[str]) -> list[Removal]:
        """Take these images out of every snapshot of the cell that lists them."""
        if not image_ids:
            return []
        out = []
        for record in list(self.store.all()):
            for _attempt in range(5):
                try:
                    removal = self._remove_from(self.get(record.snapshot_id), image_ids)
                    break
                except Conflict:  # a builder saved a part meanwhile: read it again
                    continue
            else:
                raise Conflict(record.snapshot_id)
            if removal is not None:
                out.append(removal)
        return out

    def _remove_from(self, record: SnapshotRecord, image_ids: set[str]) -> Removal | None:
        cont = record.continuation
        if cont is not None and cont.start_key and any(i in json.dumps(cont.start_key) for i in image_ids):
            return self._restart(record, image_ids)
        counts = snap.Counts.from_dict(record.counts)
        version = record.version + 1
        parts, stale, removed = [], [], 0
        for i, part in enumerate(record.parts):
            body = self.store.read_part(part)
            if not any(image_id.encode() in body for image_id in image_ids):
                parts.append(part)
                continue
            kept = []
            for line in snap.decode_lines(body):
                if line["image_id"] in image_ids:
                    counts.add(line, sign=-1)
                    removed += 1
                else:
                    kept.append(snap.encode_line(line))
            parts.append(self.store.put_part(part_key(record.snapshot_id, version, i), b"".join(kept)))
            stale.append(part.key)
        if not stale:
            return None
        update: dict[str, Any] = {
            "parts": parts,
            "version": version,
            "counts": counts.to_dict(),
            "removed": record.removed + removed,
            "erasures": record.erasures + 1,
            "updated_at": self.clock(),
        }
        if record.status == "complete":
            update["content_hash"] = snap.content_hash([p.sha256 for p in parts])
        saved = self.store.save(record.model_copy(update=update))
        for key in stale:  # the new version is recorded: the old objects go, every version of them
            self.store.delete_part(key)
        return Removal(saved.snapshot_id, removed, saved.version)

    def _restart(self, record: SnapshotRecord, image_ids: set[str]) -> Removal:
        """A build whose continuation is the key of an erased image starts over (the key would
        name the image): its parts go, every version, and the next step reads from the start."""
        removed = sum(
            1
            for part in record.parts
            for line in snap.decode_lines(self.store.read_part(part))
            if line["image_id"] in image_ids
        )
        cont = record.continuation or Continuation()
        saved = self.store.save(
            record.model_copy(
                update={
                    "parts": [],
                    "counts": snap.Counts().to_dict(),
                    "version": record.version + 1,
                    "continuation": Continuation(invocations=cont.invocations),
                    "removed": record.removed + removed,
                    "erasures": record.erasures + 1,
                    "updated_at": self.clock(),
                }
            )
        )
        for part in record.parts:
            self.store.delete_part(part.key)
        return Removal(saved.snapshot_id, removed, saved.version)

    def manifests_naming(self, image_ids: set[str]) -> list[str]:
        """The manifest objects (any version) of this cell that still name one of these images:
        erasure's verification pass over snapshots."""
        found = []
        for obj in self.store.store.list_objects(self.store.bucket, versions=True):
            if not obj.key.startswith("snapshots/"):
                continue
            body = self.store.store.get(self.store.bucket, obj.key, obj.version_id) or b""
            if any(i.encode() in body for i in image_ids):
                found.append(f"object s3://{self.store.bucket}/{obj.key} ({obj.version_id})")
        return found


def _doc(item: Mapping[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(item["doc"]["S"])
    return doc


def _merge(counts: snap.Counts, more: snap.Counts) -> None:
    counts.images += more.images
    for table, extra in ((counts.splits, more.splits), (counts.labels, more.labels)):
        for k, v in extra.items():
            table[k] = table.get(k, 0) + v
    for target, source in [(counts.classes, more.classes)] + [
        (counts.classes_by_split.setdefault(split, {}), c) for split, c in more.classes_by_split.items()
    ]:
        for cls, entry in source.items():
            have = target.setdefault(cls, {"images": 0, "instances": 0})
            have["images"] += entry["images"]
            have["instances"] += entry["instances"]
