"""The one typed configuration of lenslog: cells, sources, cameras, policies and thresholds.

It is loaded by the CDK app at deploy time, by the functions at run time and by the CLI, from a
TOML file (default: ``config/lenslog.toml`` in the repository, or the copy packaged with the
layer). An invalid file fails with the offending field named.
"""

from __future__ import annotations

import math
import tomllib
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CONFIG_FILENAME = "lenslog.toml"


class ConfigError(ValueError):
    """The configuration file is missing or invalid; the message names the field."""


class SourceType(StrEnum):
    production_live = "production_live"
    production_archive = "production_archive"
    public = "public"
    web = "web"
    synthetic = "synthetic"
    staged = "staged"

    @property
    def is_production(self) -> bool:
        return self in (SourceType.production_live, SourceType.production_archive)


class QualityFlag(StrEnum):
    dark = "dark"
    overexposed = "overexposed"
    blurry = "blurry"
    low_information = "low_information"
    grayscale = "grayscale"
    odd_aspect_ratio = "odd_aspect_ratio"
    noisy = "noisy"


class PersonalData(StrEnum):
    faces = "faces"
    plates = "plates"
    voices = "voices"
    biometric = "biometric"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Policy(_Strict):
    """What a source's images must satisfy and what happens to them. Every field can be overridden
    per source; the defaults come from the user's data collection rules (seeds)."""

    max_bytes: int = Field(6_000_000, gt=0, description="reject before decoding above this size")
    min_width: int = Field(256, gt=0)
    min_height: int = Field(256, gt=0)
    max_pixels: int = Field(
        120_000_000, gt=0, description="decompression-bomb guard: refuse larger images unread"
    )
    formats: tuple[Literal["JPEG", "PNG", "BMP"], ...] = ("JPEG", "PNG", "BMP")
    required_fields: tuple[str, ...] = ("camera_id", "captured_at")
    reject_quality_flags: tuple[QualityFlag, ...] = ()
    near_duplicate: Literal["link", "hold"] = "link"
    misrouted: Literal["relocate", "quarantine"] = "relocate"
    unresolved_region: Literal["quarantine", "landing_cell"] = Field(
        "landing_cell",
        description="an upload no registry, explicit data_region or GPS rule places: kept in the cell it "
        "landed in (landing_cell), or quarantined region_unresolved (the strict switch)",
    )
    retention_days: int | None = Field(None, gt=0, description="curated objects and records")
    quarantine_retention_days: int = Field(30, gt=0)
    labels: Literal["warn", "quarantine"] = Field(
        "warn", description="an image whose labels have no valid box: accepted with warnings, or quarantined"
    )
    max_boxes: int = Field(300, ge=1, le=1000, description="more boxes than this make a label file invalid")

    @field_validator("formats")
    @classmethod
    def _formats_not_empty(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("at least one format must be allowed")
        return v


class PolicyOverride(_Strict):
    max_bytes: int | None = Field(None, gt=0)
    min_width: int | None = Field(None, gt=0)
    min_height: int | None = Field(None, gt=0)
    max_pixels: int | None = Field(None, gt=0)
    formats: tuple[Literal["JPEG", "PNG", "BMP"], ...] | None = None
    required_fields: tuple[str, ...] | None = None
    reject_quality_flags: tuple[QualityFlag, ...] | None = None
    near_duplicate: Literal["link", "hold"] | None = None
    misrouted: Literal["relocate", "quarantine"] | None = None
    unresolved_region: Literal["quarantine", "landing_cell"] | None = None
    retention_days: int | None = Field(None, gt=0)
    quarantine_retention_days: int | None = Field(None, gt=0)
    labels: Literal["warn", "quarantine"] | None = None
    max_boxes: int | None = Field(None, ge=1, le=1000)


def _check_zone(v: str | None) -> str | None:
    if v is None:
        return v
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {v!r}") from exc
    return v


class Cell(_Strict):
    """One data region: everything it owns lives in ``region``."""

    region: str = Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    account: str | None = Field(None, pattern=r"^\d{12}$")
    retention_days: int | None = Field(None, gt=0)
    timezone: str = Field(
        "UTC",
        description="the zone assumed for a capture time that carries none (no offset, no GPS, no "
        "registered camera or source zone); such images are flagged timezone_assumed",
    )

    _known_timezone = field_validator("timezone")(classmethod(lambda cls, v: _check_zone(v)))


class Source(_Strict):
    """A partner or camera fleet that uploads images."""

    source_type: SourceType = SourceType.production_live
    cell: str | None = Field(None, description="data region of everything this source uploads")
    may_contain: tuple[PersonalData, ...] = ()
    policy: PolicyOverride = PolicyOverride()
    description: str = ""
    uploaders: tuple[str, ...] = Field(
        (),
        description="IAM principal ARNs (fnmatch patterns) that may ask the audit API for upload URLs "
        "for this source; empty = nobody through the API",
    )
    timezone: str | None = Field(None, description="the zone of this source's cameras, when one applies")
    classes: tuple[str, ...] = Field(
        (), description="the source's class map: YOLO id i is classes[i]; when set, other names are unknown"
    )

    _known_timezone = field_validator("timezone")(classmethod(lambda cls, v: _check_zone(v)))


class Camera(_Strict):
    """A registered camera; its fields are registry defaults for the images it takes."""

    source: str
    timezone: str | None = Field(None, description="IANA zone of the camera's clock; unset: not registered")
    site: str | None = None
    make: str | None = None
    model: str | None = None
    serial: str | None = None
    cell: str | None = None
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)

    _known_timezone = field_validator("timezone")(classmethod(lambda cls, v: _check_zone(v)))


