"""The audit engine: aggregate counts (plus a small sample of recent decisions) -> a :class:`Report`.

Windows, all in days and inclusive:

- the **period** is the 7 days ending on ``period_end``; totals, decisions and the current side of
  the drift are read there;
- the **baseline** is the ``config.report.baseline_weeks`` weeks right before the period;
- the **window** is baseline + period: the camera x day and camera x hour coverage and the gaps;
- the **dataset** is every day up to ``period_end``: the checklist and the coverage tables judge the
  dataset as a whole, because the seeds' promises (>= 7 days, >= 3 cameras, class balance) are
  properties of the training set, not of one week.

Counts of days after ``period_end`` are ignored, so a past report can be rebuilt identically.
The cost is proportional to the number of aggregate items (days x dimensions x values), never to the
number of images.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

from lenslog.audit import stats
from lenslog.audit.labels import has_labels, label_audit
from lenslog.audit.leakage import check_item as leakage_check_item
from lenslog.audit.models import (
    CameraBrightness,
    CameraCoverage,
    CameraRefusals,
    CellSummary,
    CheckItem,
    CheckStatus,
    Coverage,
    CoverageRow,
    CoverageTable,
    Drift,
    DriftDimension,
    Gap,
    Leakage,
    Matrix,
    MetricChange,
    Period,
    ReasonChange,
    RecentAudit,
    Recommendation,
    Report,
    Totals,
    Verdict,
)
from lenslog.config import Config, SourceType
from lenslog.domain.aggregates import AggregateCount, Dimension
from lenslog.domain.models import Decision, Status

# The seeds' checklist thresholds.
MIN_PRODUCTION_SHARE = 0.5
MIN_CAMERAS = 3
MIN_CAPTURE_DAYS = 7
IDEAL_CAPTURE_DAYS = 28
MIN_CLASS_RATIO = 0.5
MIN_CLASS_IMAGES = 50
BLEND_TOLERANCE = 0.10  # absolute, per blend group
RECENT_SAMPLE = 200
NIGHT_HOURS = frozenset([*range(18, 24), *range(0, 6)])
# A value is under-represented when its share is below this fraction of an even spread.
UNDER_REPRESENTED_FRACTION = 0.5
# Change of a rate (in absolute points, in the bad direction) that is worth watching / an alert.
RATE_WATCH = 0.05
RATE_ALERT = 0.15

# How source types map onto the groups of the target blend when the blend does not name them:
# synthetic images are deliberate edge cases, like staged captures; web images are third-party
# background diversity, like public datasets.
DEFAULT_BLEND_GROUP = {
    SourceType.production_live: "production",
    SourceType.production_archive: "production",
    SourceType.staged: "staged",
    SourceType.synthetic: "staged",
    SourceType.public: "public",
    SourceType.web: "public",
}

COVERAGE_DIMENSIONS: tuple[tuple[str, str], ...] = (
    (Dimension.camera, "Cameras"),
    (Dimension.site, "Sites"),
    (Dimension.source_type, "Source types"),
    (Dimension.class_, "Classes"),
    (Dimension.shift, "Shifts"),
    (Dimension.hour, "Hour of capture (local)"),
    (Dimension.weather, "Weather"),
    (Dimension.conditions, "Conditions"),
    (Dimension.brightness, "Brightness (mean grey level)"),
    (Dimension.flag, "Quality flags"),
    (Dimension.split_, "Splits"),
    (Dimension.region, "Data regions"),
    (Dimension.time_rule, "Capture time rule (cell_zone_assumed: zone assumed)"),
)
BALANCE_DIMENSIONS = (
    Dimension.camera,
    Dimension.site,
    Dimension.shift,
    Dimension.weather,
    Dimension.conditions,
)
DRIFT_DIMENSIONS: tuple[tuple[str, str], ...] = (
    (Dimension.camera, "dataset"),
    (Dimension.site, "dataset"),
    (Dimension.source_type, "dataset"),
    (Dimension.class_, "dataset"),
    (Dimension.shift, "dataset"),
    (Dimension.hour, "dataset"),
    (Dimension.weather, "dataset"),
    (Dimension.conditions, "dataset"),
    (Dimension.brightness, "dataset"),
    (Dimension.flag, "dataset"),
    (Dimension.region, "dataset"),
    (Dimension.decision, "intake"),
    (Dimension.reason, "intake"),
)

NOTES = [
    "Period: the 7 days ending on the period's last day. Baseline: the N weeks right before it. "
    "The checklist and the coverage tables judge the whole dataset up to the period's end; "
    "camera x day, camera x hour and the gaps read the baseline weeks plus the period.",
    "Dataset counts are keyed by local capture day; intake counts (decisions, reasons) by decision "
    "day (UTC). Everything is computed from aggregate counters, never from images.",
    "PSI = sum (a - e) ln(a / e) over the proportions of each value; an empty proportion is "
    f"replaced by {stats.EPSILON:g} so the logarithm stays finite. PSI >= {stats.PSI_WATCH} is "
    f"watched, >= {stats.PSI_ALERT} raises an alert. Jensen-Shannon divergence is base 2 (0..1).",
    "Source blend: production_live and production_archive count as production; synthetic counts as "
    "staged (deliberate edge cases); web counts as public (third-party background diversity); a "
    "source type named in the target blend keeps its own group. Each group passes within "
    f"{BLEND_TOLERANCE:.0%} (absolute) of its target.",
    "Exact duplicates are refused at the gate (one conditional write per content hash), so they "
    "never enter the dataset; near duplicates are linked to their cluster and share its split.",
]


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def _num(n: float) -> str:
    return f"{n:,.0f}" if float(n).is_integer() else f"{n:,.1f}"


class _Counts:
    """Aggregate counts indexed as dimension -> day -> value -> count."""

    def __init__(self) -> None:
        self.data: dict[str, dict[date, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
        self.items_read = 0

    @classmethod
    def of(cls, items: Iterable[AggregateCount], until: date) -> _Counts:
        out = cls()
        for it in items:
            out.items_read += 1
            if it.day <= until:
                out.data[it.dimension][it.day][it.value] += it.count
        return out

    @classmethod
    def merge(cls, parts: Iterable[_Counts]) -> _Counts:
        out = cls()
        for part in parts:
            out.items_read += part.items_read
            for dim, days in part.data.items():
                for day, counter in days.items():
                    out.data[dim][day].update(counter)
        return out

    def sum(self, dim: str, start: date | None = None, end: date | None = None) -> Counter[str]:
        total: Counter[str] = Counter()
        for day, counter in self.data.get(dim, {}).items():
            if (start is None or day >= start) and (end is None or day <= end):
                total.update(counter)
        return Counter({k: v for k, v in total.items() if v > 0})

    def days(self, dim: str, value: str | None = None) -> list[date]:
        """Days on which ``dim`` (or its ``value``) has a positive count, in order."""
        out = []
        for day, counter in self.data.get(dim, {}).items():
            n = counter.get(value, 0) if value is not None else sum(v for v in counter.values() if v > 0)
            if n > 0:
                out.append(day)
        return sorted(out)

    def by_day(self, dim: str, start: date, end: date) -> dict[date, Counter[str]]:
        return {d: c for d, c in self.data.get(dim, {}).items() if start <= d <= end}


def _images(counts: _Counts, start: date | None = None, end: date | None = None) -> int:
    return counts.sum(Dimension.images, start, end).get("all", 0)


def _split_pair(value: str) -> tuple[str, str]:
    left, _, right = value.rpartition("|")
    return left, right


def _blend_group(source_type: str, target: Mapping[str, float]) -> str:
    if source_type in target:
        return source_type
    try:
        group = DEFAULT_BLEND_GROUP[SourceType(source_type)]
    except ValueError:
        return "other"
    return group if group in target else "other"


# ----------------------------------------------------------------------------------------- checklist


def _check_production(images: int, sources: Counter[str]) -> CheckItem:
    prod = sum(
        n for st, n in sources.items() if st in (SourceType.production_live, SourceType.production_archive)
    )
    share = stats.safe_ratio(prod, images)
    if share is None:
        status, detail = CheckStatus.failed, "no images in the dataset yet"
    else:
        status = CheckStatus.passed if share >= MIN_PRODUCTION_SHARE else CheckStatus.failed
        detail = f"{_num(prod)} of {_num(images)} images from production_live or production_archive sources"
    return CheckItem(
        id="production_share",
        title="At least half of the images from real production sources",
        status=status,
        value=share,
        value_text=_pct(share),
        threshold=MIN_PRODUCTION_SHARE,
        threshold_text=f">= {MIN_PRODUCTION_SHARE:.0%}",
        detail=detail,
    )


def _check_cameras(cameras: Counter[str], conditions: int) -> CheckItem:
    n = len(cameras)
    names = ", ".join(sorted(cameras)[:8]) + (" ..." if n > 8 else "")
    detail = f"cameras: {names}" if n else "no image names its camera"
    if conditions:
        detail += f"; {conditions} distinct capture conditions recorded"
    return CheckItem(
        id="cameras",
        title="Images from at least 3 different cameras",
        status=CheckStatus.passed if n >= MIN_CAMERAS else CheckStatus.failed,
        value=float(n),
        value_text=str(n),
        threshold=float(MIN_CAMERAS),
        threshold_text=f">= {MIN_CAMERAS}",
        detail=detail,
    )


def _check_days(days: list[date]) -> CheckItem:
    n = len(days)
    if n:
        detail = f"from {days[0].isoformat()} to {days[-1].isoformat()}"
        detail += (
            "; a full month is reached" if n >= IDEAL_CAPTURE_DAYS else f"; ideally {IDEAL_CAPTURE_DAYS}"
        )
    else:
        detail = "no capture day yet"
    return CheckItem(
        id="capture_days",
        title="Spread over at least 7 distinct capture days (ideally a month)",
        status=CheckStatus.passed if n >= MIN_CAPTURE_DAYS else CheckStatus.failed,
        value=float(n),
        value_text=str(n),
        threshold=float(MIN_CAPTURE_DAYS),
        threshold_text=f">= {MIN_CAPTURE_DAYS} (ideally {IDEAL_CAPTURE_DAYS})",
        detail=detail,
    )


def _check_camera_time(images: int, complete: int) -> CheckItem:
    share = stats.safe_ratio(min(complete, images), images)
    if share is None:
        status, detail = CheckStatus.not_applicable, "no images in the dataset yet"
    else:
        missing = max(images - complete, 0)
        status = CheckStatus.passed if missing == 0 else CheckStatus.failed
        detail = (
            "every image names its camera and capture time"
            if not missing
            else (f"{_num(missing)} images lack a camera id or a capture time")
        )
    return CheckItem(
        id="camera_time",
        title="Camera and timestamp on every image",
        status=status,
        value=share,
        value_text=_pct(share),
        threshold=1.0,
        threshold_text="100%",
        detail=detail,
    )


def _check_duplicates(decisions: Counter[str]) -> CheckItem:
    total = sum(decisions.values())
    exact = decisions.get(Status.duplicate, 0)
    near = decisions.get(Status.near_duplicate, 0)
    rate = stats.safe_ratio(exact, total)
    detail = (
        f"{_num(exact)} exact duplicates refused at the gate, {_num(near)} near duplicates linked to "
        f"their cluster (same split), out of {_num(total)} decisions"
        if total
        else "no decision recorded"
    )
    return CheckItem(
        id="duplicates",
        title="Duplicates removed before annotation",
        status=CheckStatus.passed,
        value=rate,
        value_text=f"duplicate rate {_pct(rate)}",
        threshold=None,
        threshold_text="exact duplicates refused at the door",
        detail=detail,
    )


def _check_classes(classes: Counter[str]) -> CheckItem:
    title = "Class balance at least 1:2 with >= 50 images per class"
    threshold_text = f"min/max >= {MIN_CLASS_RATIO:g} and >= {MIN_CLASS_IMAGES} per class"
    if not classes:
        return CheckItem(
            id="class_balance",
            title=title,
            status=CheckStatus.not_applicable,
            value=None,
            value_text="no classes",
            threshold=MIN_CLASS_RATIO,
            threshold_text=threshold_text,
            detail="no image carries a class label, so balance cannot be judged yet",
        )
    (lo_name, lo), (hi_name, hi) = (
        min(classes.items(), key=lambda kv: (kv[1], kv[0])),
        max(classes.items(), key=lambda kv: (kv[1], kv[0])),
    )
    ratio = lo / hi
    ok = ratio >= MIN_CLASS_RATIO and lo >= MIN_CLASS_IMAGES
    small = sorted(c for c, n in classes.items() if n < MIN_CLASS_IMAGES)
    detail = f"smallest '{lo_name}' ({_num(lo)}), largest '{hi_name}' ({_num(hi)})"
    if small:
        detail += f"; under {MIN_CLASS_IMAGES} images: {', '.join(small)}"
    return CheckItem(
        id="class_balance",
        title=title,
        status=CheckStatus.passed if ok else CheckStatus.failed,
        value=ratio,
        value_text=f"{ratio:.2f} (min {_num(lo)})",
        threshold=MIN_CLASS_RATIO,
        threshold_text=threshold_text,
        detail=detail,
    )


def _blend(images: int, sources: Counter[str], target: Mapping[str, float]) -> dict[str, float]:
    groups: Counter[str] = Counter({g: 0 for g in target})
    for st, n in sources.items():
        groups[_blend_group(st, target)] += n
    unknown = images - sum(sources.values())
    if unknown > 0:
        groups["unknown"] += unknown
    if images <= 0:
        return {g: 0.0 for g in groups}
    return {g: n / images for g, n in groups.items() if n > 0 or g in target}


def _check_blend(images: int, blend: Mapping[str, float], target: Mapping[str, float]) -> CheckItem:
    title = "Source blend near the target"
    target_text = " / ".join(f"{g} {t:.0%}" for g, t in target.items())
    if images <= 0:
        return CheckItem(
            id="source_blend",
            title=title,
            status=CheckStatus.failed,
            value=None,
            value_text="n/a",
            threshold=BLEND_TOLERANCE,
            threshold_text=f"{target_text}, each within {BLEND_TOLERANCE:.0%}",
            detail="no images in the dataset yet",
        )
    deviations = {g: blend.get(g, 0.0) - target.get(g, 0.0) for g in set(blend) | set(target)}
    worst = max(sorted(deviations), key=lambda g: abs(deviations[g]))
    worst_dev = abs(deviations[worst])
    actual_text = " / ".join(f"{g} {blend.get(g, 0.0):.0%}" for g in sorted(blend, key=lambda g: -blend[g]))
    return CheckItem(
        id="source_blend",
        title=title,
        status=CheckStatus.passed if worst_dev <= BLEND_TOLERANCE + 1e-9 else CheckStatus.failed,
        value=worst_dev,
        value_text=actual_text,
        threshold=BLEND_TOLERANCE,
        threshold_text=f"{target_text}, each within {BLEND_TOLERANCE:.0%}",
        detail=f"largest gap: {worst} {deviations[worst]:+.0%} against its target",
    )


def _check_splits(images: int, splits: Counter[str], group_by: str) -> CheckItem:
    title = "Splits by day or scene, never random per image"
    grouping = {"camera_day": "camera and local day", "day": "local day", "scene": "scene"}[group_by]
    assigned = sum(splits.values())
    missing = max(images - assigned, 0)
    if images <= 0:
        status, detail = CheckStatus.not_applicable, "no images to split yet"
    elif missing:
        status, detail = CheckStatus.failed, f"{_num(missing)} images have no split assigned"
    else:
        parts = ", ".join(f"{k} {v / images:.0%}" for k, v in sorted(splits.items()))
        status, detail = CheckStatus.passed, f"{parts}; near-duplicate clusters share their root's split"
    return CheckItem(
        id="splits",
        title=title,
        status=status,
        value=stats.safe_ratio(min(assigned, images), images),
        value_text=f"by {grouping}",
        threshold=1.0,
        threshold_text="every image in a day or scene group",
        detail=detail,
    )


# ------------------------------------------------------------------------------------------ coverage


def _table(dim: str, title: str, counter: Counter[str], images: int) -> CoverageTable:
    if dim == Dimension.hour or dim == Dimension.brightness:
        items = sorted(counter.items())
    else:
        items = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    rows = [CoverageRow(value=v, count=n, share=stats.safe_ratio(n, images)) for v, n in items]
    return CoverageTable(dimension=str(dim), title=title, total=images, rows=rows)


def _under_represented(counts: _Counts, images: int) -> list[Gap]:
    gaps: list[Gap] = []
    for dim in BALANCE_DIMENSIONS:
        counter = counts.sum(dim)
        k = len(counter)
        if k < 2 or images <= 0:
            continue
        total = sum(counter.values())
        even = 1 / k
        for value, n in sorted(counter.items(), key=lambda kv: kv[1]):
            share = n / total
            if share < UNDER_REPRESENTED_FRACTION * even:
                gaps.append(
                    Gap(
                        dimension=str(dim),
                        value=value,
                        count=n,
                        share=share,
                        expected_share=even,
                        note=f"{_pct(share)} of the {dim} values, an even spread would give {_pct(even)}",
                    )
                )
    return gaps


def _coverage(counts: _Counts, period: Period, images: int) -> Coverage:
    w0, w1 = period.baseline_start, period.end
    tables = [_table(dim, title, counts.sum(dim), images) for dim, title in COVERAGE_DIMENSIONS]
    window_cameras = counts.sum(Dimension.camera, w0, w1)
    dataset_cameras = counts.sum(Dimension.camera)
    cam_order = sorted(window_cameras, key=lambda c: (-window_cameras[c], c))
    days = [w0 + timedelta(days=i) for i in range((w1 - w0).days + 1)]
    per_day = counts.by_day(Dimension.camera, w0, w1)
    camera_day = Matrix(
        title="Images per camera and capture day",
        rows=cam_order,
        columns=[d.isoformat() for d in days],
        values=[[max(per_day.get(d, Counter()).get(c, 0), 0) for d in days] for c in cam_order],
    )
    hours: dict[str, Counter[str]] = defaultdict(Counter)
    for value, n in counts.sum(Dimension.camera_hour, w0, w1).items():
        cam, hour = _split_pair(value)
        hours[cam][hour] += n
    hour_rows = sorted(set(cam_order) | set(hours), key=lambda c: (-window_cameras.get(c, 0), c))
    hour_cols = [f"{h:02d}" for h in range(24)]
    camera_hour = Matrix(
        title="Images per camera and hour of capture (local)",
        rows=hour_rows,
        columns=hour_cols,
        values=[[hours[c].get(h, 0) for h in hour_cols] for c in hour_rows],
    )
    intake: dict[str, Counter[str]] = defaultdict(Counter)
    for value, n in counts.sum(Dimension.intake_camera, period.start, period.end).items():
        cam, status = _split_pair(value)
        intake[cam][status] += n
    period_cameras = counts.sum(Dimension.camera, period.start, period.end)
    cameras = []
    for cam in sorted(dataset_cameras, key=lambda c: (-dataset_cameras[c], c)):
        cam_days = counts.days(Dimension.camera, cam)
        decided = sum(intake[cam].values())
        refused = intake[cam].get(Status.rejected, 0) + intake[cam].get(Status.quarantined, 0)
        cameras.append(
            CameraCoverage(
                camera=cam,
                images=dataset_cameras[cam],
                period_images=period_cameras.get(cam, 0),
                capture_days=len(cam_days),
                first_day=cam_days[0] if cam_days else None,
                last_day=cam_days[-1] if cam_days else None,
                hours_covered=sum(1 for n in hours[cam].values() if n > 0),
                night_images=sum(n for h, n in hours[cam].items() if h.isdigit() and int(h) in NIGHT_HOURS),
                refusal_rate=stats.safe_ratio(refused, decided),
            )
        )
    refused_by_camera = [
        CameraRefusals(
            camera=cam,
            decided=sum(by_status.values()),
            rejected=by_status.get(Status.rejected, 0),
            quarantined=by_status.get(Status.quarantined, 0),
        )
        for cam, by_status in intake.items()
        if by_status.get(Status.rejected, 0) or by_status.get(Status.quarantined, 0)
    ]
    refused_by_camera.sort(key=lambda r: (-(r.rejected + r.quarantined), r.camera))
    return Coverage(
        window_start=w0,
        window_end=w1,
        tables=tables,
        camera_day=camera_day,
        camera_hour=camera_hour,
        cameras=cameras,
        under_represented=_under_represented(counts, images),
        refused_by_camera=refused_by_camera,
    )


# --------------------------------------------------------------------------------------------- drift


def _top_changes(base: Counter[str], cur: Counter[str], n: int = 3) -> list[str]:
    tb, tc = sum(base.values()), sum(cur.values())
    if tb <= 0 or tc <= 0:
        return []
    diffs = {k: cur.get(k, 0) / tc - base.get(k, 0) / tb for k in set(base) | set(cur)}
    top = sorted(diffs, key=lambda k: (-abs(diffs[k]), k))[:n]
    return [
        f"{k}: {base.get(k, 0) / tb:.0%} -> {cur.get(k, 0) / tc:.0%}" for k in top if abs(diffs[k]) >= 0.01
    ]


def _rate_level(change: float | None, bad_when_up: bool) -> str:
    if change is None:
        return "no_data"
    bad = change if bad_when_up else -change
    if bad >= RATE_ALERT:
        return "alert"
    if bad >= RATE_WATCH:
        return "watch"
    return "ok"


def _metric(name: str, title: str, cur: float | None, base: float | None, bad_when_up: bool) -> MetricChange:
    change = cur - base if cur is not None and base is not None else None
    return MetricChange(
        name=name,
        title=title,
        current=cur,
        baseline=base,
        change=change,
        level=_rate_level(change, bad_when_up),  # type: ignore[arg-type]
    )


def _registered_cameras(config: Config, cells: Sequence[str]) -> list[str]:
    out = []
    for name, cam in config.cameras.items():
        src = config.sources.get(cam.source)
        cell = cam.cell or (src.cell if src else None)
        if cell in cells:
            out.append(name)
    return sorted(out)


def _drift(counts: _Counts, period: Period, config: Config, cells: Sequence[str]) -> Drift:
    c0, c1, b0, b1 = period.start, period.end, period.baseline_start, period.baseline_end
    weeks = period.baseline_weeks
    dims = []
    for dim, family in DRIFT_DIMENSIONS:
        base, cur = counts.sum(dim, b0, b1), counts.sum(dim, c0, c1)
        psi = stats.psi(base, cur)
        js = stats.js_divergence(base, cur)
        dims.append(
            DriftDimension(
                dimension=str(dim),
                family=family,  # type: ignore[arg-type]
                psi=psi,
                js=js,
                level=stats.drift_level(psi),
                current_total=sum(cur.values()),
                baseline_total=sum(base.values()),
                top_changes=_top_changes(base, cur),
            )
        )
    base_cams, cur_cams = counts.sum(Dimension.camera, b0, b1), counts.sum(Dimension.camera, c0, c1)
    base_images, cur_images = _images(counts, b0, b1), _images(counts, c0, c1)
    has_baseline = base_images > 0 or sum(counts.sum(Dimension.decision, b0, b1).values()) > 0
    new = sorted(set(cur_cams) - set(base_cams)) if base_images > 0 else []
    silent = sorted(set(base_cams) - set(cur_cams))
    seen = set(counts.sum(Dimension.camera))
    unseen = [c for c in _registered_cameras(config, cells) if c not in seen]

    def rate(dim: str, value: str, start: date, end: date, denominator: int) -> float | None:
        return stats.safe_ratio(counts.sum(dim, start, end).get(value, 0), denominator)

    def decision_rate(statuses: Sequence[str], start: date, end: date) -> float | None:
        decided = counts.sum(Dimension.decision, start, end)
        return stats.safe_ratio(sum(decided.get(s, 0) for s in statuses), sum(decided.values()))

    def flag_rate(start: date, end: date, images: int) -> float | None:
        return stats.safe_ratio(sum(counts.sum(Dimension.flag, start, end).values()), images)

    refused = (Status.rejected, Status.quarantined)
    metrics = [
        MetricChange(
            name="volume",
            title="Images per week",
            current=float(cur_images),
            baseline=base_images / weeks,
            change=stats.safe_ratio(cur_images - base_images / weeks, base_images / weeks),
            level=_volume_level(cur_images, base_images / weeks),  # type: ignore[arg-type]
        ),
        _metric(
            "camera_time",
            "Images with camera and time",
            rate(Dimension.complete, "camera_time", c0, c1, cur_images),
            rate(Dimension.complete, "camera_time", b0, b1, base_images),
            bad_when_up=False,
        ),
        _metric(
            "location",
            "Images with a location",
            rate(Dimension.complete, "location", c0, c1, cur_images),
            rate(Dimension.complete, "location", b0, b1, base_images),
            bad_when_up=False,
        ),
        _metric(
            "duplicate_rate",
            "Exact duplicate rate",
            decision_rate([Status.duplicate], c0, c1),
            decision_rate([Status.duplicate], b0, b1),
            bad_when_up=True,
        ),
        _metric(
            "near_duplicate_rate",
            "Near-duplicate rate",
            decision_rate([Status.near_duplicate], c0, c1),
            decision_rate([Status.near_duplicate], b0, b1),
            bad_when_up=True,
        ),
        _metric(
            "refusal_rate",
            "Refusal rate",
            decision_rate(refused, c0, c1),
            decision_rate(refused, b0, b1),
            bad_when_up=True,
        ),
        _metric(
            "flag_rate",
            "Quality flags per image",
            flag_rate(c0, c1, cur_images),
            flag_rate(b0, b1, base_images),
            bad_when_up=True,
        ),
    ]
    base_reasons, cur_reasons = counts.sum(Dimension.reason, b0, b1), counts.sum(Dimension.reason, c0, c1)
    reasons = [
        ReasonChange(reason=r, current=cur_reasons.get(r, 0), baseline_weekly=base_reasons.get(r, 0) / weeks)
        for r in sorted(set(base_reasons) | set(cur_reasons), key=lambda r: (-cur_reasons.get(r, 0), r))
    ]
    return Drift(
        has_baseline=has_baseline,
        dimensions=dims,
        new_cameras=new,
        silent_cameras=silent,
        unseen_registered_cameras=unseen,
        metrics=metrics,
        reasons=reasons,
    )


def _volume_level(current: int, baseline_weekly: float) -> str:
    if baseline_weekly <= 0:
        return "no_data"
    if current == 0:
        return "alert"
    return "watch" if current < baseline_weekly / 2 else "ok"


# -------------------------------------------------------------------------------------- recent audit


def _recent_audit(recent: Sequence[Decision]) -> RecentAudit:
    sample = sorted(recent, key=lambda d: d.decided_at, reverse=True)[:RECENT_SAMPLE]
    with_camera = with_time = with_location = with_all = 0
    missing: list[str] = []
    bright: dict[str, list[Decision]] = defaultdict(list)
    for d in sample:
        md = d.metadata
        cam, when, where = (
            bool(md.camera_id),
            md.captured_at is not None,
            md.lat is not None and md.lon is not None,
        )
        with_camera += cam
        with_time += when
        with_location += where
        with_all += cam and when and where
        if not (cam and when and where) and len(missing) < 5:
            lacks = [name for name, ok in (("camera", cam), ("time", when), ("location", where)) if not ok]
            missing.append(f"{d.key} (no {', '.join(lacks)})")
        if d.quality is not None:
            bright[md.camera_id or "unknown"].append(d)
    by_camera = [
        CameraBrightness(
            camera=cam,
            images=len(ds),
            mean_brightness=round(sum(d.quality.brightness for d in ds if d.quality) / len(ds), 1),
            dark=sum(1 for d in ds if d.quality and "dark" in d.quality.flags),
            overexposed=sum(1 for d in ds if d.quality and "overexposed" in d.quality.flags),
        )
        for cam, ds in sorted(bright.items())
    ]
    return RecentAudit(
        requested=RECENT_SAMPLE,
        sample_size=len(sample),
        with_camera=with_camera,
        with_time=with_time,
        with_location=with_location,
        with_all=with_all,
        missing_examples=missing,
        brightness_by_camera=by_camera,
    )


# ----------------------------------------------------------------------------------- recommendations

_CHECK_ADVICE = {
    "production_share": "Add footage from production cameras (live or archived) before more staged "
    "or public images.",
    "cameras": "Capture from more cameras or capture conditions: a model trained on one camera fails "
    "on the next.",
    "capture_days": "Keep collecting on more days: one heroic session does not show dusk, weekends "
    "or weather.",
    "camera_time": "Fix the uploaders' metadata: send a sidecar JSON or x-amz-meta-camera-id and a "
    "capture time, or register the camera in the config.",
    "class_balance": "Collect more images of the small classes (stratified sampling or a synthetic "
    "top-up) before annotating more of the large ones.",
    "source_blend": "Steer the next uploads towards the groups below their target.",
    "splits": "Re-run the split assignment so every image belongs to a day or scene group.",
}


def _recommendations(
    checklist: list[CheckItem],
    blend: Mapping[str, float],
    target: Mapping[str, float],
    coverage: Coverage,
    drift: Drift,
    audit: RecentAudit,
    totals: Totals,
    period: Period,
) -> list[Recommendation]:
    recs: list[Recommendation] = []
    for item in checklist:
        if item.status != CheckStatus.failed:
            continue
        text = f"{item.title}: {item.value_text} (needs {item.threshold_text}); {item.detail}. "
        text += _CHECK_ADVICE.get(item.id, "")
        if item.id == "source_blend":
            below = [
                f"{g} ({blend.get(g, 0.0):.0%} vs {t:.0%})"
                for g, t in target.items()
                if blend.get(g, 0.0) < t - BLEND_TOLERANCE
            ]
            if below:
                text += " Below target: " + ", ".join(below) + "."
        recs.append(Recommendation(severity="action", ref=f"check:{item.id}", text=text.strip()))
    days_item = next((c for c in checklist if c.id == "capture_days"), None)
    if days_item and days_item.status == CheckStatus.passed and (days_item.value or 0) < IDEAL_CAPTURE_DAYS:
        recs.append(
            Recommendation(
                severity="info",
                ref="check:capture_days",
                text=f"{_num(days_item.value or 0)} capture days: keep collecting until a full month "
                f"({IDEAL_CAPTURE_DAYS} days) is covered.",
            )
        )
    window_days = (coverage.window_end - coverage.window_start).days + 1
    hour_index = {c: i for i, c in enumerate(coverage.camera_hour.columns)}
    for cam, row in zip(coverage.camera_hour.rows, coverage.camera_hour.values, strict=True):
        if sum(row) == 0:
            continue
        night = sum(row[hour_index[f"{h:02d}"]] for h in NIGHT_HOURS)
        day = sum(row) - night
        if night == 0:
            recs.append(
                Recommendation(
                    severity="action",
                    ref="gap:night",
                    text=f"{cam}: no images between 18:00 and 06:00 in {window_days} days. "
                    "Schedule night and dusk captures.",
                )
            )
        elif day == 0:
            recs.append(
                Recommendation(
                    severity="action",
                    ref="gap:day",
                    text=f"{cam}: no images between 06:00 and 18:00 in {window_days} days. "
                    "Schedule daylight captures.",
                )
            )
    for cc in coverage.cameras:
        if 0 < cc.capture_days < MIN_CAPTURE_DAYS:
            recs.append(
                Recommendation(
                    severity="watch",
                    ref="gap:camera_days",
                    text=f"{cc.camera}: images from only {cc.capture_days} capture day"
                    f"{'s' if cc.capture_days != 1 else ''}. Spread its captures over more days.",
                )
            )
    for gap in coverage.under_represented:
        recs.append(
            Recommendation(
                severity="watch",
                ref=f"gap:{gap.dimension}",
                text=f"{gap.dimension} '{gap.value}' is under-represented: {gap.note}. "
                "Collect more of it or weight it when sampling.",
            )
        )
    if totals.period_images == 0 and totals.decisions_total == 0:
        recs.append(
            Recommendation(
                severity="action",
                ref="drift:volume",
                text=f"No image arrived between {period.start.isoformat()} and {period.end.isoformat()}. "
                "Check the cameras' uploaders and the landing bucket's notifications.",
            )
        )
    for cam in drift.silent_cameras:
        recs.append(
            Recommendation(
                severity="action",
                ref="drift:silent_camera",
                text=f"{cam}: sent images in the previous {period.baseline_weeks} weeks but none this week. "
                "Check the camera and its uploader.",
            )
        )
    for cam in drift.new_cameras:
        recs.append(
            Recommendation(
                severity="info",
                ref="drift:new_camera",
                text=f"{cam}: new this week. Check that it is registered with its site and time zone.",
            )
        )
    for cam in drift.unseen_registered_cameras:
        recs.append(
            Recommendation(
                severity="watch",
                ref="drift:unseen_camera",
                text=f"{cam}: registered in the config but no image from it has been accepted yet.",
            )
        )
    for dim in drift.dimensions:
        if dim.level in ("watch", "alert"):
            moved = "; ".join(dim.top_changes) or "several values"
            recs.append(
                Recommendation(
                    severity="action" if dim.level == "alert" else "watch",
                    ref=f"drift:{dim.dimension}",
                    text=f"The {dim.dimension} distribution moved against the previous "
                    f"{period.baseline_weeks} weeks (PSI {dim.psi:.2f}): {moved}. "
                    "Check whether the change is intended before the next training run.",
                )
            )
    for m in drift.metrics:
        if m.level in ("watch", "alert") and m.name != "volume":
            recs.append(
                Recommendation(
                    severity="action" if m.level == "alert" else "watch",
                    ref=f"drift:{m.name}",
                    text=f"{m.title}: {_pct(m.baseline)} in the baseline, {_pct(m.current)} this week.",
                )
            )
        elif m.name == "volume" and m.level == "watch":
            recs.append(
                Recommendation(
                    severity="watch",
                    ref="drift:volume",
                    text=f"Fewer images this week ({_num(m.current or 0)}) than the baseline's weekly "
                    f"average ({_num(m.baseline or 0)}).",
                )
            )
    if audit.sample_size:
        n = audit.sample_size
        for field, have in (("camera", audit.with_camera), ("time", audit.with_time)):
            if have < n:
                recs.append(
                    Recommendation(
                        severity="action",
                        ref=f"audit:{field}",
                        text=f"{n - have} of the last {n} images have no {field}.",
                    )
                )
        if audit.with_location < n:
            recs.append(
                Recommendation(
                    severity="watch",
                    ref="audit:location",
                    text=f"{n - audit.with_location} of the last {n} images have no location: register "
                    "the cameras' coordinates in the config or send GPS in the metadata.",
                )
            )
    order = {"action": 0, "watch": 1, "info": 2}
    return sorted(recs, key=lambda r: order[r.severity])


# -------------------------------------------------------------------------------------------- report


def _verdict(checklist: list[CheckItem], drift: Drift, totals: Totals) -> Verdict:
    if any(c.status == CheckStatus.failed for c in checklist):
        return Verdict.failed
    moved = any(d.level in ("watch", "alert") for d in drift.dimensions) or any(
        m.level in ("watch", "alert") for m in drift.metrics
    )
    quiet = bool(drift.silent_cameras) or (totals.period_images == 0 and totals.decisions_total == 0)
    return Verdict.watch if moved or quiet else Verdict.passed


def _cell_summary(cell: str, counts: _Counts, period: Period) -> CellSummary:
    decided = counts.sum(Dimension.decision, period.start, period.end)
    return CellSummary(
        cell=cell,
        dataset_images=_images(counts),
        period_images=_images(counts, period.start, period.end),
        decisions_total=sum(decided.values()),
        refusals=decided.get(Status.rejected, 0) + decided.get(Status.quarantined, 0),
        cameras=len(counts.sum(Dimension.camera)),
    )


def build_report(
    cell_counts: Mapping[str, Sequence[AggregateCount]],
    recent: Sequence[Decision],
    config: Config,
    *,
    period_end: date,
    report_id: str | None = None,
    generated_at: datetime | None = None,
    leakage: Leakage | None = None,
) -> Report:
    """The audit report of the week ending on ``period_end``, from aggregate counts only.

    ``cell_counts`` maps a cell name to its aggregate counts (any days; later days are ignored).
    Several cells give the global report (their counts are summed); one cell gives that cell's.
    ``recent`` is a small sample of recent decisions for the hands-on metadata audit (the latest
    200 by decision time are read).
    """
    weeks = config.report.baseline_weeks
    start = period_end - timedelta(days=6)
    period = Period(
        start=start,
        end=period_end,
        baseline_start=start - timedelta(days=7 * weeks),
        baseline_end=start - timedelta(days=1),
        baseline_weeks=weeks,
    )
    cells = sorted(cell_counts)
    per_cell = {c: _Counts.of(cell_counts[c], period_end) for c in cells}
    counts = _Counts.merge(per_cell.values())
    scope = cells[0] if len(cells) == 1 else "global"

    images = _images(counts)
    decided = counts.sum(Dimension.decision, period.start, period.end)
    decisions_total = sum(decided.values())
    rules = counts.sum(Dimension.time_rule)  # the whole dataset, like the coverage tables
    totals = Totals(
        dataset_images=images,
        period_images=_images(counts, period.start, period.end),
        baseline_weekly_images=_images(counts, period.baseline_start, period.baseline_end) / weeks,
        decisions=dict(sorted(decided.items())),
        decisions_total=decisions_total,
        refusals=decided.get(Status.rejected, 0) + decided.get(Status.quarantined, 0),
        reasons=dict(sorted(counts.sum(Dimension.reason, period.start, period.end).items())),
        duplicate_rate=stats.safe_ratio(decided.get(Status.duplicate, 0), decisions_total),
        near_duplicate_rate=stats.safe_ratio(decided.get(Status.near_duplicate, 0), decisions_total),
        time_rules=dict(sorted(rules.items())),
        zone_assumed=rules.get("cell_zone_assumed", 0),
    )

    sources = counts.sum(Dimension.source_type)
    target = dict(config.report.target_blend)
    blend = _blend(images, sources, target)
    checklist = [
        _check_production(images, sources),
        _check_cameras(counts.sum(Dimension.camera), len(counts.sum(Dimension.conditions))),
        _check_days(counts.days(Dimension.images, "all")),
        _check_camera_time(images, counts.sum(Dimension.complete).get("camera_time", 0)),
        _check_duplicates(counts.sum(Dimension.decision)),
        _check_classes(counts.sum(Dimension.class_)),
        _check_blend(images, blend, target),
        _check_splits(images, counts.sum(Dimension.split_), config.splits.group_by),
    ]
    if leakage is not None:  # the cells' stored leakage checks (lenslog.audit.leakage)
        checklist.append(leakage_check_item(leakage))
    labels = label_audit(counts.sum, period, images)  # audit/labels.py: classes, splits, boxes
    if has_labels(labels):
        checklist += labels.checks
    coverage = _coverage(counts, period, images)
    drift = _drift(counts, period, config, cells)
    audit = _recent_audit(recent)
    recommendations = _recommendations(checklist, blend, target, coverage, drift, audit, totals, period)
    if has_labels(labels):
        recommendations += labels.recommendations
    verdict = _verdict(checklist, drift, totals)

    failing = sum(1 for c in checklist if c.status == CheckStatus.failed)
    alerts = sum(1 for d in drift.dimensions if d.level == "alert")
    headline = (
        f"{failing} of {sum(1 for c in checklist if c.status != CheckStatus.not_applicable)} checks fail"
        if failing
        else "All checks pass"
    )
    headline += f"; {alerts} drift alert{'s' if alerts != 1 else ''}" if alerts else ""
    headline += (
        f". {_num(images)} images in the dataset, {_num(totals.period_images)} captured this week, "
        f"{_num(decisions_total)} decisions."
    )
    return Report(
        report_id=report_id or f"{scope}-{period_end.isoformat()}",
        generated_at=generated_at or datetime.now(UTC),
        scope=scope,
        cells=cells,
        period=period,
        verdict=verdict,
        headline=headline,
        totals=totals,
        cell_summaries=[_cell_summary(c, per_cell[c], period) for c in cells],
        checklist=checklist,
        target_blend=target,
        source_blend=blend,
        coverage=coverage,
        drift=drift,
        recent_audit=audit,
        recommendations=recommendations,
        notes=list(NOTES),
        items_read=counts.items_read,
        leakage=leakage,
        labels=labels,
    )
