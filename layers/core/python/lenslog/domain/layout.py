"""The colour layout of an image region: the second signal that confirms a link made through a crop
view.

At 100,000 distinct images every false link that the pHash and its 256-bit check let through went
through a crop view: an 8%-shifted view of one picture and the frame of another share their coarse
grey layout (a wide flat sky over flat ground). Their colours do not. The layout is a 4 x 4 RGB
grid of the region (Pillow's box reduction, 48 bytes), and two layouts are compared as 1 minus the
Pearson correlation of their 48 values, which ignores each image's brightness and contrast.
Measured (docs/near-duplicates.md, "A colour layout for links through a view"): every true copy
of 30 real photos under 19 edits at most 0.173 (the central 80% crop), every false link among
100,343 distinct images at least 0.221; the threshold is 0.2.

A layout with no contrast (every value the same) cannot confirm anything: its distance to any
other layout is 1. When either layout is grey, the two are compared by their 16 luma values, so a
grey copy of a colour picture keeps its layout (grey central-90% crops of the 33 photos: 26 found
without this, 32 with it, as many as without any colour check).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

GRID = 4
LAYOUT_BYTES = GRID * GRID * 3
LAYOUT_DISTANCE = 0.2  # 1 - correlation; true copies measured up to 0.173, false links from 0.221
GREY_SPREAD = 4  # a grid whose every cell has R, G, B this close is grey
LUMA = (0.299, 0.587, 0.114)


def layout_of(rgb: Image.Image, box: tuple[int, int, int, int] | None = None) -> bytes:
    """The 4 x 4 RGB grid of the image (or of ``box`` in it, read in place: the same bytes as
    cropping first), row-major, R G B per cell."""
    from PIL import Image

    if rgb.mode != "RGB":
        rgb = rgb.convert("RGB")
    return rgb.resize((GRID, GRID), Image.Resampling.BOX, box=box).tobytes()


def layouts_of(rgb: Image.Image, boxes: Sequence[tuple[int, int, int, int]]) -> tuple[bytes, ...]:
    """The layout of the whole image, then of each box (the crop views' regions, in their order):
    11 box reductions of the <= 512 px working copy, ~3 ms."""
    if rgb.mode != "RGB":
        rgb = rgb.convert("RGB")
    return (layout_of(rgb), *(layout_of(rgb, box) for box in boxes))


def _is_grey(cells: np.ndarray) -> bool:
    """Every cell's R, G and B within ``GREY_SPREAD`` of each other (a grey picture, through JPEG)."""
    return int((cells.max(axis=1) - cells.min(axis=1)).max()) <= GREY_SPREAD


def distance(a: bytes, b: bytes) -> float:
    """1 - the Pearson correlation of the two grids' values: 0 for the same layout at any
    brightness or contrast, 1 for unrelated ones, up to 2 for inverted ones; 1 when either has no
    contrast. When either grid is grey, their 16 luma values (ITU-R BT.601) are compared instead,
    so that a grey copy of a colour picture keeps its layout."""
    import numpy as np

    if len(a) != LAYOUT_BYTES or len(b) != LAYOUT_BYTES:
        raise ValueError(f"a colour layout is {LAYOUT_BYTES} bytes, got {len(a)} and {len(b)}")
    cells_a = np.frombuffer(a, dtype=np.uint8).reshape(GRID * GRID, 3).astype(np.float64)
    cells_b = np.frombuffer(b, dtype=np.uint8).reshape(GRID * GRID, 3).astype(np.float64)
    if _is_grey(cells_a) or _is_grey(cells_b):
        x, y = cells_a @ LUMA, cells_b @ LUMA
    else:
        x, y = cells_a.ravel(), cells_b.ravel()
    x -= x.mean()
    y -= y.mean()
    norm = float(np.sqrt((x @ x) * (y @ y)))
    if norm == 0.0:
        return 1.0
    return 1.0 - float(x @ y) / norm


def encode(layout: bytes) -> str:
    """Base64 text (64 characters) for the record."""
    return base64.b64encode(layout).decode("ascii")


def decode(text: str) -> bytes:
    raw = base64.b64decode(text, validate=True)
    if len(raw) != LAYOUT_BYTES:
        raise ValueError(f"a colour layout is {LAYOUT_BYTES} bytes, got {len(raw)}")
    return raw


def pack(layouts: Sequence[bytes]) -> str:
    """Several layouts as one base64 text (the image record's attribute: one value, not a list of
    eleven, which a store keeps as one object instead of twelve)."""
    if any(len(x) != LAYOUT_BYTES for x in layouts):
        raise ValueError(f"a colour layout is {LAYOUT_BYTES} bytes")
    return base64.b64encode(b"".join(layouts)).decode("ascii")


def unpack(text: str) -> tuple[bytes, ...]:
    raw = base64.b64decode(text, validate=True)
    if len(raw) % LAYOUT_BYTES:
        raise ValueError(f"packed colour layouts are a multiple of {LAYOUT_BYTES} bytes, got {len(raw)}")
    return tuple(raw[i : i + LAYOUT_BYTES] for i in range(0, len(raw), LAYOUT_BYTES))
