"""Label counters of one image: what they count, and that an image with many boxes and classes
stays within its share of the decision's one transaction (DynamoDB: at most 100 items)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from lenslog.domain.aggregates import (
    LABEL_COUNTER_BUDGET,
    box_size,
    centre_cell,
    dataset_increments,
    label_increments,
)
from lenslog.domain.labels.models import LabelObject, Labels
from lenslog.domain.models import Decision, ImageInfo, ImageMetadata, Status

AT = datetime(2026, 11, 20, 10, tzinfo=UTC)


def decision(
    objects: list[tuple[str, list[float]]], status: str = "labelled", orientation: int | None = None
) -> Decision:
    return Decision(
        key="k.jpg",
        bucket="b",
        cell="eu",
        status=Status.accepted,
        image_id="0" * 64,
        split="val",
        metadata=ImageMetadata(camera_id="c", captured_at=AT, orientation=orientation),
        image=ImageInfo(width=640, height=480),
        labels=Labels(
            format="coco",
            status=status,
            objects=[LabelObject.model_validate({"class": c, "box": b}) for c, b in objects],
        ),
        decided_at=AT,
    )


def test_an_images_label_counters():
    counted = {
        (d, v): n
        for d, v, n in label_increments(
            decision(
                [
                    ("cat", [0.1, 0.1, 0.02, 0.02]),
                    ("cat", [0.9, 0.9, 0.5, 0.5]),
                    ("dog", [0.5, 0.5, 0.1, 0.1]),
                ]
            )
        )
    }
    assert counted == {
        ("label_status", "labelled"): 1,
        ("objects_per_image", "3-5"): 1,
        ("box_size", "small"): 1,  # 12.8 x 9.6 px
        ("box_size", "medium"): 1,  # 64 x 48 px
        ("box_size", "large"): 1,
        ("class_instances", "cat"): 2,
        ("class_instances", "dog"): 1,
        ("split_class", "val|cat"): 1,
        ("split_class", "val|dog"): 1,
        ("split_class_instances", "val|cat"): 2,
        ("split_class_instances", "val|dog"): 1,
        ("box_centre", "0|0"): 1,
        ("box_centre", "7|7"): 1,
        ("box_centre", "4|4"): 1,
    }


def test_box_sizes_use_the_upright_frame_and_centres_the_8x8_grid():
    assert box_size([0.5, 0.5, 0.05, 1.0], 640, 480) == "large"  # 32 x 480 px = 15,360 px² >= 96²
    assert box_size([0.5, 0.5, 0.1, 0.1], 640, 480) == "medium"  # 64 x 48 px
    assert box_size([0.5, 0.5, 0.04, 0.04], 640, 480) == "small"
    assert centre_cell([0.999, 0.0, 0.1, 0.1]) == "7|0" and centre_cell([1.0, 1.0, 0, 0]) == "7|7"


def test_null_and_unlabelled_images_count_their_status_only_or_with_zero_objects():
    assert label_increments(decision([], status="unlabelled")) == [("label_status", "unlabelled", 1)]
    assert label_increments(decision([], status="null")) == [
        ("label_status", "null", 1),
        ("objects_per_image", "0", 1),
    ]


def test_many_boxes_and_classes_stay_within_the_budget_and_totals_stay_exact():
    objects = [(f"class{i % 15}", [(i % 8 + 0.5) / 8, (i // 8 % 8 + 0.5) / 8, 0.01, 0.01]) for i in range(64)]
    counted = label_increments(decision(objects))
    assert len(counted) <= LABEL_COUNTER_BUDGET
    totals: Counter[str] = Counter()
    for dim, value, n in counted:
        totals[value if dim == "label_overflow" else dim] += n
    assert totals["box_centre"] == 64 and totals["class_instances"] == 64
    assert totals["split_class_instances"] == 64 and totals["split_class"] == 15


def test_label_counters_are_part_of_the_dataset_increments_and_withdrawn_by_sign():
    d = decision([("cat", [0.5, 0.5, 0.1, 0.1])])
    plus = {(i.dimension, i.value): i.delta for i in dataset_increments(d)}
    minus = {(i.dimension, i.value): i.delta for i in dataset_increments(d, sign=-1)}
    assert plus[("class_instances", "cat")] == 1 and minus == {k: -v for k, v in plus.items()}
