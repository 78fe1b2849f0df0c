"""``labels`` in the sidecar JSON (native): ``[{"class": name, "box": [cx, cy, w, h]}]`` normalised
to 0..1 in the upright frame; ``[]`` marks a null image."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from lenslog.domain.labels.models import Carried, CarriedBox, LabelFormat, LabelIssue, warning

KEY = "labels"


def parse(sidecar: Mapping[str, Any] | None) -> Carried | None:
    if not sidecar or KEY not in sidecar:
        return None
    carried = Carried(format=LabelFormat.sidecar, source="sidecar")
    items = sidecar[KEY]
    if not isinstance(items, list):
        carried.errors.append(warning(LabelIssue.malformed, "labels is not a list"))
        return carried
    if not items:
        carried.null = True
    for n, item in enumerate(items, start=1):
        where = f"label {n}"
        cls = item.get("class") if isinstance(item, Mapping) else None
        box = item.get("box") if isinstance(item, Mapping) else None
        if (
            not isinstance(cls, str)
            or not cls.strip()
            or not isinstance(box, list)
            or len(box) != 4
            or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in box
            )
        ):
            carried.errors.append(
                warning(LabelIssue.malformed, f"{where}: needs class and box [cx, cy, w, h]")
            )
            continue
        carried.boxes.append(
            CarriedBox(
                class_ref=cls.strip(), coords=(float(box[0]), float(box[1]), float(box[2]), float(box[3])),
                convention="cxcywh_norm", where=where,
            )
        )  # fmt: skip
    return carried
