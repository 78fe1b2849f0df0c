"""The labels' audit in the report: class balance by images and instances, overall and per split,
the seed rules on labelled data, box statistics, label drift and recommendations; in report.json,
the CSV, the HTML and its charts. Counts come from decisions through the real increments."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta

from PIL import Image

from lenslog.audit import build_report, render_csv, render_html, render_json
from lenslog.audit.charts import report_charts
from lenslog.audit.synthetic import counts_from_decisions
from lenslog.config import parse_config
from lenslog.domain.labels.models import LabelObject, Labels
from lenslog.domain.models import Decision, ImageInfo, ImageMetadata, Status

END = date(2025, 6, 8)
CONFIG = parse_config({"cells": {"eu": {"region": "eu-central-1"}}})
_n = iter(range(10**6))


def labelled(
    split: str, objects: list[tuple[str, list[float]]], day: date = END, status: str = "labelled"
) -> Decision:
    at = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    labels = Labels(
        format="yolo",
        status=status,
        objects=[LabelObject.model_validate({"class": c, "box": b}) for c, b in objects],
    )
    return Decision(
        key=f"k{next(_n)}.jpg",
        bucket="b",
        cell="eu",
        status=Status.accepted,
        image_id=f"{next(_n):064x}",
        split=split,
        metadata=ImageMetadata(
            camera_id="cam-01",
            captured_at=at,
            captured_local=at.replace(tzinfo=None).isoformat(),
            classes=sorted({c for c, _ in objects}),
        ),
        image=ImageInfo(format="JPEG", width=640, height=480),
        labels=labels,
        decided_at=at,
    )


SMALL = [0.5, 0.5, 0.02, 0.02]  # 12.8 x 9.6 px: small
LARGE = [0.25, 0.75, 0.5, 0.5]  # 320 x 240 px: large


def dataset() -> list[Decision]:
    out = [labelled("train", [("RBC", LARGE), ("RBC", SMALL), ("Platelets", SMALL)]) for _ in range(60)]
    out += [labelled("val", [("RBC", LARGE)]) for _ in range(10)]
    out += [labelled("val", [("Platelets", SMALL)]) for _ in range(4)]
    out += [labelled("val", [], status="null")]
    out += [labelled("test", [], status="invalid"), labelled("test", [], status="unlabelled")]
    return out


def test_class_balance_by_images_and_instances_overall_and_per_split():
    rep = build_report(counts_from_decisions(dataset()), [], CONFIG, period_end=END)
    lab = rep.labels
    assert lab is not None and lab.splits == ["train", "val"]
    by = {c.name: c for c in lab.classes}
    assert (by["RBC"].images, by["RBC"].instances) == (70, 130)
    assert by["RBC"].images_by_split == {"train": 60, "val": 10}
    assert by["RBC"].instances_by_split == {"train": 120, "val": 10}
    assert (by["Platelets"].images, by["Platelets"].instances) == (64, 64)
    assert by["Platelets"].instances_by_split == {"train": 60, "val": 4}
    assert lab.status == {"labelled": 74, "null": 1, "unlabelled": 1, "invalid": 1}
    assert lab.labelled_share == 75 / 77
    assert lab.objects_per_image == {
        "0": 1,
        "1": 14,
        "2": 0,
        "3-5": 60,
        "6-10": 0,
        "11-20": 0,
        "21-50": 0,
        "51+": 0,
    }
    assert lab.box_sizes == {"small": 124, "medium": 0, "large": 70}
    assert sum(map(sum, lab.box_centres.values)) == 194
    assert lab.box_centres.values[6][2] == 70  # the large boxes' centre (0.25, 0.75): column 2, row 6


def test_the_seed_rules_are_judged_on_labelled_data_and_recommend_what_to_fix():
    rep = build_report(counts_from_decisions(dataset()), [], CONFIG, period_end=END)
    checks = {c.id: c for c in rep.checklist}
    assert checks["label_class_balance"].status == "pass"  # 64 / 70 images, both >= 50
    assert checks["label_instance_balance"].status == "fail"  # 64 / 130 instances < 1:2
    assert checks["label_splits"].status == "pass"
    texts = [r.text for r in rep.recommendations]
    assert "class Platelets has 4 instances in val" in texts
    assert any(t.startswith("1 images have label files with no valid box") for t in texts)
    assert any(t.startswith("no medium objects") for t in texts)


def test_a_class_missing_from_a_split_fails_the_split_rule():
    data = [labelled("train", [("cat", LARGE)]) for _ in range(3)] + [labelled("val", [("dog", LARGE)])]
    rep = build_report(counts_from_decisions(data), [], CONFIG, period_end=END)
    check = next(c for c in rep.checklist if c.id == "label_splits")
    assert check.status == "fail" and check.detail == "missing: cat in val, dog in train"
    assert "class cat has no instances in val" in [r.text for r in rep.recommendations]


def test_label_drift_compares_class_and_size_distributions_with_the_baseline():
    base = [labelled("train", [("cat", LARGE)], day=END - timedelta(days=10)) for _ in range(50)]
    base += [labelled("train", [("dog", LARGE)], day=END - timedelta(days=10)) for _ in range(50)]
    week = [labelled("train", [("cat", SMALL)]) for _ in range(90)] + [
        labelled("train", [("dog", SMALL)]) for _ in range(10)
    ]
    rep = build_report(counts_from_decisions(base + week), [], CONFIG, period_end=END)
    drift = {d.dimension: d for d in rep.labels.drift}
    assert drift["class_instances"].level == "alert" and drift["class_instances"].psi > 0.25
    assert drift["box_size"].level == "alert"


def test_a_dataset_without_labels_adds_no_checks():
    data = [labelled("train", [], status="unlabelled") for _ in range(3)]
    rep = build_report(counts_from_decisions(data), [], CONFIG, period_end=END)
    assert not [c for c in rep.checklist if c.id.startswith("label_")]
    assert render_html(rep).count("<h2>Labels</h2>") == 0


def test_the_labels_reach_report_json_csv_html_and_charts():
    rep = build_report(counts_from_decisions(dataset()), [], CONFIG, period_end=END)
    doc = json.loads(render_json(rep))
    assert doc["schema_version"] == "1.2"
    rbc = next(c for c in doc["labels"]["classes"] if c["name"] == "RBC")
    assert rbc["images_by_split"] == {"train": 60, "val": 10} and rbc["instances"] == 130
    rows = list(csv.DictReader(io.StringIO(render_csv(rep)["labels.csv"])))
    assert {"class": "Platelets", "split": "val", "images": "4", "instances": "4"} in rows
    page = render_html(rep)
    assert "<h2>Labels</h2>" in page and "Class balance, overall and per split" in page
    charts = {c.name: c for c in report_charts(rep)}
    for name in ("label_classes", "objects_per_image", "box_sizes", "box_centres"):
        assert Image.open(io.BytesIO(charts[name].png)).format == "PNG"