class GpsRule(_Strict):
    """Images whose GPS position falls in this box belong to ``cell`` (when nothing else decides)."""

    cell: str
    lat_min: float = Field(ge=-90, le=90)
    lat_max: float = Field(ge=-90, le=90)
    lon_min: float = Field(ge=-180, le=180)
    lon_max: float = Field(ge=-180, le=180)

    def contains(self, lat: float, lon: float) -> bool:
        return self.lat_min <= lat <= self.lat_max and self.lon_min <= lon <= self.lon_max


class ConsentGrant(_Strict):
    """A consent registered for a source: what personal data it covers and until when. Seeded into
    the consent registry of the source's cell at deploy time (and by the local stack)."""

    source: str
    scope: tuple[PersonalData, ...] = (PersonalData.faces,)
    expires: date | None = None
    subject: str = Field("", description="who gave it (a reference, never the person's data)")


class QualityThresholds(_Strict):
    """Thresholds of the quality flags, measured on a reduced grey copy (0..255 scale)."""

    dark_mean: float = 40.0
    dark_p95: float = 90.0
    overexposed_mean: float = 220.0
    overexposed_p05: float = 170.0
    blur_laplacian_var: float = 30.0
    low_information_entropy: float = 3.0
    grayscale_chroma: float = 3.0
    aspect_ratio_max: float = 3.0
    noise_sigma: float = 18.0


class NearDuplicateConfig(_Strict):
    hash_bits: Literal[64] = 64
    bands: int = Field(4, ge=2, le=16)
    max_distance: int = Field(10, ge=0, le=32)
    burst_seconds: int = Field(10, ge=0)
    leakage_schedule: str = Field(
        "rate(15 minutes)", description="EventBridge schedule of each cell's incremental leakage check"
    )
    leakage_settle_seconds: int = Field(
        300, ge=0, description="a run examines links decided at least this long ago (commits in flight)"
    )
    leakage_max_links: int = Field(20_000, ge=1, description="links a run examines at most; the next goes on")
    crop_views: bool = Field(
        True, description="index and look up the crop views, so that cropped copies find their frame"
    )
    check_distance: int = Field(45, ge=0, le=256, description="256-bit check, frame against frame")
    crop_check_distance: int = Field(72, ge=0, le=256, description="256-bit check through a crop view")
    layout_distance: float = Field(
        0.24,
        ge=0.0,
        le=2.0,
        description=(
            "6x6 colour layouts (1 - the worst channel's correlation) of a link through a crop view"
            " (4x4 ones: 0.2)"
        ),
    )

    @model_validator(mode="after")
    def _lookup_stays_bounded(self) -> NearDuplicateConfig:
        if self.hash_bits % self.bands:
            raise ValueError(f"bands must divide {self.hash_bits}")
        if self.max_distance // self.bands > 2:
            raise ValueError("max_distance // bands above 2 makes too many index keys; use more bands")
        return self


class CounterConfig(_Strict):
    """The aggregate counters. ``shards``: items per (day, dimension, value); one image's counters
    all go to the shard its image id hashes to. Size it so that the busiest counter (one every image
    bumps) stays under DynamoDB's 1,000 WCU/s an item: 2 WCU (a transactional update of an item
    under 1 KB) x peak images/s / shards. 8 shards: 250 WCU/s an item at 1,000 images/s. Reports
    read days x values x shards items (in the same one query per day)."""

    shards: int = Field(8, ge=1, le=64)

    def hottest_item_wcu_per_s(self, images_per_s: float) -> float:
        return 2.0 * images_per_s / self.shards


