"""Values that flow through the gate: what an image is, what we know about it, what we decided."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from lenslog.domain.labels.models import Labels


class Status(StrEnum):
    accepted = "accepted"
    duplicate = "duplicate"
    near_duplicate = "near_duplicate"
    rejected = "rejected"
    quarantined = "quarantined"

    @property
    def is_refusal(self) -> bool:
        return self in (Status.rejected, Status.quarantined)


class Reason(StrEnum):
    """Machine-readable reason codes. ``rejected`` reasons are properties of the bytes and can never
    be cured; ``quarantined`` reasons can be cured (a late sidecar, a consent, a policy change)."""

    empty_object = "empty_object"
    too_large = "too_large"
    unknown_format = "unknown_format"
    format_not_allowed = "format_not_allowed"
    decompression_bomb = "decompression_bomb"
    truncated_image = "truncated_image"
    corrupt_image = "corrupt_image"
    too_small = "too_small"
    quality_rejected = "quality_rejected"
    metadata_incomplete = "metadata_incomplete"
    metadata_invalid = "metadata_invalid"
    near_duplicate_held = "near_duplicate_held"
    region_unresolved = "region_unresolved"
    region_misrouted = "region_misrouted"
    consent_missing = "consent_missing"
    consent_expired = "consent_expired"
    labels_invalid = "labels_invalid"

    @property
    def status(self) -> Status:
        return Status.rejected if self in _REJECTING else Status.quarantined

    @property
    def text(self) -> str:
        return REASON_TEXT[self]


_REJECTING = {
    Reason.empty_object,
    Reason.too_large,
    Reason.unknown_format,
    Reason.format_not_allowed,
    Reason.decompression_bomb,
    Reason.truncated_image,
    Reason.corrupt_image,
    Reason.too_small,
    Reason.quality_rejected,
}

REASON_TEXT: dict[Reason, str] = {
    Reason.empty_object: "the object has no bytes",
    Reason.too_large: "the object exceeds the source's byte limit; it was not decoded",
    Reason.unknown_format: "the bytes are not a recognised image format",
    Reason.format_not_allowed: "the image format (from its magic bytes) is not in the source's allow-list",
    Reason.decompression_bomb: "the declared pixel count exceeds the limit; the image was not decoded",
    Reason.truncated_image: "the image data ends early (a full decode failed)",
    Reason.corrupt_image: "the image could not be decoded",
    Reason.too_small: "width or height is below the source's minimum",
    Reason.quality_rejected: "a quality flag that the source's policy rejects",
    Reason.metadata_incomplete: "a required metadata field is missing; a later sidecar re-evaluates it",
    Reason.metadata_invalid: "the sidecar or metadata could not be parsed",
    Reason.near_duplicate_held: "a near duplicate of an existing image, held by the source's policy",
    Reason.region_unresolved: "the image's data region could not be resolved",
    Reason.region_misrouted: "the image belongs to another data region and the policy quarantines it",
    Reason.consent_missing: "the image may contain personal data and carries no registered consent id",
    Reason.consent_expired: "the consent the image refers to has expired or does not cover it",
    Reason.labels_invalid: "the image's label file has no valid box and the source's policy quarantines it",
}


class Refusal(BaseModel):
    model_config = ConfigDict(frozen=True)
    reason: Reason
    detail: str = ""


class Provenance(StrEnum):
    """Where a metadata field came from, highest precedence first."""

    sidecar = "sidecar"
    s3_metadata = "s3_metadata"
    registry = "registry"
    exif = "exif"
    key_path = "key_path"
    derived = "derived"


class ImageMetadata(BaseModel):
    """Normalised metadata of one image. ``provenance`` names the source of every field set."""

    camera_id: str | None = None
    captured_at: datetime | None = Field(None, description="UTC when the offset or zone is known")
    captured_local: str | None = Field(None, description="local wall-clock time, ISO, no offset")
    timezone: str | None = None
    time_rule: str | None = Field(
        None,
        description="how captured_at was found: exif_offset, stated_offset, stated_zone, gps_time, "
        "gps_zone, camera_zone, source_zone, cell_zone_assumed",
    )
    timezone_assumed: bool | None = Field(
        None, description="true when the zone is the cell's configured default, not the image's own"
    )
    make: str | None = None
    model: str | None = None
    serial: str | None = None
    source_id: str | None = None
    source_type: str | None = None
    site: str | None = None
    operator: str | None = None
    shift: str | None = None
    weather: str | None = None
    conditions: str | None = None
    scene: str | None = None
    classes: list[str] = Field(default_factory=list)
    consent_id: str | None = None
    pii: list[str] = Field(default_factory=list)
    data_region: str | None = None
    lat: float | None = None
    lon: float | None = None
    orientation: int | None = None
    extra: dict[str, str] = Field(default_factory=dict)
    provenance: dict[str, str] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)

    def has(self, field: str) -> bool:
        value = getattr(self, field, None)
        if value is None:
            value = self.extra.get(field)
        return value not in (None, "", [])


class ImageInfo(BaseModel):
    format: str | None = None
    width: int | None = None
    height: int | None = None
    mode: str | None = None
    bytes: int = 0


class Quality(BaseModel):
    brightness: float
    brightness_p05: float
    brightness_p95: float
    contrast: float
    sharpness: float
    entropy: float
    colourfulness: float
    noise: float
    aspect_ratio: float
    flags: list[str] = Field(default_factory=list)
    measured_on: str = ""


class Hashes(BaseModel):
    sha256: str
    phash: str | None = None
    phash_algorithm: str | None = None
    phash_check: str | None = Field(None, description="256-bit pHash (16x16 of 64x64) confirming matches")
    crop_phashes: list[str] = Field(
        default_factory=list, description="pHashes of the near-duplicate crop views, in their fixed order"
    )
    crop_checks: list[str] = Field(default_factory=list, description="256-bit pHashes of the crop views")
    layouts: list[str] = Field(
        default_factory=list,
        description=(
            "colour layouts (6x6 RGB, base64; 4x4 in decisions made before it) of the frame, then of"
            " each crop view"
        ),
    )
    near_index: str | None = Field(None, description="indexed, or why the image is not matched perceptually")
    library_versions: dict[str, str] = Field(default_factory=dict)


class StoredAt(BaseModel):
    bucket: str
    key: str
    region: str


class ObjectRef(BaseModel):
    """One object in a landing bucket, as an S3 event names it."""

    model_config = ConfigDict(frozen=True)
    bucket: str
    key: str
    size: int | None = None
    etag: str | None = None
    version_id: str | None = None
    region: str | None = None
    event_time: str | None = None
    sequencer: str | None = None

    @property
    def is_sidecar(self) -> bool:
        return self.key.lower().endswith(".json")

    @property
    def kind(self) -> str:
        """image, sidecar, yolo, voc, coco or class_map (see ``lenslog.domain.labels.keys``)."""
        from lenslog.domain.labels.keys import classify

        return str(classify(self.key))


class Decision(BaseModel):
    """The gate's verdict on one uploaded object; one line of decisions.jsonl."""

    key: str
    bucket: str
    cell: str
    status: Status
    reasons: list[str] = Field(default_factory=list)
    reason_details: list[str] = Field(default_factory=list)
    image_id: str | None = None
    duplicate_of: str | None = None
    cluster_id: str | None = None
    distance: int | None = None
    burst: bool = False
    split: str | None = None
    data_region: str | None = None
    stored: StoredAt | None = None
    metadata: ImageMetadata = Field(default_factory=ImageMetadata)
    quality: Quality | None = None
    hashes: Hashes | None = None
    image: ImageInfo = Field(default_factory=ImageInfo)
    decided_at: datetime
    version_id: str | None = None
    etag: str | None = None
    reevaluated: bool = False
    region_rule: str | None = None
    relocated_from: str | None = Field(None, description="bucket/key@version it was first uploaded to")
    labels: Labels = Field(default_factory=Labels)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
