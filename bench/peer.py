"""lenslog against CleanVision on the checks both make, on the same files, both on one core.

CleanVision (``Imagelab.find_issues(n_jobs=1)``) opens every image at full size for its property
checks and again for its hashes. lenslog's figure is one pass of the gate over the same files
plus the duplicate matching both tools do (sha256 equality; pHash Hamming distance within the
configured ``near_duplicates.max_distance``), in the same process, timed the same way (one pass).

Both tools then say, per image, which of these they found: dark, light (lenslog: overexposed),
blurry, low information, grayscale, odd aspect ratio, exact duplicate, near duplicate. The
disagreements are listed with their cause (different measures and thresholds, see the docs).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.images import Item

CHECKS = (
    "dark",
    "light",
    "blurry",
    "low_information",
    "grayscale",
    "odd_aspect_ratio",
    "exact_dup",
    "near_dup",
)
LENSLOG_FLAG = {"overexposed": "light"}


def _cleanvision(folder: Path) -> tuple[dict[str, set[str]], float, int]:
    from cleanvision import Imagelab

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        start = time.perf_counter()
        lab = Imagelab(data_path=str(folder), verbose=False)
        lab.find_issues(
            issue_types={
                "dark": {},
                "light": {},
                "blurry": {},
                "low_information": {},
                "grayscale": {},
                "odd_aspect_ratio": {},
                "exact_duplicates": {},
                "near_duplicates": {},
            },
            n_jobs=1,
        )
        elapsed = time.perf_counter() - start
    issues = lab.issues
    found: dict[str, set[str]] = {}
    for path, row in issues.iterrows():
        name = Path(str(path)).name
        got = {c for c in CHECKS[:6] if row.get(f"is_{c}_issue", False)}
        if row.get("is_exact_duplicates_issue", False):
            got.add("exact_dup")
        if row.get("is_near_duplicates_issue", False):
            got.add("near_dup")
        found[name] = got
    return found, elapsed, len(issues)


def _lenslog(paths: Sequence[Path], config: Any) -> tuple[dict[str, set[str]], float]:
    from lenslog.domain import gate, hashing

    start = time.perf_counter()
    found: dict[str, set[str]] = {}
    seen: dict[str, list[str]] = {}
    hashes: list[tuple[str, int]] = []
    limit = config.near_duplicates.max_distance
    for path in paths:
        ins = gate.inspect(gate.GateInput(key=f"cam-01/{path.name}", data=path.read_bytes()), config)
        flags = {LENSLOG_FLAG.get(f, f) for f in (ins.quality.flags if ins.quality else [])}
        found[path.name] = flags & set(CHECKS)
        if ins.hashes:
            seen.setdefault(ins.hashes.sha256, []).append(path.name)
        if ins.phash is not None and not ins.low_information:
            hashes.append((path.name, ins.phash))
    for names in seen.values():
        if len(names) > 1:
            for n in names:
                found[n].add("exact_dup")
    for i, (a, ha) in enumerate(hashes):
        for b, hb in hashes[i + 1 :]:
            if hashing.hamming(ha, hb) <= limit and "exact_dup" not in found[a] | found[b]:
                found[a].add("near_dup")
                found[b].add("near_dup")
    return found, time.perf_counter() - start


WHY = {
    "dark": "lenslog: mean grey < 40 and 95th percentile < 90; CleanVision: a score from its 99th "
    "brightness percentile, relative to the data set",
    "light": "lenslog: mean > 220 and 5th percentile > 170; CleanVision: its 5th brightness percentile",
    "blurry": "lenslog: Laplacian variance of the 512 px grey copy < 30; CleanVision: edge strength of "
    "a 64 px copy with a data-set-relative threshold",
    "low_information": "lenslog: grey histogram entropy < 3 bits (a night frame qualifies); "
    "CleanVision: a normalised entropy score < 0.3",
    "grayscale": "lenslog: mean channel spread < 3 levels, whatever the file's mode; CleanVision: "
    "the file's mode is L, so an RGB file of a grey picture is not grayscale to it",
    "odd_aspect_ratio": "lenslog: longest/shortest > 3; CleanVision: shortest/longest < 0.5",
    "exact_dup": "both hash the bytes or pixels; CleanVision hashes decoded pixels, lenslog the bytes",
    "near_dup": "lenslog: pHash distance <= 8 of 64 bits; CleanVision: identical pHash/dHash only",
}


def compare(items: Sequence[Item], config: Any, log: Any = print) -> dict[str, Any]:
    paths = [i.path for i in items]
    tmp = Path(tempfile.mkdtemp(prefix="lenslog-peer-"))
    try:
        for p in paths:
            os.symlink(p.resolve(), tmp / p.name)
        awkward = [p.name for p in paths if p.name.endswith(".png") and _is_grey_alpha(p)]
        aborted = None
        if awkward:
            try:
                _cleanvision(tmp)
            except Exception as exc:  # the point: one file stops CleanVision's whole run
                aborted = f"{type(exc).__name__}: {str(exc)[:120]}"
            for name in awkward:
                (tmp / name).unlink()
        log("  peer: CleanVision run")
        cv, cv_seconds, cv_count = _cleanvision(tmp)
        log("  peer: lenslog run")
        ll_paths = [p for p in paths if p.name in cv]
        _, ll_seconds = _lenslog(ll_paths, config)
        everything, _ = _lenslog(paths, config)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    disagreements = []
    for name in sorted(cv):
        for check in CHECKS:
            a, b = check in everything[name], check in cv[name]
            if a != b:
                disagreements.append(
                    {"image": name, "check": check, "lenslog": a, "cleanvision": b, "why": WHY[check]}
                )
    skipped = sorted(p.name for p in paths if p.name not in cv and p.name not in awkward)
    return {
        "images": len(paths),
        "cleanvision_images": cv_count,
        "cleanvision_ms_per_image": cv_seconds * 1000 / max(1, cv_count),
        "lenslog_ms_per_image": ll_seconds * 1000 / max(1, len(ll_paths)),
        "cleanvision_speedup": (cv_seconds / max(1, cv_count)) / (ll_seconds / max(1, len(ll_paths))),
        "cleanvision_skipped": skipped,
        "cleanvision_aborted_on": awkward if aborted else [],
        "cleanvision_abort_error": aborted,
        "lenslog_decided_all": sorted(everything) == sorted(p.name for p in paths),
        "lenslog_flags": {k: sorted(v) for k, v in everything.items()},
        "cleanvision_flags": {k: sorted(v) for k, v in cv.items()},
        "disagreements": disagreements,
    }


def _is_grey_alpha(path: Path) -> bool:
    from PIL import Image

    with Image.open(path) as img:
        return img.mode == "LA"
