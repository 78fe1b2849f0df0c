"""Snapshots and training formats as pure functions: which records a snapshot takes, what a line
holds, counts that an erasure can lower exactly, a content hash that depends on the data only, and
boxes converted between the formats without drift."""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lenslog.domain import snapshot as snap
from lenslog.export import formats


def record(i: int = 1, **overrides):
    image_id = hashlib.sha256(str(i).encode()).hexdigest()
    doc = {
        "image_id": image_id,
        "status": "accepted",
        "split": "train",
        "cluster_id": image_id,
        "stored": {
            "bucket": "lenslog-eu-curated",
            "key": f"images/{image_id[:2]}/{image_id}.jpg",
            "region": "r",
        },
        "hashes": {"sha256": image_id},
        "image": {"format": "JPEG", "width": 640, "height": 480, "bytes": 1000},
        "metadata": {
            "camera_id": "cam-01",
            "captured_at": "2026-11-18T10:00:00Z",
            "lat": 52.5,
            "lon": 13.4,
            "serial": "SN-1",
            "operator": "jane",
            "consent_id": "c-1",
            "classes": ["pallet"],
        },
        "labels": {
            "format": "yolo",
            "status": "labelled",
            "objects": [{"class": "pallet", "box": [0.5] * 4}],
        },
    }
    doc.update(overrides)
    return doc


def test_a_line_carries_split_labels_hash_location_and_no_personal_metadata():
    line = snap.manifest_line(record())
    assert line is not None
    assert (line["split"], line["sha256"], line["s3"]["bucket"]) == (
        "train",
        line["image_id"],
        "lenslog-eu-curated",
    )
    assert line["labels"]["objects"] == [{"class": "pallet", "box": [0.5, 0.5, 0.5, 0.5]}]
    assert set(line["metadata"]) == {"camera_id", "captured_at", "classes"}


@pytest.mark.parametrize(
    "overrides",
    [
        {"status": "duplicate"},
        {"status": "rejected"},
        {"status": "quarantined"},
        {"split": None},
        {"stored": None},
        {"image_id": None},
    ],
)
def test_records_outside_a_dataset_give_no_line(overrides):
    assert snap.manifest_line(record(**overrides)) is None


def test_a_missing_labels_key_is_unlabelled_and_a_rotated_image_is_sized_upright():
    doc = record(labels=None)
    doc["metadata"]["orientation"] = 6
    line = snap.manifest_line(doc)
    assert line is not None
    assert line["labels"] == {"format": None, "status": "unlabelled", "objects": [], "warnings": []}
    assert (line["image"]["width"], line["image"]["height"]) == (480, 640)


def test_filters_parse_and_match_either_value_of_a_key_and_every_key():
    filters = snap.parse_filters(["split=train", "split=val", "class=pallet"])
    assert filters == {"class": ("pallet",), "split": ("train", "val")}
    assert snap.matches(snap.manifest_line(record()), filters)
    assert not snap.matches(snap.manifest_line(record(split="test")), filters)
    assert not snap.matches(snap.manifest_line(record()), {"class": ("person",), "split": ("train",)})
    for bad, message in (("x", "KEY=VALUE"), ("gps=1", "unknown key"), ("labels=maybe", "one of")):
        with pytest.raises(snap.SnapshotInputError, match=message):
            snap.parse_filters([bad])


line_strategy = st.builds(
    lambda i, split, n, cls: snap.manifest_line(
        record(
            i,
            split=split,
            labels={
                "status": "labelled" if n else "null",
                "objects": [{"class": c, "box": [0.5] * 4} for c in cls[:n]],
            },
        )
    ),
    st.integers(0, 10**6),
    st.sampled_from(snap.SPLITS),
    st.integers(0, 4),
    st.lists(st.sampled_from(["a", "b", "c"]), min_size=4, max_size=4),
)


@given(st.lists(line_strategy, min_size=1, max_size=20), st.randoms())
def test_counts_lowered_by_removed_lines_equal_counts_of_what_is_left(lines, rnd):
    gone = {i for i in range(len(lines)) if rnd.random() < 0.4}
    removed = [x for i, x in enumerate(lines) if i in gone]
    kept = [x for i, x in enumerate(lines) if i not in gone]
    lowered = snap.Counts()
    for x in lines:
        lowered.add(x)
    for x in removed:
        lowered.add(x, sign=-1)
    fresh = snap.Counts()
    for x in kept:
        fresh.add(x)
    assert lowered.to_dict() == fresh.to_dict()
    assert snap.Counts.from_dict(fresh.to_dict()).to_dict() == fresh.to_dict()


def test_the_content_hash_depends_on_the_parts_only_and_their_order():
    parts = [hashlib.sha256(bytes([i])).hexdigest() for i in range(3)]
    assert snap.content_hash(parts) == snap.content_hash(list(parts))
    assert snap.content_hash(parts) != snap.content_hash(parts[::-1])
    line = snap.manifest_line(record())
    assert snap.encode_line(line) == snap.encode_line(dict(reversed(list(line.items()))))  # key order


@given(
    st.floats(0.05, 0.95),
    st.floats(0.05, 0.95),
    st.floats(0.01, 0.1),
    st.floats(0.01, 0.1),
    st.integers(32, 4000),
    st.integers(32, 4000),
)
def test_coco_and_yolo_boxes_convert_back_to_the_normalised_box(cx, cy, w, h, width, height):
    line = snap.manifest_line(
        record(
            image={"format": "JPEG", "width": width, "height": height},
            labels={"status": "labelled", "objects": [{"class": "pallet", "box": [cx, cy, w, h]}]},
        )
    )
    doc = formats.coco_document([line], ["pallet"], "train", "snap")
    x, y, bw, bh = doc["annotations"][0]["bbox"]
    back = ((x + bw / 2) / width, (y + bh / 2) / height, bw / width, bh / height)
    assert all(abs(a - b) < 1e-3 for a, b in zip(back, (cx, cy, w, h), strict=True))
    assert doc["categories"] == [{"id": 1, "name": "pallet", "supercategory": "object"}]
    row = formats.yolo_label(line, {"pallet": 0}).split()
    assert row[0] == "0" and all(
        abs(float(a) - b) < 1e-6 for a, b in zip(row[1:], (cx, cy, w, h), strict=True)
    )


def test_which_images_train_and_what_they_are_called():
    labelled, null = snap.manifest_line(record()), snap.manifest_line(record(labels={"status": "null"}))
    unlabelled, invalid = (
        snap.manifest_line(record(labels=None)),
        snap.manifest_line(record(labels={"status": "invalid", "objects": []})),
    )
    assert [formats.exported(x, False) for x in (labelled, null, unlabelled, invalid)] == [
        True,
        True,
        False,
        False,
    ]
    assert [formats.exported(x, True) for x in (labelled, null, unlabelled, invalid)] == [
        True,
        True,
        True,
        False,
    ]
    assert formats.file_name(labelled) == f"{labelled['image_id']}.jpg"
    assert formats.yolo_label(null, {}) == ""
    names = formats.class_names(random.sample([labelled, null], 2))
    assert names == ["pallet"]
    assert 'names:\n  0: "pallet"' in formats.yolo_data_yaml("/data", names, "snap", "sha256:x")
