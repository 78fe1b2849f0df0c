"""Validating what carriers say against the decoded image, into the recorded :class:`Labels`.

Per box: the class is known (an id in the class map, a name in the source's class list when it has
one), the area is positive, the box lies inside the image (1% tolerance by default; within it the
box is clipped), it is no duplicate (same class, IoU >= 0.95 with an earlier box). Per file: the
declared width and height match the decoded image, no more boxes than the limit. An invalid box is
dropped with a warning; a carrier with no valid box makes the image ``invalid``; an explicitly
empty one makes it ``null``.

Frames: boxes are recorded normalised in the upright (EXIF-oriented) frame. Carriers are taken to
be written in the upright frame, as annotation tools display images; a carrier whose declared size
is the stored (not upright) frame of a rotated image is turned upright, with a warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lenslog.domain.labels.models import (
    Carried,
    CarriedBox,
    LabelFormat,
    LabelIssue,
    LabelLimits,
    LabelObject,
    Labels,
    LabelStatus,
    warning,
)

# When several carriers name the same image, the most specific wins; the others are noted.
PRECEDENCE = (LabelFormat.sidecar, LabelFormat.voc, LabelFormat.yolo, LabelFormat.coco)
ROTATED = (5, 6, 7, 8)
DIGITS = 6

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 normalised


def upright_size(width: int, height: int, orientation: int | None) -> tuple[int, int]:
    return (height, width) if orientation in ROTATED else (width, height)


def _point_upright(x: float, y: float, orientation: int | None) -> tuple[float, float]:
    """A normalised point of the stored frame in the upright frame (as PIL's exif_transpose)."""
    return {
        2: (1 - x, y),
        3: (1 - x, 1 - y),
        4: (x, 1 - y),
        5: (y, x),
        6: (1 - y, x),
        7: (1 - y, 1 - x),
        8: (y, 1 - x),
    }.get(orientation or 1, (x, y))


def to_upright(box: Box, orientation: int | None) -> Box:
    ax, ay = _point_upright(box[0], box[1], orientation)
    bx, by = _point_upright(box[2], box[3], orientation)
    return min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)


def _normalised(b: CarriedBox, frame: tuple[int, int]) -> Box:
    w, h = frame
    c = b.coords
    if b.convention == "cxcywh_norm":
        return c[0] - c[2] / 2, c[1] - c[3] / 2, c[0] + c[2] / 2, c[1] + c[3] / 2
    if b.convention == "xywh_px":
        return c[0] / w, c[1] / h, (c[0] + c[2]) / w, (c[1] + c[3]) / h
    if b.convention == "xyxy_px":
        return c[0] / w, c[1] / h, c[2] / w, c[3] / h
    raise ValueError(f"unknown box convention {b.convention!r}")


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def choose(carriers: Sequence[Carried]) -> tuple[Carried | None, list[str]]:
    """The carrier that labels the image, and a warning for each one it superseded."""
    if not carriers:
        return None, []
    ranked = sorted(carriers, key=lambda c: (PRECEDENCE.index(c.format), c.source))
    notes = [warning(LabelIssue.superseded, f"{c.format} {c.source}") for c in ranked[1:]]
    return ranked[0], notes


def _class_name(
    b: CarriedBox, carried: Carried, id_map: Mapping[str, str] | None, known: frozenset[str]
) -> tuple[str | None, str | None]:
    if b.by_id:
        names = carried.class_map or id_map
        if not names:
            return None, warning(
                LabelIssue.no_class_map, f"{b.where}: class id {b.class_ref}, no data.yaml or class map"
            )
        name = names.get(b.class_ref)
        if name is None:
            return None, warning(
                LabelIssue.unknown_class, f"{b.where}: class id {b.class_ref} not in the class map"
            )
    else:
        name = b.class_ref
    if known and name not in known:
        return None, warning(
            LabelIssue.unknown_class, f"{b.where}: class {name!r} not in the source's classes"
        )
    return name, None


