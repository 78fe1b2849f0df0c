"""Parallel, resumable, verified downloads of a snapshot's images.

Each image goes to ``<dest>.part`` and is renamed into place only once its sha256 is the one the
manifest names, so a file at its final name is always whole and right. A rerun after an interruption
checks what is already there (by digest) and fetches only the rest; a file whose digest differs is
fetched again. An object whose bytes never match (after ``attempts`` tries) is reported, not kept.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHUNK = 1 << 20


@dataclass(frozen=True)
class Fetch:
    bucket: str
    key: str
    region: str | None
    sha256: str
    dest: Path


@dataclass
class DownloadResult:
    fetched: int = 0
    present: int = 0
    bytes: int = 0
    failed: list[str] = field(default_factory=list)


def file_sha256(path: Path) -> str | None:
    try:
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()
    except FileNotFoundError:
        return None


def _fetch_one(s3: Any, item: Fetch, attempts: int) -> tuple[str, int]:
    """('present' | 'fetched', bytes) or raises with why the object could not be had."""
    if file_sha256(item.dest) == item.sha256:
        return "present", 0
    item.dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = item.dest.with_name(item.dest.name + ".part")
    last = "no attempt"
    for _ in range(attempts):
        digest, size = hashlib.sha256(), 0
        body = s3.get_object(Bucket=item.bucket, Key=item.key)["Body"]
        with tmp.open("wb") as fh:
            while chunk := body.read(CHUNK):
                digest.update(chunk)
                fh.write(chunk)
                size += len(chunk)
        if digest.hexdigest() == item.sha256:
            os.replace(tmp, item.dest)
            return "fetched", size
        last = f"sha256 {digest.hexdigest()[:12]}... is not the manifest's {item.sha256[:12]}..."
    tmp.unlink(missing_ok=True)
    raise ValueError(last)


def download_all(
    items: Sequence[Fetch],
    s3_for: Callable[[str | None], Any],
    workers: int = 8,
    attempts: int = 2,
    on_done: Callable[[Fetch, str], None] = lambda item, state: None,
) -> DownloadResult:
    """Fetch every item with ``workers`` threads (boto3 clients are thread-safe: one per region)."""
    result = DownloadResult()
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="export") as pool:
        futures = {pool.submit(_fetch_one, s3_for(i.region), i, attempts): i for i in items}
        try:
            for future in as_completed(futures):
                item = futures[future]
                try:
                    state, size = future.result()
                except Exception as exc:  # reported per object; the others go on
                    result.failed.append(f"s3://{item.bucket}/{item.key}: {exc}")
                    on_done(item, "failed")
                    continue
                if state == "present":
                    result.present += 1
                else:
                    result.fetched += 1
                    result.bytes += size
                on_done(item, state)
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    return result
