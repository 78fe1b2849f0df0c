"""Uploading as a camera would, and waiting for the gate's decisions on what was uploaded."""

from __future__ import annotations

import mimetypes
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lenslog.adapters.dynamo import DynamoLedger
from lenslog.services.ingest import SIDECAR_SUFFIX


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
        return self.key.lower().endswith(SIDECAR_SUFFIX)


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
    """(file, key) pairs, sidecars first so they are there when their image is decided; a folder
    keeps its relative layout as the key, so path conventions (camera/day/...) survive."""
    out: list[tuple[Path, str]] = []
    for p in paths:
        if p.is_dir():
            out.extend((f, f.relative_to(p).as_posix()) for f in sorted(p.rglob("*")) if f.is_file())
        elif p.is_file():
            out.append((p, p.name))
        else:
            raise FileNotFoundError(p)
    return sorted(out, key=lambda fk: (not fk[1].lower().endswith(SIDECAR_SUFFIX), fk[1]))


def await_decisions(
    ledgers: Mapping[str, DynamoLedger],
    uploaded: Sequence[Uploaded],
    *,
    timeout: float = 120.0,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """The decision on every uploaded image (sidecars are part of their image), in upload order.
    A decision may be recorded by any cell (a misrouted image is decided where it belongs)."""
    images = [u for u in uploaded if not u.is_sidecar]
    found: dict[int, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while True:
        for i, u in enumerate(images):
            if i in found:
                continue
            version = u.version_id or u.etag or "unversioned"
            for ledger in ledgers.values():
                d = ledger.get_decision(u.bucket, u.key, version)
                if d is not None:
                    found[i] = d
                    break
        if progress:
            _bar(len(found), len(images))
        if len(found) == len(images) or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    if progress:
        sys.stderr.write("\n")
    missing = [images[i].key for i in range(len(images)) if i not in found]
    if missing:
        raise TimeoutError(f"no decision within {timeout:.0f} s for: {', '.join(missing[:5])}")
    return [found[i] for i in range(len(images))]


def _bar(done: int, total: int, width: int = 40) -> None:
    filled = int(width * done / total) if total else width
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} decided")
    sys.stderr.flush()


def summary_table(decisions: Sequence[Mapping[str, Any]]) -> str:
    from collections import Counter

    by_status = Counter(d["status"] for d in decisions)
    by_reason = Counter(r for d in decisions for r in d.get("reasons", []))
    rows = [("status", "count"), *sorted(by_status.items())]
    if by_reason:
        rows += [("", ""), ("reason", "count"), *sorted(by_reason.items())]
    w = max(len(str(r[0])) for r in rows) + 2
    return "\n".join(f"{r[0]!s:<{w}}{r[1]}" for r in rows)
