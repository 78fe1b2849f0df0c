"""Uploading as a camera fleet would, and collecting the gate's decisions as they land.

Uploads run in a bounded pool (companions first: sidecars, label files and class maps, so each is
there when its image is decided; the gate also copes with them arriving later). The
decisions are collected by a :class:`DecisionWatcher`: every round it probes a bounded window of
the uploads still pending (the oldest ones, where decisions land first, plus a slice that rotates
through the rest) with batched key reads, and reads whole only the decisions that landed, so a
round costs the same whether 10 or 10,000 uploads are pending. There is
no overall deadline: the wait ends when every image is decided, or after a stall (no new upload
and no new decision for ``stall_seconds``), and then says what is still pending.
"""

from __future__ import annotations

import mimetypes
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lenslog.adapters.dynamo import DynamoLedger
from lenslog.domain.labels.keys import is_companion

UPLOAD_WORKERS = 8
PROBE_WINDOW = 200  # uploads probed per round (one batched read per cell), however many are pending


class InputError(ValueError):
    """A mistake in what the user asked for (a missing path, a malformed option): one line."""


@dataclass(frozen=True)
class Uploaded:
    cell: str
    bucket: str
    key: str
    version_id: str | None
    etag: str | None
    path: Path

    @property
    def is_sidecar(self) -> bool:
        """A companion of images (sidecar, label file, class map): no decision of its own."""
        return is_companion(self.key)

    @property
    def version(self) -> str:
        return self.version_id or self.etag or "unversioned"


def put_file(
    s3: Any,
    cell: str,
    bucket: str,
    path: Path,
    key: str,
    metadata: Mapping[str, str] | None = None,
    content_type: str | None = None,
) -> Uploaded:
    ctype = content_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    resp = s3.put_object(
        Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=ctype, Metadata=dict(metadata or {})
    )
    version = resp.get("VersionId")
    return Uploaded(
        cell=cell,
        bucket=bucket,
        key=key,
        version_id=None if version in (None, "null") else version,
        etag=(resp.get("ETag") or "").strip('"') or None,
        path=path,
    )


def files_to_upload(paths: Iterable[Path]) -> list[tuple[Path, str]]:
    """(file, key) pairs, companions (sidecars, label files, class maps) first so they are there
    when their image is decided; a folder keeps its relative layout as the key, so path conventions
    (camera/day/...) and dataset layouts (images/ with labels/, JPEGImages/ with Annotations/, a
    COCO JSON beside images/) survive and pair."""
    out: list[tuple[Path, str]] = []
    for p in paths:
        if p.is_dir():
            out.extend((f, f.relative_to(p).as_posix()) for f in sorted(p.rglob("*")) if f.is_file())
        elif p.is_file():
            out.append((p, p.name))
        else:
            raise InputError(f"no such file or folder: {p}")
    if not out:
        raise InputError(f"nothing to upload in {', '.join(str(p) for p in paths)}")
    return sorted(out, key=lambda fk: (not is_companion(fk[1]), fk[1]))


def upload_all(
    s3: Any,
    cell: str,
    bucket: str,
    plan: Sequence[tuple[Path, str]],
    metadata: Mapping[str, str] | None = None,
    *,
    workers: int = UPLOAD_WORKERS,
    on_uploaded: Callable[[Uploaded], None] | None = None,
) -> list[Uploaded]:
    """PUT every file of ``plan`` (from :func:`files_to_upload`) in a bounded pool: all companions
    (sidecars, label files, class maps) first, then the images; ``on_uploaded`` is called as each
    upload completes."""
    sidecars = [fk for fk in plan if is_companion(fk[1])]
    images = [fk for fk in plan if not is_companion(fk[1])]
    done: list[Uploaded] = []

    def put(fk: tuple[Path, str]) -> Uploaded:
        u = put_file(s3, cell, bucket, fk[0], fk[1], metadata)
        if on_uploaded is not None:
            on_uploaded(u)
        return u

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="upload") as pool:
        for group in (sidecars, images):
            done.extend(pool.map(put, group))  # in plan order; one group completes before the next
    return done


