"""The report's charts as PNG bytes, drawn with Pillow only (it already sits in the Lambda layer).

Every chart is drawn at twice its display size so that it stays sharp on high-density screens; the
HTML shows it at half its pixel width. An empty input draws a labelled empty chart, never fails.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from lenslog.audit.models import Matrix, Report

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

SCALE = 2
WIDTH = 760  # display width, CSS pixels
INK = (31, 41, 55)
MUTED = (107, 114, 128)
GRID = (229, 231, 235)
EMPTY_CELL = (243, 244, 246)
BLUE = (37, 99, 235)
LIGHT_BLUE = (191, 219, 254)
AMBER = (217, 119, 6)
RED = (220, 38, 38)
GREEN = (22, 163, 74)
GREY = (156, 163, 175)
MAX_ROWS = 30


class Chart(NamedTuple):
    name: str  # file-like name, also the cid of the email image
    title: str
    png: bytes
    width: int  # display width in CSS pixels


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size * SCALE)
    except (OSError, TypeError, ImportError):  # Pillow built without FreeType
        return ImageFont.load_default()


def _text_width(draw: ImageDraw.ImageDraw, text: str, size: int) -> int:
    left, _, right, _ = draw.textbbox((0, 0), text, font=_font(size))
    return int(right - left)


def _canvas(width: int, height: int):  # type: ignore[no-untyped-def]
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (width * SCALE, height * SCALE), "white")
    return img, ImageDraw.Draw(img)


def _png(img) -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def _text(
    draw: ImageDraw.ImageDraw,
    xy: tuple[float, float],
    text: str,
    size: int = 11,
    fill=INK,
    anchor: str = "la",
) -> None:  # type: ignore[no-untyped-def]
    draw.text((xy[0] * SCALE, xy[1] * SCALE), text, font=_font(size), fill=fill, anchor=anchor)


def _rect(draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float], fill, outline=None) -> None:  # type: ignore[no-untyped-def]
    x0, y0, x1, y1 = box
    draw.rectangle((x0 * SCALE, y0 * SCALE, x1 * SCALE - 1, y1 * SCALE - 1), fill=fill, outline=outline)


def _line(draw: ImageDraw.ImageDraw, xy: tuple[float, float, float, float], fill, width: int = 1) -> None:  # type: ignore[no-untyped-def]
    draw.line([c * SCALE for c in xy], fill=fill, width=width * SCALE)


def _empty(title: str, message: str) -> bytes:
    img, draw = _canvas(WIDTH, 90)
    _text(draw, (12, 10), title, 13)
    _text(draw, (WIDTH / 2, 55), message, 12, MUTED, anchor="mm")
    return _png(img)


def _ramp(value: int, top: int) -> tuple[int, int, int]:
    if value <= 0 or top <= 0:
        return EMPTY_CELL
    t = math.sqrt(value / top)
    lo, hi = (219, 234, 254), (30, 64, 175)
    return tuple(round(a + (b - a) * t) for a, b in zip(lo, hi, strict=True))  # type: ignore[return-value]


def heatmap(matrix: Matrix, *, column_label_every: int = 1, short_columns: bool = False) -> bytes:
    """Rows x columns of counts; empty cells are grey so that gaps stand out."""
    if not matrix.rows or not matrix.columns:
        return _empty(matrix.title, "no data in this window")
    rows = matrix.rows[:MAX_ROWS]
    values = matrix.values[:MAX_ROWS]
    _probe, draw = _canvas(1, 1)
    label_w = max(_text_width(draw, r, 11) for r in rows) // SCALE + 16
    cols = len(matrix.columns)
    cell_w = max(6.0, min(30.0, (WIDTH - label_w - 16) / cols))
    cell_h = 18
    top = 34
    height = top + cell_h * len(rows) + 48 + (14 if len(matrix.rows) > MAX_ROWS else 0)
    img, draw = _canvas(WIDTH, height)
    _text(draw, (12, 8), matrix.title, 13)
    top_value = max((max(r) for r in values if r), default=0)
    for i, (name, row) in enumerate(zip(rows, values, strict=True)):
        y = top + i * cell_h
        _text(draw, (label_w - 8, y + cell_h / 2), name, 11, anchor="rm")
        for j, n in enumerate(row):
            x = label_w + j * cell_w
            _rect(draw, (x + 1, y + 1, x + cell_w - 1, y + cell_h - 1), _ramp(n, top_value))
    y = top + cell_h * len(rows) + 4
    for j, col in enumerate(matrix.columns):
        if j % column_label_every == 0:
            label = col[5:] if short_columns else col
            _text(draw, (label_w + j * cell_w + cell_w / 2, y), label, 9, MUTED, anchor="ma")
    y += 20
    if len(matrix.rows) > MAX_ROWS:
        _text(draw, (label_w, y), f"first {MAX_ROWS} of {len(matrix.rows)} rows", 9, MUTED)
        y += 14
    # legend
    _text(draw, (label_w, y + 6), "none", 9, MUTED, anchor="lm")
    x = label_w + 34
    _rect(draw, (x, y, x + 14, y + 12), EMPTY_CELL)
    x += 26
    for k in range(1, 9):
        _rect(draw, (x, y, x + 14, y + 12), _ramp(k, 8))
        x += 14
    _text(draw, (x + 6, y + 6), f"max {top_value:,}", 9, MUTED, anchor="lm")
    return _png(img)


def hbars(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    value_format: str = "{:,.0f}",
    markers: Sequence[tuple[float, str, tuple[int, int, int]]] = (),
    colors: Sequence[tuple[int, int, int]] | None = None,
    second: Sequence[float] | None = None,
    legend: Sequence[tuple[str, tuple[int, int, int]]] = (),
    axis_max: float | None = None,
) -> bytes:
    """Horizontal bars with optional threshold markers and an optional second (target) series."""
    if not labels:
        return _empty(title, "nothing to show")
    labels = list(labels)[:MAX_ROWS]
    _probe, draw = _canvas(1, 1)
    label_w = max(_text_width(draw, str(lab), 11) for lab in labels) // SCALE + 16
    value_w = 70
    plot_w = WIDTH - label_w - value_w - 12
    bar_h = 20 if second is None else 26
    top = 36 if not legend else 52
    height = top + bar_h * len(labels) + 30
    img, draw = _canvas(WIDTH, height)
    _text(draw, (12, 8), title, 13)
    lx = 12
    for name, color in legend:
        _rect(draw, (lx, 32, lx + 12, 42), color)
        _text(draw, (lx + 16, 37), name, 10, MUTED, anchor="lm")
        lx += 28 + _text_width(draw, name, 10) // SCALE
    numeric = [v for v in values if v is not None] + list(second or []) + [m[0] for m in markers]
    top_value = axis_max or max([*numeric, 0.0]) or 1.0
    top_value *= 1.0 if axis_max else 1.08

    def x_of(v: float) -> float:
        return label_w + plot_w * max(min(v / top_value, 1.0), 0.0)

    for i, label in enumerate(labels):
        y = top + i * bar_h
        _text(draw, (label_w - 8, y + bar_h / 2), str(label), 11, anchor="rm")
        v = values[i]
        color = colors[i] if colors else BLUE
        if second is None:
            if v is not None:
                _rect(draw, (label_w, y + 3, max(x_of(v), label_w + 1), y + bar_h - 3), color)
        else:
            if v is not None:
                _rect(draw, (label_w, y + 3, max(x_of(v), label_w + 1), y + bar_h / 2), color)
            _rect(
                draw, (label_w, y + bar_h / 2, max(x_of(second[i]), label_w + 1), y + bar_h - 3), LIGHT_BLUE
            )
        text = "n/a" if v is None else value_format.format(v)
        _text(draw, (WIDTH - 10, y + bar_h / 2), text, 10, MUTED, anchor="rm")
    bottom = top + bar_h * len(labels)
    _line(draw, (label_w, top - 2, label_w, bottom + 2), GRID)
    for value, name, color in markers:
        x = x_of(value)
        _line(draw, (x, top - 4, x, bottom + 4), color, 1)
        _text(draw, (x, bottom + 8), name, 9, color, anchor="ma")
    return _png(img)


def _level_color(level: str) -> tuple[int, int, int]:
    return {"alert": RED, "watch": AMBER, "ok": GREEN}.get(level, GREY)


def report_charts(report: Report) -> list[Chart]:
    """Every chart of the report, in reading order."""
    cov = report.coverage
    charts = [
        Chart(
            "camera_day",
            "Images per camera and capture day",
            heatmap(cov.camera_day, column_label_every=7, short_columns=True),
            WIDTH,
        )
    ]
    groups = list(dict.fromkeys([*report.target_blend, *report.source_blend]))
    charts.append(
        Chart(
            "source_mix",
            "Source mix against the target blend",
            hbars(
                "Source mix against the target blend",
                groups,
                [report.source_blend.get(g, 0.0) for g in groups],
                second=[report.target_blend.get(g, 0.0) for g in groups],
                value_format="{:.0%}",
                legend=[("actual", BLUE), ("target", LIGHT_BLUE)],
                axis_max=1.0,
            ),
            WIDTH,
        )
    )
    classes = next((t for t in cov.tables if t.dimension == "class"), None)
    rows = classes.rows if classes else []
    charts.append(
        Chart(
            "class_balance",
            "Class balance",
            hbars(
                "Images per class (minimum 50)",
                [r.value for r in rows],
                [float(r.count) for r in rows],
                markers=[(50.0, "50", RED)],
                colors=[BLUE if r.count >= 50 else AMBER for r in rows],
            )
            if rows
            else _empty("Images per class", "no class labels in the metadata"),
            WIDTH,
        )
    )
    charts.append(Chart("camera_hour", "Hour coverage per camera", heatmap(cov.camera_hour), WIDTH))
    dims = report.drift.dimensions
    charts.append(
        Chart(
            "drift",
            "Drift per dimension (PSI)",
            hbars(
                f"Drift of the week against the {report.period.baseline_weeks} weeks before (PSI)",
                [d.dimension for d in dims],
                [d.psi for d in dims],
                value_format="{:.3f}",
                markers=[(0.1, "watch 0.1", AMBER), (0.25, "alert 0.25", RED)],
                colors=[_level_color(d.level) for d in dims],
            )
            if any(d.psi is not None for d in dims)
            else _empty("Drift per dimension (PSI)", "no baseline or no images this week to compare"),
            WIDTH,
        )
    )
    from lenslog.audit.labels import label_charts

    charts += [Chart(name, title, png, WIDTH) for name, title, png in label_charts(report.labels)]
    return charts