class SplitConfig(_Strict):
    train: float = Field(0.8, ge=0, le=1)
    val: float = Field(0.1, ge=0, le=1)
    test: float = Field(0.1, ge=0, le=1)
    group_by: Literal["camera_day", "scene", "day"] = "camera_day"

    @model_validator(mode="after")
    def _fractions_sum_to_one(self) -> SplitConfig:
        if abs(self.train + self.val + self.test - 1.0) > 1e-6:
            raise ValueError("train + val + test must be 1")
        return self


class ReportConfig(_Strict):
    sender: str = "lenslog@example.com"
    recipients: tuple[str, ...] = ("data-team@example.com",)
    schedule: str = Field("cron(0 6 ? * MON *)", description="EventBridge schedule, UTC")
    baseline_weeks: int = Field(4, ge=1)
    target_blend: dict[str, float] = Field(
        default_factory=lambda: {"production": 0.7, "staged": 0.2, "public": 0.1}
    )


# An SQS event source's maximum concurrency may be set from 2 to 1,000 (AWS Lambda ScalingConfig);
# Lambda keeps 100 of a region's concurrency unreserved whatever is reserved.
ESM_MAX_CONCURRENCY = 1000
UNRESERVED_MINIMUM = 100
QUEUE_RETENTION_SECONDS = 14 * 24 * 3600  # the ingest queue's and the DLQ's (infra.constructs.ingest)


class ScalingConfig(_Strict):
    """How a cell's functions scale, sized to the rate one cell must take (docs/deploy.md, *Sizing*).

    The gate handles the records of a batch one after another, so by Little's law a cell that takes
    ``images_per_second`` at ``seconds_per_image`` each keeps ``images_per_second * seconds_per_image``
    gate instances busy; the event source may start ``ingest_max_concurrency`` of them, which must
    cover that, and the function reserves ``ingest_reserved_concurrency`` so that nothing else in
    the region can take them (and so that the gate cannot take the API's)."""

    images_per_second: int = Field(1000, gt=0, description="the upload rate one cell is sized for")
    seconds_per_image: float = Field(
        0.25,
        gt=0,
        le=60,
        description="the gate's time per image in Lambda, S3 and DynamoDB round trips included "
        "(docs/performance.md)",
    )
    ingest_max_concurrency: int = Field(
        500,
        ge=2,
        le=ESM_MAX_CONCURRENCY,
        description="the most gate instances the SQS event source starts (its ScalingConfig)",
    )
    ingest_reserved_concurrency: int = Field(
        500, ge=2, description="the gate's reserved concurrency: at least ingest_max_concurrency"
    )
    api_reserved_concurrency: int = Field(
        100, ge=1, description="the audit API function's: covers the API stage's burst limit"
    )
    report_reserved_concurrency: int = Field(
        1, ge=1, description="the weekly report function's: one report at a time"
    )
    snapshot_reserved_concurrency: int = Field(
        1, ge=1, description="each cell's snapshot function's: builds go on one invocation at a time"
    )
    leakage_reserved_concurrency: int = Field(
        1, ge=1, description="each cell's leakage check's: one run at a time (it keeps one cursor)"
    )
    account_concurrency: int = Field(
        1000,
        ge=UNRESERVED_MINIMUM + 4,
        description="the account's Lambda concurrency quota in every region of a cell (1,000 by "
        "default); what the functions of a region reserve must leave 100 of it unreserved",
    )
    queue_age_alarm_seconds: int = Field(
        900,
        ge=60,
        lt=QUEUE_RETENTION_SECONDS,
        description="alarm when the ingest queue's oldest message is older: the gate is falling behind",
    )
    dlq_age_alarm_hours: int = Field(
        72,
        ge=1,
        lt=QUEUE_RETENTION_SECONDS // 3600,
        description="alarm when a DLQ message waits longer: redrive it before the DLQ's 14-day "
        "retention deletes it",
    )

    @property
    def needed_concurrency(self) -> int:
        """Gate instances busy at the target rate: rate x time per image, rounded up."""
        return math.ceil(self.images_per_second * self.seconds_per_image)

    @model_validator(mode="after")
    def _sized_to_the_rate(self) -> ScalingConfig:
        if self.ingest_max_concurrency < self.needed_concurrency:
            raise ValueError(
                f"ingest_max_concurrency {self.ingest_max_concurrency} cannot take "
                f"{self.images_per_second} images/s at {self.seconds_per_image} s each: "
                f"{self.needed_concurrency} instances are needed"
            )
        if self.ingest_reserved_concurrency < self.ingest_max_concurrency:
            raise ValueError(
                "ingest_reserved_concurrency must be at least ingest_max_concurrency (the event "
                "source would be throttled by the function's own limit)"
            )
        return self


