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
    # intake (decision day)
    decision = "decision"
    reason = "reason"
    intake_camera = "intake_camera"  # value "<camera>|<status>"


DATASET_STATUSES = (Status.accepted, Status.near_duplicate)
# The dimensions whose values name a camera (``<camera>`` or ``<camera>|...``): what an erasure of
# the camera deletes.
CAMERA_DIMENSIONS = frozenset({Dimension.camera, Dimension.camera_hour, Dimension.intake_camera})
BRIGHTNESS_BUCKETS = (32, 64, 96, 128, 160, 192, 224)


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
    return [Increment(day=day, dimension=str(d), value=v, delta=sign) for d, v in out]


def intake_increments(decision: Decision, sign: int = 1) -> list[Increment]:
    """What one decision adds to the intake counters (``sign=-1`` withdraws a superseded one)."""
    day = decision.decided_at.date()
    out = [(Dimension.decision, str(decision.status))]
    out.extend((Dimension.reason, r) for r in decision.reasons)
    camera = decision.metadata.camera_id or "unknown"
    out.append((Dimension.intake_camera, f"{camera}|{decision.status}"))
    return [Increment(day=day, dimension=str(d), value=v, delta=sign) for d, v in out]
