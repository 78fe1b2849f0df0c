"""The whole way round: labelled datasets of real photos (YOLO, Pascal VOC and COCO, as they lie on
disk) uploaded to the landing bucket and decided by the real gate, then exported with
``lenslog export`` as YOLO and as COCO and read back by the tools that train on them (supervision,
pycocotools): every accepted image with labels is found in its recorded split with the boxes the
gate attached to it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lenslog.cli import main as cli
from lenslog.local.uploader import files_to_upload, upload_all
from tests.component.labelled import Expected
from tests.component.test_export_roundtrip import _xyxy, normalised, same_boxes

DATASETS = Path(__file__).resolve().parents[1] / "data" / "datasets"
DATASET_DAYS = {"yolo": "2026-11-18", "voc": "2026-11-19", "coco": "2026-11-20"}  # several split groups


@pytest.fixture
def decided(eu) -> list[Expected]:
    """Each dataset uploaded as `lenslog ingest` does; what the gate decided on its images."""
    decisions = []
    for name, day in DATASET_DAYS.items():
        meta = {"camera-id": f"partner-{name}", "captured-at": f"{day}T10:00:00Z", "source-type": "public"}
        uploads = upload_all(eu.s3, "eu", eu.res.landing_bucket, files_to_upload([DATASETS / name]), meta)
        eu.drain()
        decisions += [eu.ledger.get_decision(u.bucket, u.key, u.version) for u in uploads if not u.is_sidecar]
    out = [
        Expected(
            image_id=d["image_id"],
            split=d["split"],
            status=d["status"],
            label_status=d["labels"]["status"],
            width=d["image"]["width"],
            height=d["image"]["height"],
            boxes=[(o["class"], tuple(o["box"])) for o in d["labels"]["objects"]],
            camera_id=d["metadata"]["camera_id"],
        )
        for d in decisions
        if d["status"] in ("accepted", "near_duplicate")
    ]
    # the datasets' six photos, each accepted: five with boxes, chelsea a null image (COCO)
    assert len(out) == 6 and sum(1 for e in out if e.boxes) == 5, out
    assert {e.label_status for e in out} == {"labelled", "null"}
    return out


def export_to(capsys, out: Path, fmt: str) -> dict:
    code = cli(["export", "--cell", "eu", "--format", fmt, "--out", str(out)])
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0, summary
    return summary


def test_the_gates_labels_come_back_from_a_yolo_export_read_by_supervision(decided, tmp_path, capsys):
    import supervision as sv

    out = tmp_path / "yolo"
    export_to(capsys, out, "yolo")
    by_id = {e.image_id: e for e in decided}
    found: dict[str, tuple[str, list]] = {}
    for split in ("train", "val", "test"):
        if not (out / "images" / split).is_dir():
            continue
        ds = sv.DetectionDataset.from_yolo(
            images_directory_path=str(out / "images" / split),
            annotations_directory_path=str(out / "labels" / split),
            data_yaml_path=str(out / "data.yaml"),
        )
        for path, detections in ds.annotations.items():
            e = by_id[Path(path).stem]
            found[e.image_id] = (
                split,
                [
                    (ds.classes[int(c)], normalised(xyxy, e.width, e.height))
                    for xyxy, c in zip(detections.xyxy, detections.class_id, strict=True)
                ],
            )
    assert set(found) == set(by_id)
    for e in decided:
        split, boxes = found[e.image_id]
        assert split == e.split and same_boxes(boxes, e.boxes), (e, boxes)


def test_the_gates_labels_come_back_from_a_coco_export_read_by_pycocotools(decided, tmp_path, capsys):
    from pycocotools.coco import COCO

    out = tmp_path / "coco"
    export_to(capsys, out, "coco")
    found: dict[str, tuple[str, list]] = {}
    for split in ("train", "val", "test"):
        path = out / "annotations" / f"instances_{split}.json"
        if not path.is_file():
            continue
        coco = COCO(str(path))
        names = {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())}
        for image in coco.loadImgs(coco.getImgIds()):
            assert (out / "images" / split / image["file_name"]).is_file()
            found[Path(image["file_name"]).stem] = (
                split,
                [
                    (names[a["category_id"]], normalised(_xyxy(a["bbox"]), image["width"], image["height"]))
                    for a in coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
                ],
            )
    assert set(found) == {e.image_id for e in decided}
    for e in decided:
        split, boxes = found[e.image_id]
        assert split == e.split and same_boxes(boxes, e.boxes), (e, boxes)
