"""Aggregate counters: what a report reads instead of the images.

Two families, each a counter per cell x day x dimension x value:

- **dataset** dimensions describe the images that entered the dataset (accepted and linked near
  duplicates), keyed by their *local capture day* (or the decision day when no time is known);
- **intake** dimensions describe every decision, keyed by the *decision day* (UTC).

A report therefore costs days x dimensions reads, whatever the number of images. The increments of
one decision are written in the same DynamoDB transaction as the decision's first conditional write,
so a replayed event never counts twice.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from lenslog.domain.models import Decision, Status


class Dimension(StrEnum):
    # dataset (capture day)
    images = "images"  # value "all": the number of images in the dataset
    camera = "camera"
    site = "site"
    source_type = "source_type"
    class_ = "class"
    shift = "shift"
    hour = "hour"
    brightness = "brightness"
    flag = "flag"
    region = "region"
    split_ = "split"
    weather = "weather"
    conditions = "conditions"
    camera_hour = "camera_hour"  # value "<camera>|<hour>" for the camera x hour coverage
    complete = "complete"  # value "camera_time", "location": images carrying those fields
    time_rule = "time_rule"  # how the capture time was found; "cell_zone_assumed": zone assumed
    # labels (dataset, capture day); images per class are the ``class`` dimension
    label_status = "label_status"  # labelled, null, unlabelled, invalid
    class_instances = "class_instances"  # value <class>: boxes of that class
    split_class = "split_class"  # value "<split>|<class>": images
    split_class_instances = "split_class_instances"  # value "<split>|<class>": boxes
    objects_per_image = "objects_per_image"  # value a bucket of OBJECT_BUCKETS (labelled and null images)
    box_size = "box_size"  # small, medium, large (COCO: pixel area < 32², < 96²)
    box_centre = "box_centre"  # value "<column>|<row>" on an 8 x 8 grid of the upright frame
    label_overflow = "label_overflow"  # value a label dimension: counts beyond an image's budget
    # intake (decision day)
    decision = "decision"
    reason = "reason"
    intake_camera = "intake_camera"  # value "<camera>|<status>"


DATASET_STATUSES = (Status.accepted, Status.near_duplicate)
# The dimensions whose values name a camera (``<camera>`` or ``<camera>|...``): what an erasure of
# the camera deletes.
CAMERA_DIMENSIONS = frozenset({Dimension.camera, Dimension.camera_hour, Dimension.intake_camera})
BRIGHTNESS_BUCKETS = (32, 64, 96, 128, 160, 192, 224)
OBJECT_BUCKETS = ((0, "0"), (1, "1"), (2, "2"), (5, "3-5"), (10, "6-10"), (20, "11-20"), (50, "21-50"))
CENTRE_GRID = 8
COCO_SMALL, COCO_MEDIUM = 32 * 32, 96 * 96
# Label counters one image may add to its decision's transaction (with the ~40 other items of a
# decision: record, decision, near-duplicate bands, metadata counters), under DynamoDB's 100.
LABEL_COUNTER_BUDGET = 40
# The fewest an image is counted with: status, objects per image, up to 3 sizes, and the overflow.
MIN_LABEL_COUNTER_BUDGET = 5 + 4
# The dimensions that can overflow (status, objects per image and sizes always fit: 5 counters).
OVERFLOWING = ("class_instances", "split_class", "split_class_instances", "box_centre")


class AggregateCount(BaseModel):
    model_config = ConfigDict(frozen=True)
    cell: str
    day: date
    dimension: str
    value: str
    count: int


class Increment(BaseModel):
    model_config = ConfigDict(frozen=True)
    day: date
    dimension: str
    value: str
    delta: int = 1


def brightness_bucket(mean: float) -> str:
    lo = 0
    for hi in BRIGHTNESS_BUCKETS:
        if mean < hi:
            return f"{lo:03d}-{hi - 1:03d}"
        lo = hi
    return f"{lo:03d}-255"


def objects_bucket(n: int) -> str:
    for hi, name in OBJECT_BUCKETS:
        if n <= hi:
            return name
    return "51+"


def box_size(box: list[float], width: int, height: int) -> str:
    """COCO's size class of a normalised box on a ``width`` x ``height`` (upright) image."""
    area = box[2] * width * box[3] * height
    return "small" if area < COCO_SMALL else "medium" if area < COCO_MEDIUM else "large"


def centre_cell(box: list[float]) -> str:
    col = min(CENTRE_GRID - 1, max(0, int(box[0] * CENTRE_GRID)))
    row = min(CENTRE_GRID - 1, max(0, int(box[1] * CENTRE_GRID)))
    return f"{col}|{row}"


