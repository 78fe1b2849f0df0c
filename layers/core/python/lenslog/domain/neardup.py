"""Near duplicates as pure functions: bands of the perceptual hash, the dihedral variants, the match
rule, clusters and bursts. ``docs/near-duplicates.md`` has the measurements behind every number.

Multi-index hashing: the 64-bit pHash is cut into ``bands`` equal runs of bits; each (band, value)
is an index key. By the pigeonhole principle, two hashes within Hamming distance ``t`` agree on at
least one band exactly when ``t < bands`` (with 8 bands of 8 bits, any pair within distance 7
shares a band). Candidates found through any shared band are then checked with the exact distance.

Dihedral variants: flipping the 32x32 thumbnail horizontally multiplies DCT coefficient (u, v) by
(-1)^v, flipping it vertically by (-1)^u, and transposing it transposes the block. The 8 hashes of
an image's flips and 90-degree rotations therefore come from one DCT block by sign changes and a
transpose, thresholded again at their own median: no new resize, no new transform.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from lenslog.domain import hashing

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

HASH_BITS = 64
VARIANTS = ("identity", "flip_h", "flip_v", "rot180", "transpose", "rot90", "rot270", "transverse")
LOW_INFORMATION = "low_information"
DARK = "dark"


# bands ---------------------------------------------------------------------------------------------
def band_width(bands: int, bits: int = HASH_BITS) -> int:
    if bits % bands:
        raise ValueError(f"{bits} bits cannot be cut into {bands} equal bands")
    return bits // bands


def band_values(h: int, bands: int, bits: int = HASH_BITS) -> tuple[int, ...]:
    """The value of each band, band 0 = the most significant bits."""
    width = band_width(bands, bits)
    mask = (1 << width) - 1
    return tuple((h >> (bits - width * (i + 1))) & mask for i in range(bands))


def band_keys(h: int, bands: int) -> list[tuple[int, int]]:
    return list(enumerate(band_values(h, bands)))


def radius_for(max_distance: int, bands: int) -> int:
    """The band radius that makes the lookup exact for the identity variant: two hashes within
    distance t differ in some band by at most floor(t / bands) bits (generalised pigeonhole)."""
    return max_distance // bands


def _neighbours(value: int, width: int, radius: int) -> list[int]:
    out = [value]
    if radius >= 1:
        out += [value ^ (1 << k) for k in range(width)]
    if radius >= 2:
        out += [value ^ (1 << a) ^ (1 << b) for a in range(width) for b in range(a + 1, width)]
    if radius > 2:
        raise ValueError("band radius above 2 makes too many keys; use more bands")
    return out


def lookup_keys(hashes: Sequence[int], bands: int, radius: int = 0) -> list[tuple[int, int]]:
    """The distinct (band, value) keys to read: the first hash (the image's own) with every band
    value within ``radius``, the other variants exactly (flips and rotations of an image come out
    within a few bits of its own; see docs/near-duplicates.md)."""
    width = band_width(bands)
    seen: dict[tuple[int, int], None] = {}
    for n, h in enumerate(hashes):
        for band, value in band_keys(h, bands):
            for v in _neighbours(value, width, radius if n == 0 else 0):
                seen.setdefault((band, v), None)
    return list(seen)


def guaranteed(max_distance: int, bands: int, radius: int = 0) -> bool:
    """Whether every pair within ``max_distance`` is sure to share a looked-up band key."""
    return max_distance < bands * (radius + 1)


# dihedral variants ---------------------------------------------------------------------------------
def dihedral_blocks(block: np.ndarray) -> list[np.ndarray]:
    """The DCT blocks of the 8 flips/rotations of the thumbnail, in ``VARIANTS`` order.

    With P the thumbnail (rows y, columns x) and B = C P C^T: flip_h -> B * (-1)^v,
    flip_v -> B * (-1)^u, transpose -> B^T; the rotations are their compositions."""
    import numpy as np

    n = block.shape[0]
    sign = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    col = sign[None, :]  # (-1)^v
    row = sign[:, None]  # (-1)^u
    t = block.T
    return [
        block,  # identity
        block * col,  # flip left-right
        block * row,  # flip top-bottom
        block * row * col,  # rotate 180
        t,  # transpose (mirror about the main diagonal)
        t * row,  # rotate 90 (counter-clockwise, as PIL's ROTATE_90)
        t * col,  # rotate 270
        t * row * col,  # transverse
    ]


def dihedral_hashes(block: np.ndarray) -> tuple[int, ...]:
    """The pHash of each of the 8 flips/rotations; the first is the image's own pHash."""
    return tuple(hashing.bits_of(b) for b in dihedral_blocks(block))


def variant_hashes(image: Image.Image) -> tuple[int, ...]:
    return dihedral_hashes(hashing.dct_lowfreq(image))


# matching ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """One indexed image as the index stores it: what a later match needs without another read.
    Cluster and split never change once an image is committed, so they can be copied here."""

    image_id: str
    phash: int
    cluster_id: str | None = None  # None: the image is its cluster's root
    split: str | None = None
    camera_id: str | None = None
    captured_at: int | None = None  # epoch seconds, UTC
    dark: bool = False

    @property
    def cluster(self) -> str:
        return self.cluster_id or self.image_id

    def encode(self) -> str:
        fields = (
            hashing.hex_of(self.phash),
            self.image_id,
            "" if self.cluster_id in (None, self.image_id) else self.cluster_id,
            self.split or "",
            quote(self.camera_id or "", safe=""),
            "" if self.captured_at is None else str(self.captured_at),
            "d" if self.dark else "",
        )
        return "|".join(fields)

    @classmethod
    def decode(cls, text: str) -> Entry:
        ph, image_id, cluster, split, camera, at, dark = (text.split("|") + [""] * 7)[:7]
        return cls(
            image_id=image_id,
            phash=hashing.from_hex(ph),
            cluster_id=cluster or None,
            split=split or None,
            camera_id=unquote(camera) or None,
            captured_at=int(at) if at else None,
            dark=dark == "d",
        )


@dataclass(frozen=True)
class Query:
    """The image being decided, as the match rule sees it."""

    variants: tuple[int, ...]
    camera_id: str | None = None
    captured_at: int | None = None
    flags: tuple[str, ...] = ()
    image_id: str | None = None

    @property
    def dark(self) -> bool:
        return DARK in self.flags

    @property
    def matchable(self) -> bool:
        return LOW_INFORMATION not in self.flags


@dataclass(frozen=True)
class Match:
    entry: Entry
    distance: int
    variant: str
    burst: bool

    @property
    def image_id(self) -> str:
        return self.entry.image_id


def epoch_of(when: datetime | None) -> int | None:
    return int(when.timestamp()) if when is not None else None


def is_burst(
    camera: str | None, captured_at: int | None, other_camera: str | None, other_at: int | None, seconds: int
) -> bool:
    """Same camera and captured within ``seconds`` of each other (both times known)."""
    if not camera or camera != other_camera or captured_at is None or other_at is None:
        return False
    return abs(captured_at - other_at) <= seconds


def best_match(
    query: Query, candidates: Iterable[Entry], max_distance: int, burst_seconds: int
) -> Match | None:
    """The nearest candidate within ``max_distance`` of any variant of the query.

    Rules (evidence in docs/near-duplicates.md): a low-information frame never matches; when either
    frame is dark, the pair matches only as a burst (same camera, within ``burst_seconds``), since
    unrelated dark frames share their vignette and noise and collide at any threshold.
    Ties: smallest distance, then the identity variant first, then the smallest image id, so the
    answer does not depend on the order the candidates were read."""
    if not query.matchable:
        return None
    best: tuple[int, int, str] | None = None
    chosen: dict[str, Entry] = {}
    for entry in candidates:
        if entry.image_id == query.image_id:
            continue
        burst = is_burst(
            query.camera_id, query.captured_at, entry.camera_id, entry.captured_at, burst_seconds
        )
        if (query.dark or entry.dark) and not burst:
            continue
        for i, v in enumerate(query.variants):
            d = hashing.hamming(v, entry.phash)
            if d > max_distance:
                continue
            key = (d, i, entry.image_id)
            if best is None or key < best:
                best = key
                chosen[entry.image_id] = entry
    if best is None:
        return None
    entry = chosen[best[2]]
    burst = is_burst(query.camera_id, query.captured_at, entry.camera_id, entry.captured_at, burst_seconds)
    return Match(entry=entry, distance=best[0], variant=VARIANTS[best[1]], burst=burst)


# leakage -------------------------------------------------------------------------------------------
def near_pairs(
    entries: Sequence[Entry], bands: int, max_distance: int, burst_seconds: int
) -> set[tuple[str, str]]:
    """Every unordered pair of images that the match rule would link (under any dihedral variant),
    found through the same bands as the index, so the check costs n x bucket size, not n^2."""
    radius = radius_for(max_distance, bands)
    buckets: dict[tuple[int, int], list[Entry]] = {}
    for e in entries:
        for key in band_keys(e.phash, bands):
            buckets.setdefault(key, []).append(e)
    pairs: set[tuple[str, str]] = set()
    for e in entries:
        variants = hash_variants(e.phash)
        query = Query(
            variants=variants,
            camera_id=e.camera_id,
            captured_at=e.captured_at,
            flags=(DARK,) if e.dark else (),
            image_id=e.image_id,
        )
        for key in lookup_keys(variants, bands, radius):
            for other in buckets.get(key, ()):
                if other.image_id == e.image_id:
                    continue
                if best_match(query, [other], max_distance, burst_seconds) is not None:
                    a, b = sorted((e.image_id, other.image_id))
                    pairs.add((a, b))
    return pairs


# (transpose, invert odd rows, invert odd columns) of each variant, in VARIANTS order
_SIGNS = (
    (False, False, False),
    (False, False, True),
    (False, True, False),
    (False, True, True),
    (True, False, False),
    (True, True, False),
    (True, False, True),
    (True, True, True),
)


def hash_variants(h: int) -> tuple[int, ...]:
    """The 8 dihedral variants estimated from a stored hash alone (no pixels): a sign change of a
    coefficient inverts its bit, a transpose transposes the bits. Exact up to the median moving,
    which is what a check over stored records can afford."""
    grid = [[(h >> (HASH_BITS - 1 - (8 * u + v))) & 1 for v in range(8)] for u in range(8)]
    out: list[int] = []
    for transpose, rows, cols in _SIGNS:
        value = 0
        for u in range(8):
            for v in range(8):
                bit = grid[v][u] if transpose else grid[u][v]
                invert = (rows and u % 2 == 1) ^ (cols and v % 2 == 1)
                value = (value << 1) | (bit ^ int(invert))
        out.append(value)
    return tuple(out)


def crossing_pairs(
    pairs: Iterable[tuple[str, str]], split_of: Mapping[str, str | None]
) -> list[tuple[str, str]]:
    """The near-duplicate pairs whose two images sit in different splits (must be none)."""
    return sorted((a, b) for a, b in pairs if split_of.get(a) != split_of.get(b))