@dataclass
class DecisionWatcher:
    """The decisions on uploaded images (sidecars are part of their image), found as they land.
    A decision may be recorded by any cell (a misrouted image is decided where it belongs)."""

    ledgers: Mapping[str, DynamoLedger]
    window: int = PROBE_WINDOW
    probe_workers: int = 8
    other_cells_every: int = 5  # rounds: an upload's own cell every round, the others every 5th
    decided: dict[Uploaded, dict[str, Any]] = field(default_factory=dict)
    _pending: list[Uploaded] = field(default_factory=list)
    _known: set[Uploaded] = field(default_factory=set)
    _cursor: int = 0
    _round: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, uploaded: Uploaded) -> None:
        if not uploaded.is_sidecar:
            with self._lock:
                if uploaded not in self._known:
                    self._known.add(uploaded)
                    self._pending.append(uploaded)

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    @property
    def pending(self) -> list[Uploaded]:
        with self._lock:
            return list(self._pending)

    def _window(self) -> list[Uploaded]:
        with self._lock:
            head = self._pending[: self.window // 2]
            rest = self._pending[len(head) :]
            if not rest:
                return head
            self._cursor %= len(rest)
            slice_ = rest[self._cursor : self._cursor + self.window - len(head)]
            self._cursor += len(slice_)
            return head + slice_

    def _read(self, u: Uploaded) -> dict[str, Any] | None:
        cells = [u.cell, *(c for c in self.ledgers if c != u.cell)]
        for cell in cells:
            ledger = self.ledgers.get(cell)
            d = ledger.get_decision(u.bucket, u.key, u.version) if ledger is not None else None
            if d is not None:
                return d
        return None

    def poll(self, pool: ThreadPoolExecutor | None = None) -> list[tuple[Uploaded, dict[str, Any]]]:
        """One round: which uploads of the window are decided (batched key reads: in the cell each
        was uploaded to, and every ``other_cells_every`` rounds in the other cells too, where a
        misrouted image is decided), then those decisions read whole; each reported once."""
        window = self._window()
        if not window:
            return []
        self._round += 1
        everywhere = self._round % self.other_cells_every == 0
        hit: set[int] = set()
        for cell, ledger in self.ledgers.items():
            asked = [i for i, u in enumerate(window) if i not in hit and (everywhere or u.cell == cell)]
            if asked:
                flags = ledger.has_decisions(
                    [(window[i].bucket, window[i].key, window[i].version) for i in asked]
                )
                hit.update(i for i, f in zip(asked, flags, strict=True) if f)
        landed = [u for i, u in enumerate(window) if i in hit]
        found = list(pool.map(self._read, landed)) if pool else [self._read(u) for u in landed]
        new = list(
            {
                u: d for u, d in zip(landed, found, strict=True) if d is not None and u not in self.decided
            }.items()
        )
        if new:
            done = {u for u, _ in new}
            with self._lock:
                self._pending = [u for u in self._pending if u not in done]
            self.decided.update(new)
        return new


@dataclass
class Outcome:
    decisions: list[dict[str, Any]]  # in upload order
    pending: list[Uploaded]  # uploaded, not decided when the wait ended
    stalled: bool = False


def collect(
    watcher: DecisionWatcher,
    *,
    stall_seconds: float = 120.0,
    interval: float = 0.3,
    uploading: Callable[[], bool] = lambda: False,
    uploaded: Callable[[], int] = lambda: 0,
    on_decision: Callable[[dict[str, Any]], None] | None = None,
) -> bool:
    """Wait for decisions until none is pending (True) or nothing moved for ``stall_seconds``
    (False). Progress is a new upload or a new decision."""
    last_progress = time.monotonic()
    seen_uploads = uploaded()
    next_round = 0.0
    with ThreadPoolExecutor(max_workers=watcher.probe_workers, thread_name_prefix="probe") as pool:
        while True:
            # a round at most every ``interval``: decisions landing all the time would otherwise
            # keep the probe in a loop that costs the embedded AWS as much as the ingest itself
            time.sleep(max(0.0, next_round - time.monotonic()))
            next_round = time.monotonic() + interval
            new = watcher.poll(pool)
            for _, d in new:
                if on_decision is not None:
                    on_decision(d)
            now = time.monotonic()
            if new or uploaded() != seen_uploads:
                seen_uploads = uploaded()
                last_progress = now
            if not uploading() and not watcher.has_pending:
                return True
            if now - last_progress > stall_seconds:
                return False


def outcome(watcher: DecisionWatcher, uploads: Sequence[Uploaded], finished: bool) -> Outcome:
    images = [u for u in uploads if not u.is_sidecar]
    return Outcome(
        decisions=[watcher.decided[u] for u in images if u in watcher.decided],
        pending=[u for u in images if u not in watcher.decided],
        stalled=not finished,
    )


# What a quarantine for a configuration reason asks of the user.
CONFIG_HINTS = {
    "region_unresolved": (
        "no data region could be resolved: register the camera or source with a cell in the config "
        "([cameras.<id>] cell = ...), or pass --meta data_region=<cell>"
    ),
    "metadata_incomplete": (
        "a required field (camera or capture time) is missing: pass --meta camera_id=... / "
        "--meta captured_at=..., upload a <file>.json sidecar, or register the camera in the config"
    ),
    "consent_missing": (
        "the source may capture people or plates: register a consent in the config and pass "
        "--meta consent_id=<id>"
    ),
    "region_misrouted": "the image belongs to another cell: upload it there (--cell), or set the policy",
}


Counts = list[tuple[str, int]]


def summary_rows(decisions: Sequence[Mapping[str, Any]]) -> tuple[Counts, Counts]:
    by_status = Counter(d["status"] for d in decisions)
    by_reason = Counter(r for d in decisions for r in d.get("reasons", []))
    return sorted(by_status.items()), sorted(by_reason.items())


def hints(decisions: Sequence[Mapping[str, Any]]) -> list[str]:
    reasons = Counter(r for d in decisions for r in d.get("reasons", []))
    return [f"{reasons[r]} x {r}: {text}" for r, text in CONFIG_HINTS.items() if reasons[r]]


def summary_table(decisions: Sequence[Mapping[str, Any]]) -> str:
    statuses, reasons = summary_rows(decisions)
    rows: list[tuple[str, Any]] = [("status", "count"), *statuses]
    if reasons:
        rows += [("", ""), ("reason", "count"), *reasons]
    w = max(len(str(r[0])) for r in rows) + 2
    return "\n".join(f"{r[0]!s:<{w}}{r[1]}" for r in rows)
