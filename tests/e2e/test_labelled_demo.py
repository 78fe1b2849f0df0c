"""`lenslog demo --images DIR` with a folder holding a YOLO, a Pascal VOC and a COCO dataset of
real photos, exactly as they lie on disk: every image's line of decisions.jsonl carries its labels,
and the report's class balance per split is computed from them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from lenslog.cli import main as cli

pytestmark = pytest.mark.xdist_group("embedded-aws")

DATASETS = Path(__file__).resolve().parents[1] / "data" / "datasets"
META = [
    "--meta",
    "camera_id=partner-cam",
    "--meta",
    "captured_at=2026-11-20T10:00:00Z",
    "--meta",
    "source_type=public",
]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("labelled-demo")
    assert cli(["demo", "--images", str(DATASETS), *META, "--out", str(out)]) == 0
    lines = [json.loads(line) for line in (out / "decisions.jsonl").read_text().splitlines()]
    return out, {d["key"]: d for d in lines}


def test_every_image_line_carries_its_labels_and_no_label_file_is_decided(demo):
    _, decisions = demo
    labelled = {
        k: (d["labels"]["format"], d["labels"]["status"], len(d["labels"]["objects"]))
        for k, d in decisions.items()
    }
    assert labelled == {
        "README.md": (None, "unlabelled", 0),  # a file beside the datasets: refused, as any non-image
        "coco/images/astronaut.jpg": ("coco", "labelled", 4),
        "coco/images/chelsea.jpg": ("coco", "null", 0),
        "voc/JPEGImages/coins.jpg": ("voc", "labelled", 10),
        "voc/JPEGImages/rocket.jpg": ("voc", "labelled", 5),
        "yolo/images/train/camera.jpg": ("yolo", "labelled", 3),
        "yolo/images/val/coffee.jpg": ("yolo", "labelled", 3),
    }
    assert decisions["README.md"]["reasons"] == ["unknown_format"]
    for d in decisions.values():
        assert set(d["labels"]) >= {"format", "status", "objects", "warnings"}
        for o in d["labels"]["objects"]:
            assert set(o) >= {"class", "box"} and all(0 <= v <= 1 for v in o["box"])
    assert decisions["yolo/images/val/coffee.jpg"]["labels"]["warnings"] == [
        "unknown_class: line 4: class id 9 not in the class map",
        "out_of_bounds: line 5: spoon",
    ]


def test_the_report_has_class_balance_per_split_from_the_labels(demo):
    out, decisions = demo
    report = json.loads((out / "report.json").read_text())
    labels = report["labels"]
    instances: dict[str, int] = {}
    for d in decisions.values():
        for o in d["labels"]["objects"]:
            instances[o["class"]] = instances.get(o["class"], 0) + 1
    assert {c["name"]: c["instances"] for c in labels["classes"]} == instances
    splits = {d["split"] for d in decisions.values() if d["labels"]["objects"]}
    assert set(labels["splits"]) == splits
    for c in labels["classes"]:
        assert sum(c["instances_by_split"].values()) == c["instances"]
    assert labels["status"] == {"labelled": 5, "null": 1, "unlabelled": 0, "invalid": 0}
    rows = list(csv.DictReader((out / "csv" / "labels.csv").open()))
    assert {"class": "coin", "split": "all", "images": "1", "instances": "10"} in rows
    assert "<h2>Labels</h2>" in (out / "report.html").read_text()
