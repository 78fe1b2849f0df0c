"""The colour layout of an image region: the second signal that confirms a link made through a crop
view.

At 100,000 distinct images every false link that the pHash and its 256-bit check let through went
through a crop view: an 8%-shifted view of one picture and the frame of another share their coarse
grey layout (a wide flat sky over flat ground). Their colours do not. The layout is a 6 x 6 RGB
grid of the region (Pillow's box reduction, 108 bytes). Two layouts are compared channel by
channel: 1 minus the Pearson correlation of each channel's 36 values, the worst of R, G and B,
which ignores each image's brightness and contrast.

Measured (docs/near-duplicates.md, "A colour layout for links through a view"): true copies of 33
real photos under every crop edit at most 0.162; the closest of the 881 pairs that both hashes
link in five draws of 100,000 generated scenes at 0.312 (0.363 in the two draws held out from the
choice). The threshold is 0.24. Compared all at once, the same grids let a pair through in two
draws of the five (0.192, 0.230); the first layouts, 4 x 4 (48 bytes), had no margin
(true copies up to 0.173, false pairs from 0.161). A record written with them is still compared
as then: at 4 x 4 (the finer grid reduced to the coarser), all values at once, against
``LEGACY_DISTANCE``.

A layout with no contrast (every value the same) cannot confirm anything: its distance to any
other layout is 1. When either layout is grey, the two are compared by their luma values, so a
grey copy of a colour picture keeps its layout.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

GRID = 6
LAYOUT_BYTES = GRID * GRID * 3
LAYOUT_DISTANCE = 0.24  # the worst channel at 6 x 6: true copies up to 0.162, false pairs from 0.312
LEGACY_GRID = 4  # the first layouts' grid (records written before the 6 x 6 one)
LEGACY_DISTANCE = 0.2  # its threshold, measured then: true copies up to 0.173
GRIDS = {g * g * 3: g for g in (GRID, LEGACY_GRID)}  # a layout's size in bytes -> its grid
GREY_SPREAD = 4  # a grid whose every cell has R, G, B this close is grey
LUMA = (0.299, 0.587, 0.114)


def layout_of(rgb: Image.Image, box: tuple[int, int, int, int] | None = None) -> bytes:
    """The 6 x 6 RGB grid of the image (or of ``box`` in it, read in place: the same bytes as
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


def _cells(raw: bytes) -> np.ndarray:
    """A layout as a (grid, grid, 3) array of floats."""
    import numpy as np

    grid = GRIDS.get(len(raw))
    if grid is None:
        raise ValueError(f"a colour layout is {' or '.join(map(str, sorted(GRIDS)))} bytes, got {len(raw)}")
    return np.frombuffer(raw, dtype=np.uint8).reshape(grid, grid, 3).astype(np.float64)


def _reduce(cells: np.ndarray, grid: int) -> np.ndarray:
    """A finer grid box-reduced to ``grid`` x ``grid``: each coarse cell is the area-weighted mean
    of the fine cells it covers (exact when each fine cell is uniform)."""
    import numpy as np

    fine = cells.shape[0]
    edges = np.linspace(0.0, fine, grid + 1)
    w = np.clip(
        np.minimum(edges[1:, None], np.arange(1, fine + 1)) - np.maximum(edges[:-1, None], np.arange(fine)),
        0,
        None,
    )
    w /= w.sum(axis=1, keepdims=True)  # (grid, fine): row i's weight of fine cell j
    return np.einsum("ij,jkc,lk->ilc", w, cells, w)


def _apart(x: np.ndarray, y: np.ndarray) -> float | None:
    """1 - the Pearson correlation of two value vectors; None when neither varies (nothing to
    compare), 1 when only one does."""
    x, y = x - x.mean(), y - y.mean()
    norm = float((x @ x) * (y @ y)) ** 0.5
    if norm == 0.0:
        return None if not x.any() and not y.any() else 1.0
    return 1.0 - float(x @ y) / norm


def distance(a: bytes, b: bytes) -> float:
    """How far apart two layouts are, from 0 (the same layout at any brightness or contrast) to 1
    (unrelated) and up to 2 (inverted); 1 when neither has contrast.

    Two colour 6 x 6 grids: 1 - the Pearson correlation of each channel's 36 values, the worst of
    R, G and B (a channel flat in both is left out). Every channel must agree on its own: two
    scenes that share their grey layout (which is why both hashes linked them) rarely share it in
    every channel. When either grid is grey, their luma values (ITU-R BT.601) are compared
    instead, so that a grey copy of a colour picture keeps its layout. A record's 4 x 4 layout is
    compared as it was measured: at 4 x 4 (the finer grid reduced by area), 1 - the correlation of
    all its values at once."""
    cells_a, cells_b = _cells(a), _cells(b)
    grid = min(cells_a.shape[0], cells_b.shape[0])
    cells_a = cells_a if cells_a.shape[0] == grid else _reduce(cells_a, grid)
    cells_b = cells_b if cells_b.shape[0] == grid else _reduce(cells_b, grid)
    cells_a, cells_b = cells_a.reshape(-1, 3), cells_b.reshape(-1, 3)
    if _is_grey(cells_a) or _is_grey(cells_b):
        pairs = [(cells_a @ LUMA, cells_b @ LUMA)]
    elif grid == LEGACY_GRID:
        pairs = [(cells_a.ravel(), cells_b.ravel())]
    else:
        pairs = [(cells_a[:, c], cells_b[:, c]) for c in range(3)]
    apart = [d for d in (_apart(x, y) for x, y in pairs) if d is not None]
    return max(apart) if apart else 1.0


def agree(a: bytes, b: bytes, limit: float = LAYOUT_DISTANCE) -> bool:
    """Whether the two layouts confirm a link: within ``limit`` (the 6 x 6 threshold), or within
    ``LEGACY_DISTANCE`` when either is a 4 x 4 layout (they are then compared at 4 x 4)."""
    both_current = len(a) == len(b) == LAYOUT_BYTES
    return distance(a, b) <= (limit if both_current else LEGACY_DISTANCE)


def encode(layout: bytes) -> str:
    """Base64 text (144 characters) for the decision."""
    return base64.b64encode(layout).decode("ascii")


def decode(text: str) -> bytes:
    raw = base64.b64decode(text, validate=True)
    _cells(raw)  # a size it knows
    return raw


def pack(layouts: Sequence[bytes]) -> str:
    """Several layouts as one text (the image record's attribute: one value, not a list of eleven,
    which a store keeps as one object instead of twelve): ``"<grid>:"`` and the base64 of their
    bytes. Packs written before the 6 x 6 grid are 4 x 4 layouts without the prefix."""
    if any(len(x) != LAYOUT_BYTES for x in layouts):
        raise ValueError(f"a colour layout is {LAYOUT_BYTES} bytes")
    return f"{GRID}:" + base64.b64encode(b"".join(layouts)).decode("ascii")


def unpack(text: str) -> tuple[bytes, ...]:
    grid_text, sep, body = text.partition(":")
    grid = int(grid_text) if sep and grid_text.isdigit() else LEGACY_GRID
    size = grid * grid * 3
    if size not in GRIDS:
        raise ValueError(f"packed colour layouts of an unknown grid: {grid}")
    raw = base64.b64decode(body if sep else text, validate=True)
    if len(raw) % size:
        raise ValueError(
            f"packed {grid} x {grid} colour layouts are a multiple of {size} bytes, got {len(raw)}"
        )
    return tuple(raw[i : i + size] for i in range(0, len(raw), size))
