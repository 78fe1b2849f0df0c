"""The report as a value: what ``report.json`` holds (its schema is versioned by ``SCHEMA_VERSION``).

Bump the minor version when a field is added, the major version when a field changes meaning or
disappears; readers check the major version.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.2"


class Verdict(StrEnum):
    passed = "pass"  # every check passes, nothing drifts
    watch = "watch"  # every check passes, but something moved or went quiet
    failed = "fail"  # at least one check of the checklist fails


class CheckStatus(StrEnum):
    passed = "pass"
    failed = "fail"
    not_applicable = "n/a"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Period(_Model):
    start: date = Field(description="first day of the reported week (inclusive)")
    end: date = Field(description="last day of the reported week (inclusive)")
    baseline_start: date
    baseline_end: date
    baseline_weeks: int


class CheckItem(_Model):
    id: str
    title: str
    status: CheckStatus
    value: float | None = Field(None, description="the measured number (a share in 0..1 or a count)")
    value_text: str
    threshold: float | None = None
    threshold_text: str
    detail: str = ""


class Totals(_Model):
    dataset_images: int = Field(description="images in the dataset, captured up to the period's end")
    period_images: int = Field(description="images captured in the period")
    baseline_weekly_images: float = Field(description="images captured per baseline week, on average")
    decisions: dict[str, int] = Field(description="decisions of the period, by status")
    decisions_total: int
    refusals: int
    reasons: dict[str, int] = Field(description="refusal reasons of the period")
    duplicate_rate: float | None = Field(None, description="exact duplicates / decisions of the period")
    near_duplicate_rate: float | None = None
    time_rules: dict[str, int] = Field(
        default_factory=dict,
        description="images of the dataset, by the rule that found their capture time "
        "(cell_zone_assumed: the cell's zone was assumed); since schema 1.1",
    )
    zone_assumed: int = Field(0, description="images of the dataset whose time zone was assumed; since 1.1")


class CellSummary(_Model):
    cell: str
    dataset_images: int
    period_images: int
    decisions_total: int
    refusals: int
    cameras: int


class CoverageRow(_Model):
    value: str
    count: int
    share: float | None


class CoverageTable(_Model):
    dimension: str
    title: str
    total: int
    rows: list[CoverageRow]


class Matrix(_Model):
    title: str
    rows: list[str]
    columns: list[str]
    values: list[list[int]]


class CameraCoverage(_Model):
    camera: str
    images: int
    period_images: int
    capture_days: int
    first_day: date | None
    last_day: date | None
    hours_covered: int
    night_images: int = Field(description="images captured between 18:00 and 06:00 local, in the window")
    refusal_rate: float | None = Field(None, description="refused / decided in the period")


class CameraRefusals(_Model):
    """One camera's decisions of the period that refused its images (cameras the dataset never
    saw too: a camera whose every upload is refused is the first one an operator looks for)."""

    camera: str = Field(description="camera id; 'unknown' when nothing names one")
    decided: int
    rejected: int
    quarantined: int


class Gap(_Model):
    dimension: str
    value: str
    count: int
    share: float | None
    expected_share: float | None
    note: str


class Coverage(_Model):
    window_start: date
    window_end: date
    tables: list[CoverageTable]
    camera_day: Matrix
    camera_hour: Matrix
    cameras: list[CameraCoverage]
    under_represented: list[Gap]
    refused_by_camera: list[CameraRefusals] = Field(
        default_factory=list, description="the period's refusals per camera, most first; since 1.1"
    )


class DriftDimension(_Model):
    dimension: str
    family: Literal["dataset", "intake"]
    psi: float | None
    js: float | None
    level: Literal["ok", "watch", "alert", "no_data"]
    current_total: int
    baseline_total: int
    top_changes: list[str] = Field(default_factory=list, description="the values that moved most")


class MetricChange(_Model):
    name: str
    title: str
    current: float | None
    baseline: float | None
    change: float | None
    level: Literal["ok", "watch", "alert", "no_data"]


class ReasonChange(_Model):
    reason: str
    current: int
    baseline_weekly: float


class Drift(_Model):
    has_baseline: bool
    dimensions: list[DriftDimension]
    new_cameras: list[str]
    silent_cameras: list[str]
    unseen_registered_cameras: list[str]
    metrics: list[MetricChange]
    reasons: list[ReasonChange]


class CameraBrightness(_Model):
    camera: str
    images: int
    mean_brightness: float
    dark: int
    overexposed: int


class RecentAudit(_Model):
    requested: int
    sample_size: int
    with_camera: int
    with_time: int
    with_location: int
    with_all: int
    missing_examples: list[str] = Field(default_factory=list, description="keys lacking a field")
    brightness_by_camera: list[CameraBrightness] = Field(default_factory=list)


class Recommendation(_Model):
    severity: Literal["action", "watch", "info"]
    ref: str = Field(description="the check id or gap it answers, e.g. 'check:cameras', 'gap:night'")
    text: str


class LeakageExample(_Model):
    """Which cell and splits; no image id leaves its cell (``lenslog leakage --cell C`` names them)."""

    cell: str
    kind: Literal["crossing_pair", "cluster_split_mismatch"]
    splits: list[str | None]


class Leakage(_Model):
    """The incremental leakage check of every reported cell (``lenslog.services.leakage.run``):
    its totals since each cell's first check, and its last run. Since 1.2."""

    checked_at: datetime | None = Field(None, description="the oldest last run among the cells")
    checked_cells: list[str]
    unchecked_cells: list[str] = Field(description="cells whose check never ran")
    runs: int
    links_examined: int = Field(description="near-duplicate links examined since the first check")
    near_pairs: int = Field(description="near pairs examined around those links (match rule)")
    crossing_pairs: int = Field(description="near pairs whose images sit in different splits (must be 0)")
    cluster_split_mismatches: int = Field(description="links whose split is not their root's (must be 0)")
    last_run: dict[str, int] = Field(default_factory=dict, description="the same figures, last runs only")
    examples: list[LeakageExample] = Field(default_factory=list)
    passed: bool


