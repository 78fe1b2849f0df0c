"""Materialise a snapshot in a folder, streaming: the manifest is read part after part, and each
chunk of images has its label files (or COCO entries, or manifest lines) written and its images
downloaded (in parallel, verified, resumable) before the next chunk is read, so memory stays flat
whatever the snapshot's size. COCO documents are streamed too: images and annotations go to two
scratch files per split, joined into ``instances_<split>.json`` at the end.

``<out>/.lenslog-export.json`` names the snapshot and format of the folder and whether the export
finished: a rerun resumes an unfinished export of the same snapshot, and refuses to mix another
snapshot or format into the folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any, Literal

from lenslog.domain.snapshot import SPLITS
from lenslog.export import formats
from lenslog.export.download import DownloadResult, Fetch, download_all

Format = Literal["yolo", "coco", "manifest"]
MARKER = ".lenslog-export.json"
CHUNK_IMAGES = 2_000


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
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def check_folder(out: Path, snapshot_id: str, fmt: str) -> None:
    marker = read_marker(out)
    if marker is None:
        if out.exists() and (not out.is_dir() or any(p.name != MARKER for p in out.iterdir())):
            raise ExportConflict(f"--out {out}: the folder is not empty and holds no lenslog export")
        return
    if marker.get("snapshot_id") != snapshot_id or marker.get("format") != fmt:
        raise ExportConflict(
            f"--out {out}: holds the {marker.get('format')} export of snapshot {marker.get('snapshot_id')}; "
            "choose another folder"
        )


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def planned_images(record: Any, fmt: Format, include_unlabelled: bool) -> int:
    """How many images the export will hold, from the snapshot's counts (for the progress bar)."""
    labels = record.counts.get("labels") or {}
    if fmt == "manifest":
        return int(record.counts.get("images", 0))
    wanted = ("labelled", "null", "unlabelled") if include_unlabelled else ("labelled", "null")
    return sum(int(labels.get(s, 0)) for s in wanted)


class _CocoWriter:
    """One split's ``instances_<split>.json``, written as images and annotations arrive."""

    def __init__(self, out: Path, split: str, names: list[str], snapshot_id: str, stack: ExitStack):
        self.path = out / "annotations" / f"instances_{split}.json"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.split, self.names, self.snapshot_id = split, names, snapshot_id
        self.scratch = [self.path.with_name(f".{self.path.name}.{k}") for k in ("images", "annotations")]
        self.files: list[IO[str]] = [stack.enter_context(p.open("w", encoding="utf-8")) for p in self.scratch]
        self.images = self.annotations = 0

    def add(self, line: dict[str, Any]) -> None:
        doc = formats.coco_document([line], self.names, self.split, self.snapshot_id)
        for image in doc["images"]:
            self.images += 1
            image["id"] = self.images
            self.files[0].write(("," if self.images > 1 else "") + json.dumps(image))
        for ann in doc["annotations"]:
            self.annotations += 1
            ann["id"], ann["image_id"] = self.annotations, self.images
            self.files[1].write(("," if self.annotations > 1 else "") + json.dumps(ann))

    def close(self) -> Path:
        for f in self.files:
            f.close()
        head = formats.coco_document([], self.names, self.split, self.snapshot_id)
        tmp = self.path.with_name(self.path.name + ".part")
        with tmp.open("w", encoding="utf-8") as out:
            out.write(json.dumps({k: v for k, v in head.items() if k not in ("images", "annotations")})[:-1])
            for name, scratch in zip(("images", "annotations"), self.scratch, strict=True):
                out.write(f', "{name}": [')
                with scratch.open(encoding="utf-8") as fh:
                    while chunk := fh.read(1 << 20):
                        out.write(chunk)
                out.write("]")
            out.write("}")
        tmp.replace(self.path)
        for scratch in self.scratch:
            scratch.unlink()
        return self.path


def _chunks(lines: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    it = iter(lines)
    while chunk := list(islice(it, size)):
        yield chunk


def export(
    record: Any,
    lines: Iterable[dict[str, Any]],
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
    names = sorted(record.counts.get("classes") or {})  # every class of the snapshot, in name order
    index = {n: i for i, n in enumerate(names)}
    if fmt != "manifest":
        on_plan(planned_images(record, fmt, include_unlabelled))
        for split in SPLITS:
            (out / "images" / split).mkdir(parents=True, exist_ok=True)
            if fmt == "yolo":
                (out / "labels" / split).mkdir(parents=True, exist_ok=True)
    created = record.created_at.isoformat()
    with ExitStack() as stack:
        coco = (
            {s: _CocoWriter(out, s, names, record.snapshot_id, stack) for s in SPLITS}
            if fmt == "coco"
            else {}
        )
        manifests = (
            {s: stack.enter_context((out / f"{s}.manifest.part").open("w", encoding="utf-8")) for s in SPLITS}
            if fmt == "manifest"
            else {}
        )
        for chunk in _chunks(lines, CHUNK_IMAGES):
            fetches = []
            for line in chunk:
                split = line["split"]
                if fmt != "manifest" and not formats.exported(line, include_unlabelled):
                    status = line["labels"]["status"]
                    result.skipped[status] = result.skipped.get(status, 0) + 1
                    continue
                result.images[split] = result.images.get(split, 0) + 1
                if fmt == "manifest":
                    row = formats.augmented_manifest_line(line, names, record.snapshot_id, created)
                    manifests[split].write(json.dumps(row, sort_keys=True) + "\n")
                    continue
                name = formats.file_name(line)
                if fmt == "yolo":
                    stem = name.rsplit(".", 1)[0]
                    _write(out / "labels" / split / f"{stem}.txt", formats.yolo_label(line, index))
                else:
                    coco[split].add(line)
                fetches.append(
                    Fetch(
                        bucket=line["s3"]["bucket"],
                        key=line["s3"]["key"],
                        region=line["s3"].get("region"),
                        sha256=line["sha256"],
                        dest=out / "images" / split / name,
                    )
                )
            if fetches:
                done = download_all(fetches, s3_for, workers=workers, on_done=on_done)
                result.download.fetched += done.fetched
                result.download.present += done.present
                result.download.bytes += done.bytes
                result.download.failed += done.failed
        for split, fh in manifests.items():
            fh.close()
            (out / f"{split}.manifest.part").replace(out / f"{split}.manifest")
            result.files.append(out / f"{split}.manifest")
        result.files += [w.close() for w in coco.values()]
    if fmt == "yolo":
        _write(
            out / "data.yaml",
            formats.yolo_data_yaml(str(out.resolve()), names, record.snapshot_id, record.content_hash),
        )
        result.files.append(out / "data.yaml")
    _write(
        out / "snapshot.json", json.dumps(record.model_dump(mode="json", exclude={"continuation"}), indent=2)
    )
    result.files.append(out / "snapshot.json")
    (out / MARKER).write_text(json.dumps({**marker, "complete": result.complete}, indent=2), encoding="utf-8")
    return result
