"""Materialise a snapshot in a folder: the label files first, then the images (in parallel,
verified, resumable), then the marker that says the export is complete.

``<out>/.lenslog-export.json`` names the snapshot and format of the folder and whether the export
finished: a rerun resumes an unfinished export of the same snapshot, and refuses to mix another
snapshot or format into the folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lenslog.domain.snapshot import SPLITS
from lenslog.export import formats
from lenslog.export.download import DownloadResult, Fetch, download_all

Format = Literal["yolo", "coco", "manifest"]
MARKER = ".lenslog-export.json"


class ExportConflict(ValueError):
    """The output folder holds another export (another snapshot or format)."""


@dataclass
class ExportResult:
    snapshot_id: str
    format: str
    out: Path
    images: dict[str, int] = field(default_factory=dict)  # per split
    skipped: dict[str, int] = field(default_factory=dict)  # per label status
    download: DownloadResult = field(default_factory=DownloadResult)
    files: list[Path] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.download.failed


def read_marker(out: Path) -> dict[str, Any] | None:
    try:
        marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def check_folder(out: Path, snapshot_id: str, fmt: str) -> None:
    marker = read_marker(out)
    if marker is None:
        if out.exists() and any(p.name != MARKER for p in out.iterdir()):
            raise ExportConflict(f"--out {out}: the folder is not empty and holds no lenslog export")
        return
    if marker.get("snapshot_id") != snapshot_id or marker.get("format") != fmt:
        raise ExportConflict(
            f"--out {out}: holds the {marker.get('format')} export of snapshot {marker.get('snapshot_id')}; "
            "choose another folder"
        )


def _write(path: Path, text: str, files: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    files.append(path)


def export(
    record: Any,
    lines: Sequence[dict[str, Any]],
    fmt: Format,
    out: Path,
    s3_for: Callable[[str | None], Any],
    include_unlabelled: bool = False,
    workers: int = 8,
    on_plan: Callable[[int], None] = lambda total: None,
    on_done: Callable[[Fetch, str], None] = lambda item, state: None,
) -> ExportResult:
    """Write the export of ``record`` (a complete snapshot) from its manifest ``lines``."""
    check_folder(out, record.snapshot_id, fmt)
    out.mkdir(parents=True, exist_ok=True)
    marker = {"snapshot_id": record.snapshot_id, "format": fmt, "content_hash": record.content_hash}
    (out / MARKER).write_text(json.dumps({**marker, "complete": False}, indent=2), encoding="utf-8")
    result = ExportResult(snapshot_id=record.snapshot_id, format=fmt, out=out)
    chosen = []
    for line in lines:
        if fmt == "manifest" or formats.exported(line, include_unlabelled):
            chosen.append(line)
            result.images[line["split"]] = result.images.get(line["split"], 0) + 1
        else:
            status = line["labels"]["status"]
            result.skipped[status] = result.skipped.get(status, 0) + 1
    names = formats.class_names(chosen)
    by_split = {split: [x for x in chosen if x["split"] == split] for split in SPLITS}
    files = result.files
    if fmt == "manifest":
        created = record.created_at.isoformat()
        for split, rows in by_split.items():
            text = "".join(
                json.dumps(
                    formats.augmented_manifest_line(x, names, record.snapshot_id, created), sort_keys=True
                )
                + "\n"
                for x in rows
            )
            _write(out / f"{split}.manifest", text, files)
    else:
        if fmt == "yolo":
            index = {n: i for i, n in enumerate(names)}
            for split, rows in by_split.items():
                (out / "images" / split).mkdir(parents=True, exist_ok=True)
                (out / "labels" / split).mkdir(parents=True, exist_ok=True)
                for x in rows:
                    stem = formats.file_name(x).rsplit(".", 1)[0]
                    _write(out / "labels" / split / f"{stem}.txt", formats.yolo_label(x, index), [])
            _write(
                out / "data.yaml",
                formats.yolo_data_yaml(str(out.resolve()), names, record.snapshot_id, record.content_hash),
                files,
            )
        else:
            for split, rows in by_split.items():
                (out / "images" / split).mkdir(parents=True, exist_ok=True)
                doc = formats.coco_document(rows, names, split, record.snapshot_id)
                _write(out / "annotations" / f"instances_{split}.json", json.dumps(doc), files)
        fetches = [
            Fetch(
                bucket=x["s3"]["bucket"],
                key=x["s3"]["key"],
                region=x["s3"].get("region"),
                sha256=x["sha256"],
                dest=out / "images" / x["split"] / formats.file_name(x),
            )
            for x in chosen
        ]
        on_plan(len(fetches))
        result.download = download_all(fetches, s3_for, workers=workers, on_done=on_done)
    _write(
        out / "snapshot.json",
        json.dumps(record.model_dump(mode="json", exclude={"continuation"}), indent=2),
        files,
    )
    (out / MARKER).write_text(json.dumps({**marker, "complete": result.complete}, indent=2), encoding="utf-8")
    return result
