"""Label statistics for the audit API: the labels' audit of the report (``audit.labels``) over a
window of capture days, for the whole cell from its label counters (cost: days x values, never
images), or for one camera from its dataset records (the camera index, one page per 1 MB; the
counters are not kept per camera and class). Pure functions of what the reader returns."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from lenslog.audit.labels import label_audit
from lenslog.audit.models import LabelAudit, Period
from lenslog.domain.aggregates import DATASET_STATUSES, Dimension, label_counts
from lenslog.domain.models import Decision

LABEL_DIMENSIONS = (
    Dimension.label_status,
    Dimension.class_instances,
    Dimension.split_class,
    Dimension.split_class_instances,
    Dimension.objects_per_image,
    Dimension.box_size,
    Dimension.box_centre,
    Dimension.label_overflow,
)
MAX_CAMERA_RECORDS = 20_000  # a camera's window is read up to this many records (then: truncated)


def _period(days: Sequence[date]) -> Period:
    """The window as a report period; its baseline is unused (no drift in a window)."""
    first, last = days[0], days[-1]
    return Period(
        start=first, end=last, baseline_start=first - timedelta(days=1), baseline_end=first, baseline_weeks=0
    )


def from_counters(rows: Iterable[dict[str, Any]], days: Sequence[date]) -> tuple[LabelAudit, dict[str, int]]:
    """The labels' audit of the counters of ``days`` (rows of ``TableReader.aggregates``) and the
    counts summed under ``label_overflow`` (by dimension: what no per-value counter holds)."""
    sums: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        sums[row["dimension"]][row["value"]] += int(row["count"])
    audit = label_audit(
        lambda dim, _lo, _hi: Counter(sums[dim]), _period(days), sums["images"]["all"], drift=False
    )
    return audit, dict(sums[Dimension.label_overflow])


def from_records(docs: Iterable[dict[str, Any]], days: Sequence[date]) -> tuple[LabelAudit, int]:
    """The labels' audit of a camera's dataset records (their decision documents), every counter
    exact (a record keeps all its boxes); the number of dataset images read."""
    sums: dict[str, Counter[str]] = defaultdict(Counter)
    images = 0
    for doc in docs:
        if doc.get("status") not in DATASET_STATUSES:
            continue
        images += 1
        for dim, value, n in label_counts(Decision.model_validate(doc)):
            sums[dim][value] += n
    return label_audit(lambda dim, _lo, _hi: Counter(sums[dim]), _period(days), images, drift=False), images
