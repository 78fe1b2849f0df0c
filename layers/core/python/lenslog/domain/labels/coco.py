"""COCO JSON: one file covers many images. ``images`` (id, file_name, width, height),
``annotations`` (image_id, category_id, bbox = [x, y, w, h] in pixels from the top-left, iscrowd)
and ``categories`` (id -> name; ids need not be contiguous). An image listed with no annotation is
a null (background) image. Size and nesting depth are bounded before anything is built."""

from __future__ import annotations

import json
import math
from typing import Any

from lenslog.domain.labels.models import Carried, CarriedBox, LabelFormat, LabelIssue, warning
from lenslog.domain.labels.text import TextError, decode

MAX_BYTES = 64_000_000
MAX_DEPTH = 20
MAX_ERRORS = 50


class CocoError(ValueError):
    """The file as a whole cannot be read: no image can take anything from it."""


def _depth_ok(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return True


def load(data: bytes) -> dict[str, Any]:
    try:
        text = decode(data, MAX_BYTES)
    except TextError as exc:
        raise CocoError(str(exc)) from exc
    try:
        doc = json.loads(text)
    except RecursionError as exc:
        raise CocoError(warning(LabelIssue.too_deep, f"nested deeper than {MAX_DEPTH}")) from exc
    except json.JSONDecodeError as exc:
        raise CocoError(warning(LabelIssue.malformed, f"JSON: {exc}")) from exc
    if not _depth_ok(doc, MAX_DEPTH):
        raise CocoError(warning(LabelIssue.too_deep, f"nested deeper than {MAX_DEPTH}"))
    if not isinstance(doc, dict):
        raise CocoError(warning(LabelIssue.malformed, "not a JSON object"))
    return doc


def looks_like_coco(doc: dict[str, Any]) -> bool:
    return isinstance(doc.get("images"), list) and isinstance(doc.get("annotations", []), list)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def split(doc: dict[str, Any], source: str, version: str = "") -> tuple[dict[str, Carried], list[str]]:
    """file_name -> what the file says about that image; and the file-level warnings."""
    errors: list[str] = []

    def note(text: str) -> None:
        if len(errors) < MAX_ERRORS:
            errors.append(text)

    categories: dict[str, str] = {}
    for n, cat in enumerate(doc.get("categories") or []):
        cid = _int(cat.get("id")) if isinstance(cat, dict) else None
        name = cat.get("name") if isinstance(cat, dict) else None
        if cid is None or not isinstance(name, str) or not name.strip():
            note(warning(LabelIssue.malformed, f"category {n}: needs an integer id and a name"))
            continue
        categories[str(cid)] = name.strip()
    by_id: dict[int, Carried] = {}
    out: dict[str, Carried] = {}
    for n, img in enumerate(doc.get("images") or []):
        iid = _int(img.get("id")) if isinstance(img, dict) else None
        name = img.get("file_name") if isinstance(img, dict) else None
        if iid is None or not isinstance(name, str) or not name.strip():
            note(warning(LabelIssue.malformed, f"image {n}: needs an integer id and a file_name"))
            continue
        w, h = _int(img.get("width")), _int(img.get("height"))
        carried = Carried(
            format=LabelFormat.coco, source=source, version=version, null=True, file_name=name,
            declared=(w, h) if w and h and w > 0 and h > 0 else None, class_map=categories,
        )  # fmt: skip
        by_id[iid] = carried
        out[name] = carried
    for n, ann in enumerate(doc.get("annotations") or []):
        where = f"annotation {ann.get('id', n) if isinstance(ann, dict) else n}"
        if not isinstance(ann, dict):
            note(warning(LabelIssue.malformed, f"{where}: not an object"))
            continue
        target = by_id.get(_int(ann.get("image_id")) or -1)
        if target is None:
            note(warning(LabelIssue.malformed, f"{where}: image_id {ann.get('image_id')!r} is not in images"))
            continue
        target.null = False
        bbox, cat = ann.get("bbox"), _int(ann.get("category_id"))
        if (
            cat is None
            or not isinstance(bbox, list)
            or len(bbox) != 4
            or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in bbox
            )
        ):
            target.errors.append(
                warning(LabelIssue.malformed, f"{where}: needs category_id and bbox [x, y, w, h]")
            )
            continue
        extra: dict[str, Any] = {}
        if ann.get("iscrowd") in (0, 1):
            extra["iscrowd"] = int(ann["iscrowd"])
        bx, by, bw, bh = (float(v) for v in bbox)
        target.boxes.append(
            CarriedBox(
                class_ref=str(cat),
                by_id=True,
                coords=(bx, by, bw, bh),
                convention="xywh_px",
                where=where,
                extra=extra,
            )
        )
    return out, errors
