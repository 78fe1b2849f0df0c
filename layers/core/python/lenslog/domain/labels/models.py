"""Label values: what a carrier file says about one image (a :class:`Carried` annotation, in the
carrier's own coordinates) and what the gate records after validating it against the decoded image
(:class:`Labels`, boxes normalised ``[cx, cy, w, h]`` in 0..1 in the upright frame)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class LabelFormat(StrEnum):
    yolo = "yolo"
    voc = "voc"
    coco = "coco"
    sidecar = "sidecar"


class LabelStatus(StrEnum):
    labelled = "labelled"  # at least one valid box
    null = "null"  # an explicitly empty label file: a background image
    unlabelled = "unlabelled"  # no label found for the image
    invalid = "invalid"  # labels found, none of them valid


class LabelIssue(StrEnum):
    """Machine-readable reasons, per box or per file (a warning is ``<issue>: <detail>``)."""

    malformed = "malformed"  # a line, XML or JSON that cannot be read
    too_large = "too_large"  # the label file exceeds its byte limit
    too_deep = "too_deep"  # JSON nested deeper than the limit
    unsafe_xml = "unsafe_xml"  # entity declarations, external references
    bad_encoding = "bad_encoding"  # not UTF-8 (with or without BOM)
    unknown_class = "unknown_class"  # an id outside the class map, a name not in it
    no_class_map = "no_class_map"  # YOLO ids with no data.yaml and no source class map
    out_of_bounds = "out_of_bounds"  # coordinates outside the image beyond the tolerance
    zero_area = "zero_area"  # zero or negative width or height
    duplicate = "duplicate"  # same class, IoU >= the threshold with an earlier box
    too_many_boxes = "too_many_boxes"  # boxes beyond the configured limit
    size_mismatch = "size_mismatch"  # declared width/height differ from the decoded image's
    raw_frame = "raw_frame"  # declared size matched the stored (not upright) frame: boxes rotated
    clipped = "clipped"  # a box within the tolerance outside the image, clipped to it
    reduced = "reduced"  # a polygon or oriented box reduced to its bounding box
    superseded = "superseded"  # another carrier of the same image took precedence


def warning(issue: LabelIssue, detail: str) -> str:
    return f"{issue}: {detail}" if detail else str(issue)


class CarriedBox(BaseModel):
    """One box as its carrier wrote it. ``coords`` follow ``convention``: ``cxcywh_norm`` (YOLO,
    sidecar), ``xyxy_px`` (VOC, 1-based pixels), ``xywh_px`` (COCO, top-left + size)."""

    model_config = ConfigDict(frozen=True)
    class_ref: str  # a name (VOC, COCO, sidecar) or a numeric id as text (YOLO)
    by_id: bool = False  # class_ref is an id into the class map
    coords: tuple[float, float, float, float]
    convention: str
    where: str = ""  # "line 3", "object 2", "annotation 17": for warnings
    kind: str = "box"  # box | polygon | obb
    extra: dict[str, Any] = Field(default_factory=dict)  # iscrowd, difficult, truncated...


class Carried(BaseModel):
    """What one carrier says about one image, before validation (JSON-serialisable, kept in the
    ledger's label pointer items). ``null``: an explicitly empty file."""

    format: LabelFormat
    source: str  # the label file's key (or "sidecar")
    version: str = ""
    boxes: list[CarriedBox] = Field(default_factory=list)
    null: bool = False
    declared: tuple[int, int] | None = None  # (width, height) the carrier declares
    class_map: dict[str, str] = Field(default_factory=dict)  # id -> name (COCO categories)
    errors: list[str] = Field(default_factory=list)  # file- or line-level warnings found when parsing
    file_name: str | None = None  # COCO: the image's file_name


class LabelObject(BaseModel):
    """One valid object: ``{"class", "box": [cx, cy, w, h], "kind", ...}`` (extra keys such as
    ``iscrowd``, ``difficult``, ``truncated`` are kept as the carrier gave them)."""

    model_config = ConfigDict(
        extra="allow", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )
    class_: str = Field(alias="class")
    box: list[float]
    kind: str = "box"


class Labels(BaseModel):
    """The ``labels`` of a decision and of an image record (DESIGN.md §6)."""

    format: str | None = None
    status: LabelStatus = LabelStatus.unlabelled
    objects: list[LabelObject] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list, description="label files (key@version) applied")
    counter_budget: int | None = Field(
        None,
        description="label counters this image was counted with, when fewer than the default had to "
        "fit its transaction (the rest is summed under label_overflow); erasure counts the same way",
    )

    @property
    def classes(self) -> list[str]:
        return sorted({o.class_ for o in self.objects})


class LabelLimits(BaseModel):
    """Bounds and tolerances of label validation (from the source's policy)."""

    model_config = ConfigDict(frozen=True)
    max_boxes: int = 500
    bounds_tolerance: float = 0.01
    duplicate_iou: float = 0.95
