"""Aggregate counts made without a table: from decisions (tests, the demo) or at random (benchmarks).

``counts_from_decisions`` applies the same increments as the ingest function, so a report built on
its output agrees with the decisions it was given.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from lenslog.domain.aggregates import (
    AggregateCount,
    Dimension,
    brightness_bucket,
    dataset_increments,
    intake_increments,
)
from lenslog.domain.models import Decision


def counts_from_decisions(decisions: Iterable[Decision]) -> dict[str, list[AggregateCount]]:
    """Cell -> aggregate counts, summing every decision's dataset and intake increments."""
    totals: Counter[tuple[str, date, str, str]] = Counter()
    for d in decisions:
        for inc in (*dataset_increments(d), *intake_increments(d)):
            totals[(d.cell, inc.day, inc.dimension, inc.value)] += inc.delta
    out: dict[str, list[AggregateCount]] = {}
    for (cell, day, dim, value), n in sorted(totals.items()):
        out.setdefault(cell, []).append(
            AggregateCount(cell=cell, day=day, dimension=dim, value=value, count=n)
        )
    return out


def synthetic_counts(
    *,
    images: int,
    period_end: date,
    days: int = 35,
    cells: Sequence[str] = ("eu", "us"),
    cameras_per_cell: int = 6,
    classes: Sequence[str] = ("person", "forklift", "pallet", "truck"),
    seed: int = 7,
) -> dict[str, list[AggregateCount]]:
    """Counts of ``images`` random images spread over ``days`` days ending on ``period_end``."""
    rng = random.Random(seed)
    sources = ["production_live"] * 6 + ["production_archive", "staged", "staged", "public"]
    weathers = ["clear", "rain", "fog", "snow"]
    statuses = (
        ["accepted"] * 85
        + ["near_duplicate"] * 5
        + ["duplicate"] * 6
        + ["rejected"] * 2
        + ["quarantined"] * 2
    )
    reasons = {
        "rejected": ["too_small", "truncated_image"],
        "quarantined": ["metadata_incomplete", "consent_missing"],
    }
    per_cell: dict[str, Counter[tuple[date, str, str]]] = {c: Counter() for c in cells}
    for _ in range(images):
        cell = rng.choice(cells)
        cam = f"{cell}-cam-{rng.randrange(cameras_per_cell):02d}"
        day = period_end - timedelta(days=rng.randrange(days))
        hour = int(rng.triangular(0, 24, 13)) % 24
        status = rng.choice(statuses)
        c = per_cell[cell]
        c[(day, Dimension.decision, status)] += 1
        c[(day, Dimension.intake_camera, f"{cam}|{status}")] += 1
        if status in reasons:
            c[(day, Dimension.reason, rng.choice(reasons[status]))] += 1
        if status not in ("accepted", "near_duplicate"):
            continue
        c[(day, Dimension.images, "all")] += 1
        c[(day, Dimension.camera, cam)] += 1
        c[(day, Dimension.site, f"{cam}-site")] += 1
        c[(day, Dimension.source_type, rng.choice(sources))] += 1
        c[
            (day, Dimension.shift, "night" if hour < 6 or hour >= 22 else "early" if hour < 14 else "late")
        ] += 1
        c[(day, Dimension.hour, f"{hour:02d}")] += 1
        c[(day, Dimension.camera_hour, f"{cam}|{hour:02d}")] += 1
        c[(day, Dimension.weather, rng.choice(weathers))] += 1
        c[(day, Dimension.region, cell)] += 1
        c[(day, Dimension.split_, rng.choices(["train", "val", "test"], [8, 1, 1])[0])] += 1
        c[(day, Dimension.brightness, brightness_bucket(rng.gauss(120, 40)))] += 1
        c[(day, Dimension.class_, rng.choice(classes))] += 1
        c[(day, Dimension.complete, "camera_time")] += 1
        if rng.random() < 0.9:
            c[(day, Dimension.complete, "location")] += 1
        if rng.random() < 0.05:
            c[(day, Dimension.flag, rng.choice(["dark", "blurry", "overexposed"]))] += 1
    return {
        cell: [
            AggregateCount(cell=cell, day=day, dimension=str(dim), value=value, count=n)
            for (day, dim, value), n in sorted(counter.items())
        ]
        for cell, counter in per_cell.items()
    }
