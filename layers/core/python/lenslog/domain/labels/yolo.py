"""YOLO txt labels (Ultralytics): one object per line, ``class cx cy w h`` normalised to 0..1;
``class x1 y1 x2 y2 ...`` (3+ points) is a segmentation polygon, exactly 4 points an oriented box:
both are reduced to their bounding box, with the kind recorded. An empty file is a null image.
Tolerates CRLF, a BOM, trailing spaces and blank lines; never rewrites anything."""

from __future__ import annotations

import math

from lenslog.domain.labels.models import Carried, CarriedBox, LabelFormat, LabelIssue, warning
from lenslog.domain.labels.text import TextError, decode

MAX_BYTES = 1_000_000


def _class_id(token: str) -> int | None:
    try:
        value = float(token)
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0 or value != int(value):
        return None
    return int(value)


def parse(data: bytes, source: str, version: str = "") -> Carried:
    carried = Carried(format=LabelFormat.yolo, source=source, version=version)
    try:
        text = decode(data, MAX_BYTES)
    except TextError as exc:
        carried.errors.append(str(exc))
        return carried
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        carried.null = True
        return carried
    for n, line in enumerate(lines, start=1):
        tokens = line.split()
        if not tokens:
            continue
        where = f"line {n}"
        cls = _class_id(tokens[0])
        try:
            values = [float(t) for t in tokens[1:]]
        except ValueError:
            values = []
        if cls is None or not values or not all(math.isfinite(v) for v in values):
            carried.errors.append(warning(LabelIssue.malformed, f"{where}: {line.strip()[:80]!r}"))
            continue
        if len(values) == 4:
            coords, kind = (values[0], values[1], values[2], values[3]), "box"
        elif len(values) >= 6 and len(values) % 2 == 0:
            xs, ys = values[0::2], values[1::2]
            x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
            coords = ((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0)
            kind = "obb" if len(values) == 8 else "polygon"
        else:
            carried.errors.append(
                warning(LabelIssue.malformed, f"{where}: {len(values)} numbers after the class")
            )
            continue
        carried.boxes.append(
            CarriedBox(
                class_ref=str(cls),
                by_id=True,
                coords=coords,
                convention="cxcywh_norm",
                where=where,
                kind=kind,
            )
        )
    return carried
