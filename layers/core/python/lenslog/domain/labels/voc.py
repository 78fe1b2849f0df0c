"""Pascal VOC XML: ``<size>`` declares the image's width and height; each ``<object>`` has a
``<name>`` and a ``<bndbox>`` of 1-based pixel corners; ``difficult``, ``truncated``, ``occluded``
and ``pose`` are kept on the object. Parsed with defusedxml, DTDs and entities refused, size
bounded."""

from __future__ import annotations

import math
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from lenslog.domain.labels.models import Carried, CarriedBox, LabelFormat, LabelIssue, warning
from lenslog.domain.labels.text import TextError, decode

MAX_BYTES = 1_000_000
FLAGS = ("difficult", "truncated", "occluded")


def _text(node: Any, path: str) -> str | None:
    found = node.find(path)
    return found.text.strip() if found is not None and found.text is not None else None


def _number(node: Any, path: str) -> float | None:
    raw = _text(node, path)
    try:
        value = float(raw) if raw is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def parse(data: bytes, source: str, version: str = "") -> Carried:
    carried = Carried(format=LabelFormat.voc, source=source, version=version)
    try:
        decode(data, MAX_BYTES)  # size and encoding first; the XML parser reads the bytes
    except TextError as exc:
        carried.errors.append(str(exc))
        return carried
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        carried.errors.append(warning(LabelIssue.unsafe_xml, type(exc).__name__))
        return carried
    except SafeET.ParseError as exc:
        carried.errors.append(warning(LabelIssue.malformed, f"XML: {exc}"))
        return carried
    if root.tag != "annotation":
        carried.errors.append(
            warning(LabelIssue.malformed, f"root element is <{root.tag[:40]}>, not <annotation>")
        )
        return carried
    width, height = _number(root, "size/width"), _number(root, "size/height")
    if width and height and width > 0 and height > 0:
        carried.declared = (int(width), int(height))
    objects = root.findall("object")
    if not objects:
        carried.null = True
    for n, obj in enumerate(objects, start=1):
        where = f"object {n}"
        name = _text(obj, "name")
        corners = [_number(obj, f"bndbox/{c}") for c in ("xmin", "ymin", "xmax", "ymax")]
        if not name or any(c is None for c in corners):
            carried.errors.append(warning(LabelIssue.malformed, f"{where}: no name or an incomplete bndbox"))
            continue
        x0, y0, x1, y1 = (float(c) for c in corners if c is not None)
        extra: dict[str, Any] = {}
        for flag in FLAGS:
            raw = _text(obj, flag)
            if raw is not None:
                extra[flag] = raw in ("1", "true", "True")
        pose = _text(obj, "pose")
        if pose and pose != "Unspecified":
            extra["pose"] = pose[:40]
        # 1-based corners, as Ultralytics' VOC conversion reads them
        carried.boxes.append(
            CarriedBox(
                class_ref=name, coords=(x0 - 1, y0 - 1, x1 - 1, y1 - 1), convention="xyxy_px",
                where=where, extra=extra,
            )
        )  # fmt: skip
    return carried
