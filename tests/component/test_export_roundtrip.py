"""Exports read back by the tools that train on them: a labelled set ingested, exported as YOLO and
COCO with ``lenslog export``, loaded with supervision and pycocotools: every exported image is
found, in its recorded split, with the same boxes. Manifests are JSON Lines with ``s3://`` URIs
and nothing downloaded; downloads are checked against sha256 and resume after an interruption."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lenslog.cli import main as cli
from lenslog.export.run import MARKER, export
from lenslog.runtime import snapshot_service
from tests.component.labelled import Expected, ingest_labelled_set

TOLERANCE = 1e-3  # YOLO keeps 6 decimals, COCO a thousandth of a pixel


@pytest.fixture
def labelled(eu) -> list[Expected]:
    """The ingested records of a labelled set (see tests.component.labelled)."""
    return ingest_labelled_set(eu)


def run_export(capsys, *args: str) -> tuple[int, dict]:
    code = cli(["export", "--cell", "eu", *args])  # with its progress bar (on stderr)
    out = capsys.readouterr().out.strip().splitlines()
    return code, json.loads(out[-1]) if out else {}


def trained_on(e: Expected, include_unlabelled: bool = False) -> bool:
    return e.label_status in ("labelled", "null") or (include_unlabelled and e.label_status == "unlabelled")


def normalised(xyxy, w: int, h: int) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in xyxy)
    return ((x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h)


def same_boxes(found: list[tuple[str, tuple]], wanted: list[tuple[str, tuple]]) -> bool:
    if sorted(c for c, _ in found) != sorted(c for c, _ in wanted):
        return False
    pool = list(wanted)
    for cls, box in found:
        match = next(
            (
                w
                for w in pool
                if w[0] == cls and all(abs(a - b) <= TOLERANCE for a, b in zip(box, w[1], strict=True))
            ),
            None,
        )
        if match is None:
            return False
        pool.remove(match)
    return True


def test_a_yolo_export_reads_back_with_supervision_every_image_in_its_split_with_its_boxes(
    labelled, tmp_path, capsys
):
    import supervision as sv

    out = tmp_path / "yolo"
    code, summary = run_export(capsys, "--format", "yolo", "--out", str(out))
    assert code == 0, summary
    assert summary["skipped"] == {"invalid": 1, "unlabelled": 1}
    data = (out / "data.yaml").read_text()
    assert (
        f'path: "{out.resolve()}"' in data and "train: images/train" in data and "test: images/test" in data
    )

    found: dict[str, tuple[str, list]] = {}
    for split in ("train", "val", "test"):
        ds = sv.DetectionDataset.from_yolo(
            images_directory_path=str(out / "images" / split),
            annotations_directory_path=str(out / "labels" / split),
            data_yaml_path=str(out / "data.yaml"),
        )
        assert ds.classes == ["forklift", "pallet", "person"]
        for path, detections in ds.annotations.items():
            w, h = (
                labelled_by_id(labelled)[Path(path).stem].width,
                labelled_by_id(labelled)[Path(path).stem].height,
            )
            boxes = [
                (ds.classes[int(c)], normalised(xyxy, w, h))
                for xyxy, c in zip(detections.xyxy, detections.class_id, strict=True)
            ]
            found[Path(path).stem] = (split, boxes)
    wanted = [e for e in labelled if trained_on(e)]
    assert set(found) == {e.image_id for e in wanted}
    for e in wanted:
        split, boxes = found[e.image_id]
        assert split == e.split, e
        assert same_boxes(boxes, e.boxes), (e, boxes)
    null = next(e for e in labelled if e.label_status == "null")
    assert (out / "labels" / null.split / f"{null.image_id}.txt").read_text() == ""  # a null image


def labelled_by_id(labelled: list[Expected]) -> dict[str, Expected]:
    return {e.image_id: e for e in labelled}


def test_a_coco_export_reads_back_with_pycocotools_and_supervision(labelled, tmp_path, capsys, monkeypatch):
    import supervision as sv
    from pycocotools.coco import COCO

    from lenslog.export import run

    monkeypatch.setattr(run, "CHUNK_IMAGES", 3)  # streamed in chunks: ids and arrays joined across them

    out = tmp_path / "coco"
    code, summary = run_export(capsys, "--format", "coco", "--out", str(out), "--include-unlabelled")
    assert code == 0, summary
    assert summary["skipped"] == {"invalid": 1}

    found: dict[str, tuple[str, list]] = {}
    for split in ("train", "val", "test"):
        coco = COCO(str(out / "annotations" / f"instances_{split}.json"))
        names = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
        for image in coco.loadImgs(coco.getImgIds()):
            assert (out / "images" / split / image["file_name"]).is_file()
            anns = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
            boxes = [
                (names[a["category_id"]], normalised(_xyxy(a["bbox"]), image["width"], image["height"]))
                for a in anns
            ]
            found[Path(image["file_name"]).stem] = (split, boxes)
        ds = sv.DetectionDataset.from_coco(
            images_directory_path=str(out / "images" / split),
            annotations_path=str(out / "annotations" / f"instances_{split}.json"),
        )
        assert len(ds) == len(coco.getImgIds())
        for path, detections in ds.annotations.items():
            e = labelled_by_id(labelled)[Path(path).stem]
            boxes = [
                (ds.classes[int(c)], normalised(xyxy, e.width, e.height))
                for xyxy, c in zip(detections.xyxy, detections.class_id, strict=True)
            ]
            assert same_boxes(boxes, e.boxes), (e, boxes)
    wanted = [e for e in labelled if trained_on(e, include_unlabelled=True)]
    assert set(found) == {e.image_id for e in wanted}
    for e in wanted:
        split, boxes = found[e.image_id]
        assert split == e.split and same_boxes(boxes, e.boxes), (e, boxes)


def _xyxy(bbox: list[float]) -> tuple[float, float, float, float]:
    x, y, w, h = bbox
    return (x, y, x + w, y + h)


def test_a_manifest_export_is_json_lines_of_s3_uris_and_downloads_nothing(labelled, eu, tmp_path, capsys):
    out = tmp_path / "manifest"
    code, summary = run_export(capsys, "--format", "manifest", "--out", str(out))
    assert code == 0 and summary["downloaded"] == 0
    assert not (out / "images").exists()
    rows = {}
    for split in ("train", "val", "test"):
        for text in (out / f"{split}.manifest").read_text().splitlines():
            row = json.loads(text)
            rows[row["lenslog"]["image_id"]] = (split, row)
    assert set(rows) == {e.image_id for e in labelled}  # every image, with its label status
    for e in labelled:
        split, row = rows[e.image_id]
        assert split == e.split and row["lenslog"]["labels"] == e.label_status
        bucket, _, key = row["source-ref"].removeprefix("s3://").partition("/")
        assert eu.s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
        meta = row["bounding-box-metadata"]
        assert meta["type"] == "groundtruth/object-detection"
        classes = [meta["class-map"][str(a["class_id"])] for a in row["bounding-box"]["annotations"]]
        assert sorted(classes) == sorted(c for c, _ in e.boxes)
        assert row["bounding-box"]["image_size"] == [{"width": e.width, "height": e.height, "depth": 3}]


class Interrupting:
    """An S3 client whose ``after``-th download is interrupted (Ctrl-C during an export)."""

    def __init__(self, s3, after: int):
        self.s3, self.after, self.calls = s3, after, 0

    def get_object(self, **kwargs):
        self.calls += 1
        if self.calls > self.after:
            raise KeyboardInterrupt
        return self.s3.get_object(**kwargs)


def test_an_interrupted_export_resumes_and_fetches_only_what_is_missing(
    labelled, eu, stack, tmp_path, capsys
):
    service = snapshot_service(stack.settings("eu"))
    record = service.create()
    out = tmp_path / "resume"
    s3 = Interrupting(eu.s3, 2)
    with pytest.raises(KeyboardInterrupt):
        export(record, service.lines(record), "yolo", out, lambda _: s3, workers=1)
    assert json.loads((out / MARKER).read_text())["complete"] is False
    assert not list(out.glob("images/*/*.part"))
    have = len(list(out.glob("images/*/*.jpg")))
    assert have == 2

    code, summary = run_export(capsys, "--format", "yolo", "--out", str(out))  # the same command again
    assert code == 0 and summary["snapshot_id"] == record.snapshot_id
    assert summary["already_present"] == 2 and summary["downloaded"] == 6 - 2
    assert json.loads((out / MARKER).read_text())["complete"] is True

    assert cli(["export", "--cell", "eu", "--format", "yolo", "--out", str(out), "--quiet"]) == 2
    assert "already holds the export" in capsys.readouterr().err  # never mixed with a new snapshot


def test_bytes_that_do_not_match_the_manifest_sha256_are_not_kept(labelled, eu, tmp_path, capsys):
    victim = next(e for e in labelled if e.label_status == "labelled")
    key = f"images/{victim.image_id[:2]}/{victim.image_id}.jpg"
    record = snapshot_service_for(eu).create()
    eu.s3.put_object(Bucket=eu.res.curated_bucket, Key=key, Body=b"tampered bytes")
    out = tmp_path / "verified"
    code, summary = run_export(
        capsys, "--format", "coco", "--out", str(out), "--snapshot", record.snapshot_id
    )
    assert code == 1
    assert (
        len(summary["failed"]) == 1
        and "sha256" in summary["failed"][0]
        and victim.image_id in summary["failed"][0]
    )
    assert not list(out.glob(f"images/*/{victim.image_id}*"))
    assert summary["downloaded"] == 5
    assert json.loads((out / MARKER).read_text())["complete"] is False


def snapshot_service_for(cell):
    return snapshot_service(cell.stack.settings(cell.name))


def test_an_export_refuses_a_folder_holding_something_else(labelled, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    code = cli(["export", "--cell", "eu", "--format", "yolo", "--out", str(tmp_path), "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "not empty" in err[0]