def resolve(
    carriers: Sequence[Carried],
    width: int | None,
    height: int | None,
    orientation: int | None = None,
    *,
    id_map: Mapping[str, str] | None = None,
    known: frozenset[str] = frozenset(),
    limits: LabelLimits = LabelLimits(),
) -> Labels:
    """The labels of one decoded image (``width`` x ``height`` as stored) from its carriers.
    ``id_map``: YOLO ids -> names (data.yaml or the source's class map); ``known``: the source's
    class names, when it lists them (then any other name is unknown)."""
    carried, notes = choose(carriers)
    if carried is None:
        return Labels()
    labels = Labels(format=str(carried.format), warnings=[*carried.errors, *notes])
    labels.sources = [f"{carried.source}@{carried.version}" if carried.version else carried.source]
    if not width or not height:
        labels.status = LabelStatus.invalid
        labels.warnings.append(warning(LabelIssue.size_mismatch, "the image has no decoded size"))
        return labels
    upright = upright_size(width, height, orientation)
    frame, turn = upright, None
    if carried.declared is not None and carried.declared != upright:
        if orientation in ROTATED and carried.declared == (width, height):
            frame, turn = (width, height), orientation
            labels.warnings.append(
                warning(
                    LabelIssue.raw_frame,
                    f"declared {width}x{height} is the stored frame; boxes turned upright",
                )
            )
        else:
            dw, dh = carried.declared
            labels.warnings.append(
                warning(
                    LabelIssue.size_mismatch,
                    f"declared {dw}x{dh}, decoded {upright[0]}x{upright[1]} (upright)",
                )
            )
            labels.status = LabelStatus.invalid
            return labels
    if len(carried.boxes) > limits.max_boxes:
        labels.warnings.append(
            warning(LabelIssue.too_many_boxes, f"{len(carried.boxes)} boxes > {limits.max_boxes}")
        )
        labels.status = LabelStatus.invalid
        return labels
    tol = limits.bounds_tolerance
    kept: list[tuple[str, Box]] = []
    for b in carried.boxes:
        name, problem = _class_name(b, carried, id_map, known)
        if problem is not None or name is None:
            labels.warnings.append(problem or warning(LabelIssue.unknown_class, b.where))
            continue
        x0, y0, x1, y1 = _normalised(b, frame if b.convention != "cxcywh_norm" else upright)
        if x1 - x0 <= 0 or y1 - y0 <= 0:
            labels.warnings.append(warning(LabelIssue.zero_area, f"{b.where}: {name}"))
            continue
        if x0 < -tol or y0 < -tol or x1 > 1 + tol or y1 > 1 + tol:
            labels.warnings.append(warning(LabelIssue.out_of_bounds, f"{b.where}: {name}"))
            continue
        box: Box = (max(0.0, x0), max(0.0, y0), min(1.0, x1), min(1.0, y1))
        if box != (x0, y0, x1, y1) and max(-x0, -y0, x1 - 1, y1 - 1) > 1e-6:
            labels.warnings.append(warning(LabelIssue.clipped, f"{b.where}: {name}"))
        if box[2] - box[0] <= 0 or box[3] - box[1] <= 0:
            labels.warnings.append(warning(LabelIssue.zero_area, f"{b.where}: {name} after clipping"))
            continue
        if turn is not None:
            box = to_upright(box, turn)
        if any(c == name and iou(box, other) >= limits.duplicate_iou for c, other in kept):
            labels.warnings.append(warning(LabelIssue.duplicate, f"{b.where}: {name}"))
            continue
        kept.append((name, box))
        if b.kind != "box":
            labels.warnings.append(warning(LabelIssue.reduced, f"{b.where}: {b.kind} to its bounding box"))
        cx, cy, bw, bh = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, box[2] - box[0], box[3] - box[1]
        labels.objects.append(
            LabelObject.model_validate(
                {
                    "class": name,
                    "box": [round(v, DIGITS) for v in (cx, cy, bw, bh)],
                    "kind": b.kind,
                    **b.extra,
                }
            )
        )
    if labels.objects:
        labels.status = LabelStatus.labelled
    elif carried.null and not carried.boxes and not carried.errors:
        labels.status = LabelStatus.null
    else:
        labels.status = LabelStatus.invalid
    return labels