class Config(_Strict):
    """The whole validated configuration."""

    home_cell: str = "eu"
    architecture: Literal["arm64", "x86_64"] = "arm64"
    cells: dict[str, Cell]
    defaults: Policy = Policy()
    sources: dict[str, Source] = Field(default_factory=dict)
    cameras: dict[str, Camera] = Field(default_factory=dict)
    quality: QualityThresholds = QualityThresholds()
    near_duplicates: NearDuplicateConfig = NearDuplicateConfig()
    counters: CounterConfig = CounterConfig()
    splits: SplitConfig = SplitConfig()
    report: ReportConfig = ReportConfig()
    residency_rules: tuple[GpsRule, ...] = ()
    consents: dict[str, ConsentGrant] = Field(default_factory=dict)
    dlq_max_receive_count: int = Field(5, ge=1, le=1000)
    scaling: ScalingConfig = ScalingConfig()

    @model_validator(mode="after")
    def _references_resolve(self) -> Config:
        if not self.cells:
            raise ValueError("cells: at least one cell is required")
        if self.home_cell not in self.cells:
            raise ValueError(f"home_cell: {self.home_cell!r} is not a configured cell")
        for name, src in self.sources.items():
            if src.cell is not None and src.cell not in self.cells:
                raise ValueError(f"sources.{name}.cell: {src.cell!r} is not a configured cell")
        for name, cam in self.cameras.items():
            if cam.source not in self.sources:
                raise ValueError(f"cameras.{name}.source: {cam.source!r} is not a configured source")
            if cam.cell is not None and cam.cell not in self.cells:
                raise ValueError(f"cameras.{name}.cell: {cam.cell!r} is not a configured cell")
        for i, rule in enumerate(self.residency_rules):
            if rule.cell not in self.cells:
                raise ValueError(f"residency_rules.{i}.cell: {rule.cell!r} is not a configured cell")
        for name, grant in self.consents.items():
            if grant.source not in self.sources:
                raise ValueError(f"consents.{name}.source: {grant.source!r} is not a configured source")
        return self

    @model_validator(mode="after")
    def _reserved_concurrency_fits_each_region(self) -> Config:
        """Lambda's concurrency quota is per account and region: the report function shares the
        home cell's, and two cells of one account in one region share theirs."""
        scaling = self.scaling
        home = self.cells[self.home_cell]
        reserved = {(home.account, home.region): scaling.report_reserved_concurrency}
        for cell in self.cells.values():
            per_cell = (
                scaling.ingest_reserved_concurrency
                + scaling.api_reserved_concurrency
                + scaling.snapshot_reserved_concurrency
                + scaling.leakage_reserved_concurrency
            )
            reserved[cell.account, cell.region] = reserved.get((cell.account, cell.region), 0) + per_cell
        room = scaling.account_concurrency - UNRESERVED_MINIMUM
        for (_, region), total in sorted(reserved.items(), key=lambda kv: (kv[0][1], kv[0][0] or "")):
            if total > room:
                raise ValueError(
                    f"scaling: the functions of {region} reserve {total} of an account concurrency of "
                    f"{scaling.account_concurrency}, which must keep {UNRESERVED_MINIMUM} unreserved; "
                    "lower the reservations or raise the quota (and scaling.account_concurrency)"
                )
        return self

    def policy_for(self, source_id: str | None) -> Policy:
        """The defaults with the source's overrides applied."""
        src = self.sources.get(source_id or "")
        if src is None:
            return self.defaults
        overrides = {k: v for k, v in src.policy.model_dump().items() if v is not None}
        return self.defaults.model_copy(update=overrides)

    def source_of_camera(self, camera_id: str | None) -> str | None:
        cam = self.cameras.get(camera_id or "")
        return cam.source if cam else None

    def cell_of_source(self, source_id: str | None) -> str | None:
        src = self.sources.get(source_id or "")
        return src.cell if src else None

    def cell_of_region(self, region: str) -> str | None:
        for name, cell in self.cells.items():
            if cell.region == region:
                return name
        return None


def _format_validation_error(exc: ValidationError, origin: str) -> str:
    lines = [f"invalid configuration in {origin}:"]
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        lines.append(f"  {loc}: {err['msg']}")
    return "\n".join(lines)


def parse_config(data: dict, origin: str = "<dict>") -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, origin)) from exc


def default_config_path() -> Path:
    """The packaged copy (Lambda layer) if present, else the repository's ``config/lenslog.toml``."""
    packaged = Path(__file__).with_name(CONFIG_FILENAME)
    if packaged.exists():
        return packaged
    return Path(__file__).resolve().parents[4] / "config" / CONFIG_FILENAME


def load_config(path: str | Path | None = None) -> Config:
    p = Path(path) if path else default_config_path()
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"configuration file not found: {p}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML in {p}: {exc}") from exc
    return parse_config(raw, origin=str(p))
