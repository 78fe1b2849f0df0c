"""Label statistics for the audit API: the labels' audit of the report (``audit.labels``) over a
window of capture days, for the whole cell from its label counters (cost: days x values, never
images), or for one camera from its dataset records (the camera index, one page per 1 MB; the
counters are not kept per camera and class). Pure functions of what the reader returns."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from lenslog.audit.labels import label_audit
from lenslog.audit.models import LabelAudit
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


def from_counters(rows: Iterable[dict[str, Any]]) -> tuple[LabelAudit, dict[str, int]]:
    """The labels' audit of a window's counters (rows of ``TableReader.aggregates``) and the
    counts summed under ``label_overflow`` (by dimension: what no per-value counter holds)."""
    sums: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        sums[row["dimension"]][row["value"]] += int(row["count"])
    return _audit(sums, sums["images"]["all"]), dict(sums[Dimension.label_overflow])


def from_records(docs: Iterable[dict[str, Any]]) -> LabelAudit:
    """The labels' audit of a camera's dataset records (their decision documents), every counter
    exact (a record keeps all its boxes)."""
    sums: dict[str, Counter[str]] = defaultdict(Counter)
    images = 0
    for doc in docs:
        if doc.get("status") not in DATASET_STATUSES:
            continue
        images += 1
        for dim, value, n in label_counts(Decision.model_validate(doc)):
            sums[dim][value] += n
    return _audit(sums, images)


def _audit(sums: dict[str, Counter[str]], images: int) -> LabelAudit:
    """The labels' audit of summed counters: a window has no baseline, so no period and no drift."""
    return label_audit(lambda dim, _lo, _hi: Counter(sums[dim]), None, images)