class ClassBalance(_Model):
    """One class of the labelled data: images that show it and its boxes, overall and per split."""

    name: str
    images: int
    instances: int
    images_by_split: dict[str, int]
    instances_by_split: dict[str, int]


class LabelAudit(_Model):
    """The labels of the dataset (since 1.2): from the label counters, never from the images."""

    images: int = Field(description="images in the dataset")
    status: dict[str, int] = Field(description="images by label status: labelled, null, unlabelled, invalid")
    labelled_share: float | None = Field(description="(labelled + null) / images")
    splits: list[str]
    classes: list[ClassBalance] = Field(description="per class images and instances, overall and per split")
    objects_per_image: dict[str, int] = Field(description="labelled and null images by their number of boxes")
    box_sizes: dict[str, int] = Field(description="boxes by COCO size: small < 32², medium < 96², large")
    box_centres: Matrix = Field(description="box centres on an 8 x 8 grid of the upright frame (row = y)")
    checks: list[CheckItem] = Field(description="the seed rules on labelled data")
    drift: list[DriftDimension] = Field(description="class and box-size distributions against the baseline")
    recommendations: list[Recommendation]


class Report(_Model):
    schema_version: str = SCHEMA_VERSION
    report_id: str
    generated_at: datetime
    scope: str = Field(description="'global' or the name of the one cell reported")
    cells: list[str]
    period: Period
    verdict: Verdict
    headline: str
    totals: Totals
    cell_summaries: list[CellSummary]
    checklist: list[CheckItem]
    target_blend: dict[str, float]
    source_blend: dict[str, float] = Field(description="actual share per blend group")
    coverage: Coverage
    drift: Drift
    recent_audit: RecentAudit
    recommendations: list[Recommendation]
    notes: list[str] = Field(default_factory=list, description="how the numbers were computed")
    items_read: int = Field(description="aggregate items read to build the report")
    leakage: Leakage | None = Field(None, description="the leakage check's figures; since 1.2")
    labels: LabelAudit | None = Field(None, description="the labels' audit; since 1.2")

    @property
    def failing_checks(self) -> list[CheckItem]:
        return [c for c in self.checklist if c.status == CheckStatus.failed]

    @property
    def subject(self) -> str:
        p = self.period
        failing = len(self.failing_checks)
        applicable = sum(1 for c in self.checklist if c.status != CheckStatus.not_applicable)
        if failing:
            tail = f"{failing} of {applicable} checks failing"
        elif self.verdict == Verdict.watch:
            tail = "all checks pass, drift to watch"
        else:
            tail = "all checks pass"
        return (
            f"lenslog audit {p.start.isoformat()} to {p.end.isoformat()} ({self.scope}): "
            f"{self.verdict.value.upper()} - {tail}"
        )
