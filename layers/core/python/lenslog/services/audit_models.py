"""What the audit service answers: the response models of the audit API (and its OpenAPI schemas)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from lenslog.adapters.reports import ReportFile
from lenslog.audit.models import LabelAudit
from lenslog.domain.labels.models import Labels
from lenslog.domain.models import Decision, Hashes, ImageMetadata, Quality, StoredAt


class Page(BaseModel):
    next_cursor: str | None = Field(
        default=None, description="pass as ?cursor= for the next page; null at the end"
    )


class ImageSummary(BaseModel):
    image_id: str
    status: str
    camera_id: str | None = None
    captured_at: datetime | None = None
    source_type: str | None = None
    split: str | None = None
    cluster_id: str | None = None
    classes: list[str] = Field(default_factory=list)
    stored: StoredAt | None = None

    @classmethod
    def of(cls, doc: dict[str, Any]) -> ImageSummary:
        md = doc.get("metadata") or {}
        return cls(
            image_id=doc["image_id"],
            status=doc["status"],
            camera_id=md.get("camera_id"),
            captured_at=md.get("captured_at"),
            source_type=md.get("source_type"),
            split=doc.get("split"),
            cluster_id=doc.get("cluster_id"),
            classes=md.get("classes") or [],
            stored=doc.get("stored"),
        )


class ImagePage(Page):
    items: list[ImageSummary]


class Sighting(BaseModel):
    """One upload of these bytes and what the gate decided on it."""

    bucket: str
    key: str
    status: str
    reasons: list[str] = Field(default_factory=list)
    decided_at: datetime
    version_id: str | None = None
    original: bool = Field(False, description="the upload that created the image record")


class ClusterInfo(BaseModel):
    cluster_id: str
    root: str
    size: int = Field(description="images in the cluster, the root included")


class ImageDetail(BaseModel):
    image_id: str
    recorded: bool = Field(description="false when the bytes were only ever refused (no image record)")
    status: str
    split: str | None = None
    data_region: str | None = None
    stored: StoredAt | None = None
    metadata: ImageMetadata
    hashes: Hashes | None = None
    quality: Quality | None = None
    labels: Labels = Field(
        default_factory=Labels,
        description="the image's labels: format, status (labelled, null, unlabelled, invalid), objects "
        "with class and box [cx, cy, w, h] normalised in the upright frame, warnings",
    )
    cluster: ClusterInfo | None = None
    sightings: list[Sighting]
    decisions: list[Decision]
    download_url: str | None = Field(default=None, description="short-lived GET URL (with ?presign=true)")
    download_expires_in: int | None = None


class NearDuplicate(BaseModel):
    image_id: str
    distance: int | None = Field(default=None, description="Hamming distance between the perceptual hashes")
    root: bool = False
    status: str
    camera_id: str | None = None
    captured_at: datetime | None = None


class Duplicates(BaseModel):
    image_id: str
    cluster_id: str | None = None
    exact: list[Sighting] = Field(description="every upload of the same bytes")
    near: list[NearDuplicate] = Field(description="the other members of the near-duplicate cluster")


class DecisionSummary(BaseModel):
    bucket: str
    key: str
    status: str
    reasons: list[str] = Field(default_factory=list)
    reason_details: list[str] = Field(default_factory=list)
    decided_at: datetime
    image_id: str | None = None
    duplicate_of: str | None = None
    camera_id: str | None = None
    stored: StoredAt | None = None
    make: str | None = Field(None, description="what the image's metadata says, refused images too")
    model: str | None = None
    captured_at: datetime | None = None
    time_rule: str | None = Field(None, description="how captured_at was found (cell_zone_assumed: assumed)")

    @classmethod
    def of(cls, doc: dict[str, Any]) -> DecisionSummary:
        md = doc.get("metadata") or {}
        return cls(
            bucket=doc["bucket"],
            key=doc["key"],
            status=doc["status"],
            reasons=doc.get("reasons") or [],
            reason_details=doc.get("reason_details") or [],
            decided_at=doc["decided_at"],
            image_id=doc.get("image_id"),
            duplicate_of=doc.get("duplicate_of"),
            camera_id=md.get("camera_id"),
            stored=doc.get("stored"),
            make=md.get("make"),
            model=md.get("model"),
            captured_at=md.get("captured_at"),
            time_rule=md.get("time_rule"),
        )


class DecisionPage(Page):
    items: list[DecisionSummary]


class CameraCoverage(BaseModel):
    camera_id: str
    registered: bool
    source: str | None = None
    site: str | None = None
    make: str | None = None
    model: str | None = None
    timezone: str | None = None
    cell: str | None = None
    images: int = Field(default=0, description="images in the dataset captured in the window")
    days: list[date] = Field(default_factory=list, description="local capture days with images")
    hours: list[int] = Field(default_factory=list, description="local capture hours with images")
    images_by_hour: dict[str, int] = Field(default_factory=dict)
    decisions: dict[str, int] = Field(default_factory=dict, description="decisions in the window by status")
    last_seen: date | None = Field(
        default=None, description="last day with an image or a decision in the window"
    )


class CameraDetail(CameraCoverage):
    last_image_id: str | None = None
    last_captured_at: datetime | None = None


class CameraList(BaseModel):
    from_: date = Field(alias="from")
    to: date
    items: list[CameraCoverage]


class CoverageValue(BaseModel):
    value: str
    total: int
    by_day: dict[str, int]


class CoverageDimension(BaseModel):
    dimension: str
    values: list[CoverageValue]


class Coverage(BaseModel):
    cell: str
    from_: date = Field(alias="from")
    to: date
    dimensions: list[CoverageDimension]


class LabelStats(BaseModel):
    """The labels of a cell's dataset, or of one camera's, over a window of capture days: the same
    figures as the report's ``labels`` (class balance overall and per split, objects per image, box
    sizes and centres, the seed rules, recommendations), without drift (see the weekly report)."""

    cell: str
    from_: date = Field(alias="from")
    to: date
    camera_id: str | None = None
    source: Literal["counters", "records"] = Field(
        description="counters: the cell's label counters; records: the camera's dataset records"
    )
    records_read: int = Field(0, description="records read (source records)")
    truncated: bool = Field(False, description="the camera's window held more records than were read")
    overflow: dict[str, int] = Field(
        default_factory=dict,
        description="counts kept only in totals (label_overflow), by dimension: images of many classes",
    )
    labels: LabelAudit = Field(description="the labels' audit, as in report.json's labels")


class ReportSummary(BaseModel):
    report_id: str
    period_start: date | None = None
    period_end: date
    created_at: datetime
    files: list[str]


class ReportPage(Page):
    items: list[ReportSummary]


class ReportDetail(ReportSummary):
    links: dict[str, str] = Field(description="presigned GET URL of each file")
    links_expire_in: int
    file_details: list[ReportFile]
    summary: dict[str, Any] = Field(default_factory=dict)


def _text_only(value: Any) -> Any:
    """A date-time in a JSON body is a string (pydantic would also take a number of seconds)."""
    if value is not None and not isinstance(value, str | datetime):
        raise ValueError("expected an ISO 8601 date-time string with an offset")
    return value


METADATA_NAME = r"^[A-Za-z0-9_-]*[A-Za-z0-9][A-Za-z0-9_-]*$"


class UploadRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "camera_id": "cam-01",
                    "filename": "dock-0001.jpg",
                    "captured_at": "2026-11-20T07:00:00+01:00",
                }
            ]
        }
    )
    camera_id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="a registered camera, or any camera id with source_id",
    )
    source_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="a registered source; defaults to the camera's source (required for another camera)",
    )
    filename: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.(jpg|jpeg|JPG|JPEG|png|PNG|bmp|BMP)$")
    content_type: str | None = Field(default=None, pattern=r"^image/(jpeg|png|bmp)$")
    captured_at: Annotated[datetime | None, BeforeValidator(_text_only)] = Field(
        default=None, description="with an offset (Z or +HH:MM); bound as metadata"
    )
    metadata: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "more S3 user metadata: ASCII names of letters, digits, - and _ (sent lower-case) and ASCII "
            "values, at most 1800 bytes with the bound fields"
        ),
        json_schema_extra={
            "propertyNames": {"pattern": METADATA_NAME},
            "additionalProperties": {"type": "string", "pattern": "^[\\x00-\\x7f]*$"},
        },
    )


class UploadTicket(BaseModel):
    """A presigned POST (S3 browser-based upload): send ``fields`` as multipart/form-data parts,
    then the image as the last part, named ``file``. S3 refuses a body over ``max_bytes``, a key
    outside ``key_prefix``, a changed or missing field, and anything after ``expires_in`` seconds."""

    method: Literal["POST"] = "POST"
    url: str = Field(description="POST the form here")
    fields: dict[str, str] = Field(
        description="form fields to send before the file: key, Content-Type, x-amz-meta-*, policy and "
        "its SigV4 signature fields"
    )
    bucket: str
    key: str = Field(description="where the image lands: the form's key (any key under key_prefix is taken)")
    key_prefix: str = Field(description="the policy accepts keys under this prefix only")
    max_bytes: int = Field(description="the largest body the policy accepts: the source's byte limit")
    region: str
    cell: str
    expires_in: int


class ErasureBody(BaseModel):
    """An erasure request: everything of one image, camera, consent or source in this cell."""

    model_config = ConfigDict(extra="forbid")
    subject: Literal["image", "camera", "consent", "source"]
    value: str = Field(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9._:@/+-]+$")
    reason: str = Field("", max_length=500)


class ErasureOutcome(BaseModel):
    erasure_id: str
    cell: str
    subject: str
    images: int
    decisions: int
    object_versions: int
    index_entries: int
    reclustered: int
    aggregates: int = Field(
        0, description="counter items deleted (brought to zero, or naming an erased camera)"
    )
    reports: list[str] = Field(default_factory=list, description="ids of the stored reports redacted")
    snapshots: dict[str, int] = Field(
        default_factory=dict, description="snapshot id -> images removed from its manifest (a new version)"
    )
    verified: bool = Field(description="a scan of every bucket version and table item found nothing left")
    leftovers: list[str]