def label_increments(decision: Decision) -> list[tuple[str, str, int]]:
    """(dimension, value, count) of one dataset image's labels, at most ``LABEL_COUNTER_BUDGET``
    counters, or the image's own ``counter_budget`` when its transaction needed a smaller one
    (they are written in the decision's one transaction, which DynamoDB caps at 100 items): past
    the budget, box centres and then per-class counts of the image are summed under
    ``label_overflow`` (value: the dimension), so totals stay exact and the overflow is visible."""
    counted = label_counts(decision)
    budget = decision.labels.counter_budget or LABEL_COUNTER_BUDGET
    if len(counted) <= budget:
        return counted
    room = max(budget, MIN_LABEL_COUNTER_BUDGET) - len(OVERFLOWING)
    kept, overflow = counted[:room], counted[room:]
    folded: dict[str, int] = {}
    for dim, _value, n in overflow:
        folded[dim] = folded.get(dim, 0) + n
    return kept + [(Dimension.label_overflow, dim, n) for dim, n in sorted(folded.items())]


def label_counts(decision: Decision) -> list[tuple[str, str, int]]:
    """Every label counter of one image, most important first (status, objects per image, sizes,
    classes, then box centres)."""
    labels = decision.labels
    out: list[tuple[str, str, int]] = [(Dimension.label_status, str(labels.status), 1)]
    if labels.status not in ("labelled", "null"):
        return out
    out.append((Dimension.objects_per_image, objects_bucket(len(labels.objects)), 1))
    split = decision.split or "none"
    per_class: dict[str, int] = {}
    for obj in labels.objects:
        per_class[obj.class_] = per_class.get(obj.class_, 0) + 1
    for name, n in sorted(per_class.items()):
        out += [
            (Dimension.class_instances, name, n),
            (Dimension.split_class, f"{split}|{name}", 1),
            (Dimension.split_class_instances, f"{split}|{name}", n),
        ]
    w, h = decision.image.width, decision.image.height
    if w and h and decision.metadata.orientation in (5, 6, 7, 8):
        w, h = h, w
    sizes: dict[str, int] = {}
    centres: dict[str, int] = {}
    for obj in labels.objects:
        if w and h:
            size = box_size(obj.box, w, h)
            sizes[size] = sizes.get(size, 0) + 1
        cell = centre_cell(obj.box)
        centres[cell] = centres.get(cell, 0) + 1
    classes, out = out[2:], out[:2]
    out += [(Dimension.box_size, v, n) for v, n in sorted(sizes.items())]
    out += classes
    out += [(Dimension.box_centre, v, n) for v, n in sorted(centres.items(), key=lambda kv: -kv[1])]
    return out


def _local_capture(decision: Decision) -> datetime | None:
    md = decision.metadata
    if md.captured_local:
        try:
            return datetime.fromisoformat(md.captured_local)
        except ValueError:
            return None
    return md.captured_at


def dataset_increments(decision: Decision, sign: int = 1) -> list[Increment]:
    """What one image adds to the dataset counters (empty for refusals and exact duplicates);
    ``sign=-1`` takes it out again (erasure)."""
    if decision.status not in DATASET_STATUSES:
        return []
    md = decision.metadata
    local = _local_capture(decision)
    day = local.date() if local else decision.decided_at.date()
    out: list[tuple[str, str]] = [(Dimension.images, "all")]
    if md.camera_id:
        out.append((Dimension.camera, md.camera_id))
    for dim, value in (
        (Dimension.site, md.site),
        (Dimension.source_type, md.source_type),
        (Dimension.shift, md.shift),
        (Dimension.region, decision.data_region),
        (Dimension.split_, decision.split),
        (Dimension.weather, md.weather),
        (Dimension.conditions, md.conditions),
    ):
        if value:
            out.append((dim, value))
    out.extend((Dimension.class_, c) for c in sorted(set(md.classes)))
    if local is not None:
        out.append((Dimension.hour, f"{local.hour:02d}"))
        if md.camera_id:
            out.append((Dimension.camera_hour, f"{md.camera_id}|{local.hour:02d}"))
    if decision.quality is not None:
        out.append((Dimension.brightness, brightness_bucket(decision.quality.brightness)))
        out.extend((Dimension.flag, f) for f in decision.quality.flags)
    if md.captured_at is not None:
        out.append((Dimension.time_rule, md.time_rule or "given"))
    if md.camera_id and md.captured_at is not None:
        out.append((Dimension.complete, "camera_time"))
    if md.lat is not None and md.lon is not None:
        out.append((Dimension.complete, "location"))
    counted = [Increment(day=day, dimension=str(d), value=v, delta=sign) for d, v in out]
    counted += [
        Increment(day=day, dimension=str(d), value=v, delta=sign * n)
        for d, v, n in label_increments(decision)
    ]
    return counted


def intake_increments(decision: Decision, sign: int = 1) -> list[Increment]:
    """What one decision adds to the intake counters (``sign=-1`` withdraws a superseded one)."""
    day = decision.decided_at.date()
    out = [(Dimension.decision, str(decision.status))]
    out.extend((Dimension.reason, r) for r in decision.reasons)
    camera = decision.metadata.camera_id or "unknown"
    out.append((Dimension.intake_camera, f"{camera}|{decision.status}"))
    return [Increment(day=day, dimension=str(d), value=v, delta=sign) for d, v in out]
