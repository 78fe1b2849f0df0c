"""Labelled datasets of real photos, uploaded exactly as they lie on disk (the uploader of
``lenslog ingest`` / ``lenslog demo --images``): YOLO, Pascal VOC and COCO. Every valid box is
attached to its image, in the upright frame, and every bad label gets its reason.
(tests/data/datasets/README.md: the photos, their licences and the mistakes made on purpose.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from lenslog.local.uploader import files_to_upload, upload_all

DATASETS = Path(__file__).resolve().parents[1] / "data" / "datasets"
META = {"camera-id": "partner-cam", "captured-at": "2026-11-20T10:00:00Z", "source-type": "public"}


def ingest(eu, folder: Path) -> dict[str, dict]:
    """Upload a dataset folder as the CLI does; the decisions on its images, by key."""
    plan = files_to_upload([folder])
    uploads = upload_all(eu.s3, "eu", eu.res.landing_bucket, plan, META, workers=2)
    eu.drain()
    out = {}
    for u in uploads:
        if not u.is_sidecar:
            out[u.key] = eu.ledger.get_decision(u.bucket, u.key, u.version)
    return out


def px_box(x0: float, y0: float, x1: float, y1: float, w: int, h: int) -> list[float]:
    """A box drawn as pixel corners, as the record keeps it: [cx, cy, w, h] normalised."""
    return [(x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h]


def objects(decision: dict) -> list[tuple[str, list[float]]]:
    return [(o["class"], o["box"]) for o in decision["labels"]["objects"]]


def assert_boxes(decision: dict, expected: list[tuple[str, list[float]]]) -> None:
    got = objects(decision)
    assert [c for c, _ in got] == [c for c, _ in expected]
    for (_, box), (_, want) in zip(got, expected, strict=True):
        assert box == pytest.approx(want, abs=2e-6)


def test_a_yolo_dataset_of_real_photos(eu):
    d = ingest(eu, DATASETS / "yolo")
    assert sorted(d) == ["images/train/camera.jpg", "images/val/coffee.jpg"]  # label files are no images
    camera, coffee = d["images/train/camera.jpg"], d["images/val/coffee.jpg"]
    assert camera["status"] == coffee["status"] == "accepted"
    assert_boxes(
        camera,
        [
            ("person", [0.322266, 0.563477, 0.644531, 0.873047]),
            ("camera", [0.571289, 0.317383, 0.146484, 0.107422]),
            ("tripod", px_box(225, 180, 410, 512, 512, 512)),  # the polygon's bounding box
        ],
    )
    assert [o["kind"] for o in camera["labels"]["objects"]] == ["box", "box", "polygon"]
    assert camera["labels"]["warnings"] == ["reduced: line 3: polygon to its bounding box"]
    assert_boxes(
        coffee,
        [
            ("cup", [0.491667, 0.4, 0.4, 0.7]),
            ("spoon", [0.620833, 0.4875, 0.175, 0.65]),
            ("saucer", [0.4625, 0.56875, 0.675, 0.7875]),
        ],
    )
    assert coffee["labels"]["warnings"] == [
        "unknown_class: line 4: class id 9 not in the class map",
        "out_of_bounds: line 5: spoon",
    ]
    assert coffee["metadata"]["classes"] == ["cup", "saucer", "spoon"]
    assert eu.landing() == []
    assert sorted(k.split("/", 2)[2] for k in eu.curated() if k.startswith("labels/")) == [
        "data.yaml",
        "labels/train/camera.txt",
        "labels/val/coffee.txt",
    ]


COINS = [
    (22, 33, 66, 73), (81, 38, 119, 73), (132, 28, 178, 73), (192, 30, 239, 73), (255, 33, 296, 73),
    (305, 15, 364, 72), (19, 233, 74, 288), (92, 245, 135, 288), (145, 237, 200, 288), (220, 240, 268, 288),
]  # fmt: skip


def test_a_pascal_voc_dataset_of_real_photos(eu):
    d = ingest(eu, DATASETS / "voc")
    assert sorted(d) == ["JPEGImages/coins.jpg", "JPEGImages/rocket.jpg"]
    coins, rocket = d["JPEGImages/coins.jpg"], d["JPEGImages/rocket.jpg"]
    assert coins["labels"]["status"] == "labelled" and coins["labels"]["warnings"] == []
    assert_boxes(coins, [("coin", px_box(*c, 384, 303)) for c in COINS])
    assert_boxes(
        rocket,
        [
            ("rocket", px_box(300, 125, 340, 410, 640, 427)),
            ("tower", px_box(0, 0, 90, 426, 640, 427)),
            ("tower", px_box(555, 0, 639, 426, 640, 427)),
            ("tower", px_box(165, 120, 210, 410, 640, 427)),
            ("tower", px_box(430, 120, 475, 410, 640, 427)),
        ],
    )
    assert [o.get("truncated") for o in rocket["labels"]["objects"]] == [False, True, True, False, False]
    assert [o.get("difficult") for o in rocket["labels"]["objects"]] == [False, False, False, True, True]
    assert rocket["labels"]["warnings"] == ["duplicate: object 6: tower", "zero_area: object 7: light"]


def test_a_coco_dataset_of_real_photos(eu):
    d = ingest(eu, DATASETS / "coco")
    assert sorted(d) == ["images/astronaut.jpg", "images/chelsea.jpg"]
    astronaut, chelsea = d["images/astronaut.jpg"], d["images/chelsea.jpg"]
    assert_boxes(
        astronaut,
        [
            ("person", px_box(20, 15, 365, 512, 512, 512)),
            ("rocket", px_box(355, 0, 470, 290, 512, 512)),
            ("helmet", px_box(275, 345, 505, 512, 512, 512)),
            ("flag", px_box(0, 0, 100, 512, 512, 512)),
        ],
    )
    assert [o["iscrowd"] for o in astronaut["labels"]["objects"]] == [0, 0, 0, 1]
    assert astronaut["labels"]["warnings"] == ["unknown_class: annotation 5: class id 2 not in the class map"]
    assert chelsea["labels"]["status"] == "null" and chelsea["labels"]["objects"] == []
    assert chelsea["metadata"]["classes"] == []
    files = eu.items("LABELFILE#")  # the COCO file's record: 3 images covered, its file-level warning
    assert len(files) == 1 and '"images": 3' in files[0]["doc"]["S"]
    assert "image_id 999 is not in images" in files[0]["doc"]["S"]


def test_verify_accounts_for_every_label_file_and_reports_the_orphan_label(eu, stack):
    from tests.reliability.support import reconcile

    ingest(eu, DATASETS / "coco")
    eu.put("bad/annotations.json", b'{"images": [')  # unreadable: kept in quarantine with its reason
    eu.put("stray/labels/nobody.txt", b"0 0.5 0.5 0.1 0.1\n")  # no image will ever come
    eu.drain()
    report = reconcile(stack)
    assert report.orphans == []
    assert report.orphan_labels == [
        f"s3://{eu.res.landing_bucket}/annotations/instances_default.json: missing.jpg",
        f"s3://{eu.res.landing_bucket}/stray/labels/nobody.txt",
    ]
    assert report.accounted["eu"]["curated label files with record"] == 2
    assert report.accounted["eu"]["quarantine with reason and decision"] == 1
