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

Crop views: the pHash of a crop moves far from the pHash of its frame (a central 90% crop, 10-22
bits). So an image is also indexed under the pHashes of ten fixed crops of its own working copy
(``CROP_VIEWS``: central 95% and 85%, 8% off each side, 8% off each pair of adjacent sides), each
in every other band, as entries of their own. A pair links when the frame of one is within the
threshold of the frame *or a crop view* of the other, whichever came first: the query's frame is
looked up against stored views, the query's views against stored frames. Views are never
compared with views, nor with flipped variants.

Check hash: a 64-bit hash cannot keep unrelated images apart at scale (two random 64-bit hashes
are within 10 bits with probability 1e-8: dozens of pairs among 100,000 images). Every
comparison that passes the threshold is therefore confirmed by the 256-bit pHash of the same two
regions (imagehash's ``phash(hash_size=16)``), carried in the entry: within ``check_distance``
for frame against frame, within ``crop_check_distance`` when a crop view is involved (a view is
only near the real crop, so its fine detail moves more). docs/near-duplicates.md has the figures.

Colour layout: at 100,000 distinct images the false links that pass both hashes all go through a
crop view, so a link through a view is also confirmed by the colour layouts of the two regions
(``lenslog.domain.layout``). The stored image's layouts are in its record, not in the index: the
service reads them only for the candidates that need them (``to_confirm``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from lenslog.domain import hashing, layout

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

HASH_BITS = 64
VARIANTS = ("identity", "flip_h", "flip_v", "rot180", "transpose", "rot90", "rot270", "transverse")
# (name, (left, top, right, bottom) fractions cut off); chosen *between* the common crops (central
# 90% and 80%, 10% off one side, 5% off two sides) so that they are not fitted to any one of them.
CROP_VIEWS: tuple[tuple[str, tuple[float, float, float, float]], ...] = (
    ("c95", (0.025, 0.025, 0.025, 0.025)),
    ("c85", (0.075, 0.075, 0.075, 0.075)),
    ("l8", (0.08, 0.0, 0.0, 0.0)),
    ("t8", (0.0, 0.08, 0.0, 0.0)),
    ("r8", (0.0, 0.0, 0.08, 0.0)),
    ("b8", (0.0, 0.0, 0.0, 0.08)),
    ("tl8", (0.08, 0.08, 0.0, 0.0)),
    ("tr8", (0.0, 0.08, 0.08, 0.0)),
    ("br8", (0.0, 0.0, 0.08, 0.08)),
    ("bl8", (0.08, 0.0, 0.0, 0.08)),
)
VIEW_NAMES = tuple(name for name, _ in CROP_VIEWS)
CENTRAL_VIEWS = 2  # the first views of CROP_VIEWS are the central ones
CHECK_SIZE = 16  # the check hash: a 16 x 16 DCT block of a 64 x 64 thumbnail, 256 bits
CHECK_BITS = CHECK_SIZE * CHECK_SIZE
CHECK_DISTANCE = 45  # frame against frame (edits measured up to 28, unrelated from 58)
CROP_CHECK_DISTANCE = 72  # a crop view against a frame (crops measured up to 72 through a view)
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


def view_bands(bands: int) -> range:
    """The bands a crop view is indexed and looked up under: every other band (half the items)."""
    return range(0, bands, 2)


def view_keys(views: Sequence[int], bands: int) -> list[tuple[int, int]]:
    """The (band, value) keys of crop views: their values in ``view_bands`` only, exactly."""
    out: dict[tuple[int, int], None] = {}
    for h in views:
        values = band_values(h, bands)
        for band in view_bands(bands):
            out.setdefault((band, values[band]), None)
    return list(out)


def index_keys(phash: int, views: Sequence[int], bands: int) -> list[tuple[int, int]]:
    """Every distinct band key an image is indexed under: its own hash in every band, its crop
    views in ``view_bands`` (``bands + len(views) * bands / 2`` keys at most)."""
    out = dict.fromkeys(band_keys(phash, bands))
    out.update(dict.fromkeys(view_keys(views, bands)))
    return list(out)


def query_keys(
    variants: Sequence[int], views: Sequence[int], bands: int, radius: int
) -> list[tuple[int, int]]:
    """Every distinct key a lookup reads: ``lookup_keys`` of the variants, and its crop views'
    values in *every* band, where whole frames are filed, so that a crop stored before its original
    is found by the original's views (stored views are read through the variants' keys, which
    cover ``view_bands``). The central views (``c95``, ``c85``: the commonest crop, a border cut
    off all round) are looked up within ``view_radius``, the side and corner views exactly:
    docs/near-duplicates.md has the recall and key counts of each choice."""
    out = dict.fromkeys(lookup_keys(variants, bands, radius))
    width, around = band_width(bands), view_radius(radius)
    for n, h in enumerate(views):
        reach = around if n < CENTRAL_VIEWS else 0
        for band, value in band_keys(h, bands):
            out.update(dict.fromkeys((band, v) for v in _neighbours(value, width, reach)))
    return list(out)


def view_radius(radius: int) -> int:
    """How far a central crop view's band values are looked up: one bit less than the frame's
    (0 with 8-bit bands, 1 with 16-bit bands). Either layout then finds a central view within 7
    bits of a stored frame (8 bands x 1, or 4 bands x 2 > 7)."""
    return max(radius - 1, 0)


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


def crop_box(size: tuple[int, int], cut: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    w, h = size
    left, top, right, bottom = cut
    return (round(w * left), round(h * top), w - round(w * right), h - round(h * bottom))


def crop_view_hashes(image: Image.Image) -> tuple[int, ...]:
    """The pHash of each ``CROP_VIEWS`` crop of the image (the gate passes its grey working copy,
    so a view costs one crop and one 32x32 resize)."""
    return tuple(hashing.phash(image.crop(crop_box(image.size, cut))) for _, cut in CROP_VIEWS)


def check_block(image: Image.Image) -> np.ndarray:
    return hashing.dct_block(image, CHECK_SIZE)


def crop_view_checks(image: Image.Image) -> tuple[int, ...]:
    """The check hash of each ``CROP_VIEWS`` crop of the image (one 64x64 resize each)."""
    return tuple(hashing.bits_of(check_block(image.crop(crop_box(image.size, cut)))) for _, cut in CROP_VIEWS)


@dataclass(frozen=True)
class Prints:
    """Everything the near-duplicate rule knows of an image's pixels: the 64-bit pHash of each
    dihedral variant (the first is its own), their 256-bit check hashes, both hashes of each crop
    view (empty when crop views are off), and the colour layout of the frame then of each view."""

    variants: tuple[int, ...]
    checks: tuple[int, ...] = ()
    views: tuple[int, ...] = ()
    view_checks: tuple[int, ...] = ()
    layouts: tuple[bytes, ...] = ()


def prints_of(grey: Image.Image, crop_views: bool = True, colour: Image.Image | None = None) -> Prints:
    """The prints of a grey working copy: 2 + 20 small resizes, a few milliseconds; with its
    ``colour`` working copy (same size), the colour layouts too (11 box reductions)."""
    boxes = [crop_box(grey.size, cut) for _, cut in CROP_VIEWS] if crop_views else []
    return Prints(
        variants=dihedral_hashes(hashing.dct_lowfreq(grey)),
        checks=dihedral_hashes(check_block(grey)),
        views=crop_view_hashes(grey) if crop_views else (),
        view_checks=crop_view_checks(grey) if crop_views else (),
        layouts=layout.layouts_of(colour, boxes) if colour is not None else (),
    )


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
    view: str | None = None  # None: ``phash`` is the image's own; else the CROP_VIEWS name it is of
    check: int | None = None  # the 256-bit check hash of the same region (None: written before them)

    @property
    def cluster(self) -> str:
        return self.cluster_id or self.image_id

    def encode(self) -> str:
        fields: tuple[str, ...] = (
            hashing.hex_of(self.phash),
            self.image_id,
            "" if self.cluster_id in (None, self.image_id) else self.cluster_id,
            self.split or "",
            quote(self.camera_id or "", safe=""),
            "" if self.captured_at is None else str(self.captured_at),
            "d" if self.dark else "",
        )
        if self.view is not None or self.check is not None:  # older entries keep their text
            check = "" if self.check is None else hashing.hex_of(self.check, CHECK_BITS)
            fields += (self.view or "", check)
        return "|".join(fields)

    @classmethod
    def decode(cls, text: str) -> Entry:
        ph, image_id, cluster, split, camera, at, dark, view, check = (text.split("|") + [""] * 9)[:9]
        if (view and view not in VIEW_NAMES) or len(check) > CHECK_BITS // 4:
            raise ValueError(f"malformed index entry: {text[:200]!r}")
        return cls(
            image_id=image_id,
            phash=hashing.from_hex(ph),
            cluster_id=cluster or None,
            split=split or None,
            camera_id=unquote(camera) or None,
            captured_at=int(at) if at else None,
            dark=dark == "d",
            view=view or None,
            check=hashing.from_hex(check) if check else None,
        )


def within_reach(texts: Sequence[str], hashes: Sequence[int], max_distance: int) -> list[str]:
    """The encoded entries (``Entry.encode``) whose hash is within ``max_distance`` of one of
    ``hashes``, in their order: the only ones ``pair_distance`` can link to a query whose variants
    and views are ``hashes`` (an entry of a frame is compared with both, an entry of a view with
    the query's own hash). Decoding an entry costs several times this test, and at 10,000 images a
    lookup reads ~870 entries of which a handful are near: they are tested here, as one array,
    before any of them is decoded."""
    import numpy as np

    if not texts or not hashes:
        return []
    if max_distance >= HASH_BITS:
        return list(texts)
    stored = np.fromiter((int(t[: HASH_BITS // 4], 16) for t in texts), dtype=np.uint64, count=len(texts))
    asked = np.fromiter(dict.fromkeys(hashes), dtype=np.uint64)
    near = (np.bitwise_count(stored[:, None] ^ asked[None, :]) <= max_distance).any(axis=1)
    return [texts[i] for i in np.flatnonzero(near).tolist()]


@dataclass(frozen=True)
class Query:
    """The image being decided, as the match rule sees it."""

    variants: tuple[int, ...]
    views: tuple[int, ...] = ()  # the pHashes of its CROP_VIEWS
    checks: tuple[int, ...] = ()  # the check hash of each variant (empty: no check)
    view_checks: tuple[int, ...] = ()  # the check hash of each view
    layouts: tuple[bytes, ...] = ()  # colour layouts of the frame, then of each view (empty: none)
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


@dataclass(frozen=True)
class Thresholds:
    max_distance: int
    check_distance: int = CHECK_DISTANCE
    crop_check_distance: int = CROP_CHECK_DISTANCE
    layout_distance: float = layout.LAYOUT_DISTANCE


def _checked(checks: Sequence[int], i: int, other: int | None, limit: int) -> bool:
    """The check hashes agree (or one side has none: an entry written before them)."""
    if other is None or i >= len(checks):
        return True
    return hashing.hamming(checks[i], other) <= limit


Comparison = tuple[int, int, tuple[int, int] | None]  # distance, rank, regions to confirm by colour


def comparisons(query: Query, entry: Entry, t: Thresholds) -> list[Comparison]:
    """Every comparison of this pair within ``max_distance`` and confirmed by the check hashes of
    the same two regions: (distance, rank (``match_name``), regions). ``regions`` is None for a
    frame against a frame; for a link through a crop view it is (the query's region, the stored
    image's region), 0 for a frame and 1 + k for view k, whose colour layouts must agree too.

    An entry of an image's own hash: each dihedral variant of the query (ranks 0-7), then each crop
    view of the query (the entry is a crop of the query; ranks 8 + len(VIEWS) + k). An entry of a
    crop view: the query's own hash only (the query is a crop of the entry; rank 8 + view index)."""
    out: list[Comparison] = []
    n = len(query.variants)
    if entry.view is None:
        for i, v in enumerate(query.variants):
            d = hashing.hamming(v, entry.phash)
            if d <= t.max_distance and _checked(query.checks, i, entry.check, t.check_distance):
                out.append((d, i, None))
        for k, w in enumerate(query.views):
            d = hashing.hamming(w, entry.phash)
            if d <= t.max_distance and _checked(query.view_checks, k, entry.check, t.crop_check_distance):
                out.append((d, n + len(VIEW_NAMES) + k, (1 + k, 0)))
    elif query.variants:
        d = hashing.hamming(query.variants[0], entry.phash)
        v = VIEW_NAMES.index(entry.view)
        if d <= t.max_distance and _checked(query.checks, 0, entry.check, t.crop_check_distance):
            out.append((d, n + v, (0, 1 + v)))
    return out


def coloured(query: Query, regions: tuple[int, int], stored: Sequence[bytes] | None, limit: float) -> bool:
    """Whether the colour layouts of the two regions agree (1 - correlation <= ``limit``).

    A query without layouts, or a stored image whose record has none (``()``: decided before
    them), is compared as before layouts existed; a stored image whose record was not read
    (``None``) is not confirmed."""
    mine, theirs = regions
    if not query.layouts:
        return True
    if stored is None:
        return False
    if mine >= len(query.layouts) or theirs >= len(stored):
        return True
    return layout.agree(query.layouts[mine], stored[theirs], limit)


def pair_distance(
    query: Query, entry: Entry, t: Thresholds, stored: Sequence[bytes] | None = ()
) -> tuple[int, int] | None:
    """The smallest (distance, rank) of a comparison of this pair that passes the rule
    (``comparisons``, and ``coloured`` for one through a crop view, with ``stored`` the layouts of
    the entry's image); None when none passes."""
    passed = [
        (d, rank)
        for d, rank, regions in comparisons(query, entry, t)
        if regions is None or coloured(query, regions, stored, t.layout_distance)
    ]
    return min(passed) if passed else None


def match_name(query: Query, rank: int) -> str:
    """What a ``pair_distance`` rank compared, in words: a dihedral variant, ``crop:<view>`` (the
    query matched a crop view of the entry) or ``cropped_by:<view>`` (a crop view of the query
    matched the entry)."""
    n = len(query.variants)
    if rank < n:
        return VARIANTS[rank]
    if rank < n + len(VIEW_NAMES):
        return f"crop:{VIEW_NAMES[rank - n]}"
    return f"cropped_by:{VIEW_NAMES[rank - n - len(VIEW_NAMES)]}"


def _eligible(query: Query, candidates: Iterable[Entry], burst_seconds: int) -> Iterator[Entry]:
    """The candidates the rule may link to the query at all: not itself; when either frame is
    dark, only a burst (same camera, within ``burst_seconds``)."""
    if not query.matchable:
        return
    for entry in candidates:
        if entry.image_id == query.image_id:
            continue
        if (query.dark or entry.dark) and not is_burst(
            query.camera_id, query.captured_at, entry.camera_id, entry.captured_at, burst_seconds
        ):
            continue
        yield entry


def to_confirm(
    query: Query, candidates: Iterable[Entry], burst_seconds: int, t: Thresholds, limit: int = 100
) -> list[str]:
    """The images whose colour layouts can change the answer: those with a comparison through a
    crop view that passes both hashes and is nearer than any frame-against-frame comparison of the
    same image (which needs no colour), nearest first, at most ``limit`` (one batched read; any
    further one is not confirmed). Empty when the query has no layouts, and for almost every
    upload."""
    if not query.layouts:
        return []
    through_view: dict[str, int] = {}
    frame: dict[str, int] = {}
    for entry in _eligible(query, candidates, burst_seconds):
        for d, _, regions in comparisons(query, entry, t):
            nearest = frame if regions is None else through_view
            nearest[entry.image_id] = min(d, nearest.get(entry.image_id, HASH_BITS + 1))
    needed = [i for i, d in through_view.items() if d < frame.get(i, HASH_BITS + 1)]
    return sorted(needed, key=lambda image_id: (through_view[image_id], image_id))[:limit]


def best_match(
    query: Query,
    candidates: Iterable[Entry],
    max_distance: int,
    burst_seconds: int,
    check_distance: int = CHECK_DISTANCE,
    crop_check_distance: int = CROP_CHECK_DISTANCE,
    layout_distance: float = layout.LAYOUT_DISTANCE,
    layouts: Mapping[str, Sequence[bytes]] | None = None,
) -> Match | None:
    """The nearest candidate that the rule (``pair_distance``) links to the query. ``layouts``: by
    image id, the colour layouts of the candidates that ``to_confirm`` named (``()`` for a record
    without them); a link through a crop view to any other candidate is not confirmed.

    Rules (evidence in docs/near-duplicates.md): a low-information frame never matches; when either
    frame is dark, the pair matches only as a burst (same camera, within ``burst_seconds``), since
    unrelated dark frames share their vignette and noise and collide at any threshold.
    Ties: smallest distance, then the identity variant first (then the other variants, then crop
    views), then the smallest image id, so the answer does not depend on the read order."""
    t = Thresholds(max_distance, check_distance, crop_check_distance, layout_distance)
    layouts = layouts or {}
    best: tuple[int, int, str] | None = None
    chosen: dict[str, Entry] = {}
    for entry in _eligible(query, candidates, burst_seconds):
        found = pair_distance(query, entry, t, layouts.get(entry.image_id))
        if found is None:
            continue
        key = (found[0], found[1], entry.image_id)
        if best is None or key < best:
            best = key
            chosen[entry.image_id] = entry
    if best is None:
        return None
    entry = chosen[best[2]]
    burst = is_burst(query.camera_id, query.captured_at, entry.camera_id, entry.captured_at, burst_seconds)
    return Match(entry=entry, distance=best[0], variant=match_name(query, best[1]), burst=burst)


def index_entries(
    entry: Entry, views: Sequence[int], view_checks: Sequence[int], bands: int
) -> dict[tuple[int, int], list[Entry]]:
    """What an image adds to the index, by key: its own entry under every band of its hash, and an
    entry per crop view (the view's hash and check) under ``view_bands`` of the view's hash. A key
    shared by two of them holds both (one transaction action per key)."""
    out: dict[tuple[int, int], list[Entry]] = {}
    for key in band_keys(entry.phash, bands):
        out.setdefault(key, []).append(entry)
    for n, (name, h) in enumerate(zip(VIEW_NAMES, views, strict=False)):
        check = view_checks[n] if n < len(view_checks) else None
        view_entry = replace(entry, phash=h, view=name, check=check)
        for key in view_keys([h], bands):
            out.setdefault(key, []).append(view_entry)
    return out


# leakage -------------------------------------------------------------------------------------------
def near_pairs(
    entries: Sequence[Entry],
    bands: int,
    max_distance: int,
    burst_seconds: int,
    prints: Mapping[str, Prints] | None = None,
    check_distance: int = CHECK_DISTANCE,
    crop_check_distance: int = CROP_CHECK_DISTANCE,
    layout_distance: float = layout.LAYOUT_DISTANCE,
) -> set[tuple[str, str]]:
    """Every unordered pair of images that the match rule would link (under any dihedral variant or
    crop view), found through the same keys as the index, so the check costs n x bucket size.
    ``prints``: by image id, the stored check hash (``checks[0]``), views, their checks and the
    colour layouts."""
    radius = radius_for(max_distance, bands)
    prints = prints or {}
    layouts = {e.image_id: prints[e.image_id].layouts if e.image_id in prints else () for e in entries}
    buckets: dict[tuple[int, int], list[Entry]] = {}
    for e in entries:
        p = prints.get(e.image_id, Prints(variants=(e.phash,)))
        own = replace(e, check=p.checks[0] if p.checks else None)
        for key, stored in index_entries(own, p.views, p.view_checks, bands).items():
            buckets.setdefault(key, []).extend(stored)
    pairs: set[tuple[str, str]] = set()
    for e in entries:
        p = prints.get(e.image_id, Prints(variants=(e.phash,)))
        variants = hash_variants(e.phash)
        query = Query(
            variants=variants,
            views=p.views,
            checks=hash_variants(p.checks[0], CHECK_SIZE) if p.checks else (),
            view_checks=p.view_checks,
            layouts=p.layouts,
            camera_id=e.camera_id,
            captured_at=e.captured_at,
            flags=(DARK,) if e.dark else (),
            image_id=e.image_id,
        )
        for key in query_keys(variants, p.views, bands, radius):
            for other in buckets.get(key, ()):
                if other.image_id == e.image_id:
                    continue
                found = best_match(
                    query,
                    [other],
                    max_distance,
                    burst_seconds,
                    check_distance,
                    crop_check_distance,
                    layout_distance,
                    layouts,
                )
                if found is not None:
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


def hash_variants(h: int, size: int = 8) -> tuple[int, ...]:
    """The 8 dihedral variants estimated from a stored hash alone (no pixels): a sign change of a
    coefficient inverts its bit, a transpose transposes the bits. Exact up to the median moving,
    which is what a check over stored records can afford. ``size``: the block's side (16 for a
    check hash)."""
    bits = size * size
    grid = [[(h >> (bits - 1 - (size * u + v))) & 1 for v in range(size)] for u in range(size)]
    out: list[int] = []
    for transpose, rows, cols in _SIGNS:
        value = 0
        for u in range(size):
            for v in range(size):
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
