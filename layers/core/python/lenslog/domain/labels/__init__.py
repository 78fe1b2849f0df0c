"""Labels at the door: carriers (YOLO txt, Pascal VOC XML, COCO JSON, sidecar ``labels``), how they
pair with images, and their validation against the decoded image. Pure: bytes and values in,
values out; storage and ordering live in ``lenslog.services.labels``."""

from lenslog.domain.labels.models import (
    Carried,
    CarriedBox,
    LabelFormat,
    LabelIssue,
    LabelLimits,
    LabelObject,
    Labels,
    LabelStatus,
)

__all__ = [
    "Carried",
    "CarriedBox",
    "LabelFormat",
    "LabelIssue",
    "LabelLimits",
    "LabelObject",
    "LabelStatus",
    "Labels",
]
