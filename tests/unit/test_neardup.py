"""The near-duplicate rules as pure functions: bands, variants, the match rule, leakage pairs."""

from __future__ import annotations

import io
import itertools
import random
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from lenslog.config import NearDuplicateConfig
from lenslog.domain import decode, hashing, layout
from lenslog.domain import neardup as nd
from tests.images import scene

TRANSPOSES = [
    None,
    Image.Transpose.FLIP_LEFT_RIGHT,
    Image.Transpose.FLIP_TOP_BOTTOM,
    Image.Transpose.ROTATE_180,
    Image.Transpose.TRANSPOSE,
    Image.Transpose.ROTATE_90,
    Image.Transpose.ROTATE_270,
    Image.Transpose.TRANSVERSE,
]


def flip_bits(h: int, n: int, rng: random.Random) -> int:
    for k in rng.sample(range(64), n):
        h ^= 1 << k
    return h


def test_bands_cut_the_hash_into_equal_runs_most_significant_first():
    assert nd.band_values(0x0123456789ABCDEF, 8) == (0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF)
    assert nd.band_values(0x0123456789ABCDEF, 4) == (0x0123, 0x4567, 0x89AB, 0xCDEF)
    with pytest.raises(ValueError):
        nd.band_width(7)


@pytest.mark.parametrize("distance", range(0, 16))
def test_every_pair_within_the_threshold_shares_a_looked_up_key(distance):
    rng = random.Random(distance)
    radius = nd.radius_for(15, 8)
    for _ in range(200):
        a = rng.getrandbits(64)
        b = flip_bits(a, distance, rng)
        stored = set(nd.band_keys(a, 8))
        assert stored & set(nd.lookup_keys([b], 8, radius)), (hex(a), hex(b))


def test_exact_band_lookup_can_miss_a_pair_at_distance_equal_to_the_band_count():
    a = 0
    b = sum(1 << (8 * k) for k in range(8))  # one bit in every band: distance 8
    assert not set(nd.band_keys(a, 8)) & set(nd.lookup_keys([b], 8, 0))
    assert set(nd.band_keys(a, 8)) & set(nd.lookup_keys([b], 8, 1))
    assert not nd.guaranteed(8, 8) and nd.guaranteed(7, 8) and nd.guaranteed(15, 8, radius=1)


def test_the_default_lookup_reads_a_fixed_number_of_keys_4_bands_of_16_bits_within_2_bits():
    cfg = NearDuplicateConfig()
    assert (cfg.bands, nd.radius_for(cfg.max_distance, cfg.bands)) == (4, 2)
    variants = nd.variant_hashes(scene(1))
    keys = nd.lookup_keys(variants, cfg.bands, 2)
    assert len(keys) <= 4 * (1 + 16 + 120) + 7 * 4 == 576  # whatever the index holds
    views = nd.crop_view_hashes(scene(1).convert("L"))
    with_views = nd.query_keys(variants, views, cfg.bands, 2)
    central, others = nd.CENTRAL_VIEWS, len(views) - nd.CENTRAL_VIEWS
    assert len(with_views) <= 576 + central * 4 * (1 + 16) + others * 4 <= 8 * 100  # 8 BatchGetItem


def test_central_views_are_looked_up_one_bit_less_far_than_the_frame_and_the_others_exactly():
    frame = 0x0123_4567_89AB_CDEF
    near = frame ^ 0b11 ^ (0b11 << 16) ^ (0b11 << 32) ^ (0b1 << 48)  # 7 bits: 2, 2, 2, 1 per band
    for bands, radius in ((4, 2), (8, 1)):
        stored = set(nd.band_keys(frame, bands))  # a whole frame is filed in every band
        assert stored & set(nd.query_keys([0], [near, 0], bands, radius))  # found as a central view
        assert nd.view_radius(radius) == radius - 1
    far = frame ^ 0b111 ^ (0b11 << 16) ^ (0b11 << 32) ^ (0b11 << 48)  # 9 bits: beyond the guarantee
    assert not set(nd.band_keys(frame, 4)) & set(nd.query_keys([0], [far], 4, 2))
    side = [0] * nd.CENTRAL_VIEWS + [near]  # a side view within 1 bit in every band: not read
    assert not set(nd.band_keys(frame, 4)) & set(nd.query_keys([0], side, 4, 2))
    side = [0] * nd.CENTRAL_VIEWS + [frame ^ 0b1]  # ... but exactly in three of them: read
    assert set(nd.band_keys(frame, 4)) & set(nd.query_keys([0], side, 4, 2))


def test_the_dihedral_variants_are_the_hashes_of_the_flipped_and_rotated_images():
    distances = []
    for seed in range(6):
        for size in ((640, 480), (512, 512)):
            img = scene(seed, size)
            variants = nd.variant_hashes(img)
            assert variants[0] == hashing.phash(img)
            for t, v in zip(TRANSPOSES[1:], variants[1:], strict=True):
                distances.append(hashing.hamming(hashing.phash(img.transpose(t)), v))
    # equal but for the resampler's rounding of the transformed thumbnail
    assert max(distances) <= 2 and distances.count(0) >= 0.9 * len(distances)


def test_variants_estimated_from_a_stored_hash_stay_within_a_few_bits_of_the_real_ones():
    for seed in range(5):
        variants = nd.variant_hashes(scene(seed))
        estimated = nd.hash_variants(variants[0])
        assert estimated[0] == variants[0] and estimated[4] == variants[4]  # no sign change: exact
        assert all(hashing.hamming(e, v) <= 8 for e, v in zip(estimated, variants, strict=True))


def test_an_entry_round_trips_through_its_stored_text():
    e = nd.Entry(
        "ab" * 32, 0xF0F0, cluster_id="cd" * 32, split="val", camera_id="cam|1 x", captured_at=17, dark=True
    )
    assert nd.Entry.decode(e.encode()) == e
    root = nd.Entry("ef" * 32, 1)
    assert nd.Entry.decode(root.encode()) == root and root.cluster == root.image_id


def q(h: int, **kw) -> nd.Query:
    return nd.Query(variants=(h,), **kw)


def test_the_nearest_candidate_wins_and_ties_do_not_depend_on_read_order():
    a, b, c = nd.Entry("a", 0b111), nd.Entry("b", 0b1), nd.Entry("c", 0b1)
    for order in ([a, b, c], [c, b, a]):
        m = nd.best_match(q(0), order, 10, 10)
        assert m is not None and m.image_id == "b" and m.distance == 1


def test_candidates_beyond_the_threshold_and_the_image_itself_do_not_match():
    far = nd.Entry("far", (1 << 11) - 1)  # distance 11
    assert nd.best_match(q(0), [far], 10, 10) is None
    assert nd.best_match(q(0, image_id="self"), [nd.Entry("self", 0)], 10, 10) is None


def test_a_low_information_frame_never_matches():
    assert nd.best_match(q(0, flags=("low_information",)), [nd.Entry("x", 0)], 10, 10) is None


def test_dark_frames_match_only_as_a_burst_of_one_camera():
    dark = nd.Entry("d", 0, camera_id="cam-01", captured_at=1000, dark=True)
    assert nd.best_match(q(0, camera_id="cam-01", captured_at=1005), [dark], 10, 10) is not None
    assert nd.best_match(q(0, camera_id="cam-01", captured_at=1100), [dark], 10, 10) is None
    assert nd.best_match(q(0, camera_id="cam-02", captured_at=1005), [dark], 10, 10) is None
    bright = nd.Entry("b", 0, camera_id="cam-02", captured_at=5000)
    assert nd.best_match(q(0, camera_id="cam-01", captured_at=1, flags=("dark",)), [bright], 10, 10) is None


def test_a_burst_needs_the_same_camera_and_both_times():
    assert nd.is_burst("c", 100, "c", 110, 10) and not nd.is_burst("c", 100, "c", 111, 10)
    assert not nd.is_burst("c", 100, "d", 100, 10) and not nd.is_burst("c", None, "c", 100, 10)


def test_leakage_pairs_cross_only_when_splits_differ():
    entries = [
        nd.Entry("a", 0, split="train"),
        nd.Entry("b", 0b11, split="train"),
        nd.Entry("c", 0b1, split="test"),
    ]
    pairs = nd.near_pairs(entries, 8, 10, 10)
    assert pairs == {("a", "b"), ("a", "c"), ("b", "c")}
    assert nd.crossing_pairs(pairs, {e.image_id: e.split for e in entries}) == [("a", "c"), ("b", "c")]


def test_the_config_refuses_bands_that_would_make_the_lookup_explode():
    with pytest.raises(ValueError):
        NearDuplicateConfig(bands=4, max_distance=12)
    with pytest.raises(ValueError):
        NearDuplicateConfig(bands=6)


# crop views and check hashes (issue 19) -------------------------------------------------------------
CAMERA = Path(__file__).resolve().parents[1] / "data" / "camera"
REAL = ("pillow-flower.jpg", "pillow-iptc.jpg")  # real camera photos, >= 256 px


def prints_of_bytes(data: bytes, crop_views: bool = True) -> nd.Prints:
    """The prints the gate takes: its decode (draft JPEG, orientation, working copy), grey."""
    decoded = decode.decode(data, formats=("JPEG",), max_pixels=50_000_000, min_width=1, min_height=1)
    return nd.prints_of(decoded.working.convert("L"), crop_views, decoded.working)


def jpeg_of(img: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def cut(img: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    return img.crop(nd.crop_box(img.size, (left, top, right, bottom)))


def linked(
    query: nd.Prints, stored: nd.Prints, cfg: NearDuplicateConfig | None = None, colour: bool = True
) -> nd.Match | None:
    """What the service does: read the keys of the query, match what the stored image filed there,
    reading the stored image's colour layouts only when ``to_confirm`` names it."""
    cfg = cfg or NearDuplicateConfig()
    own = nd.Entry("stored", stored.variants[0], check=stored.checks[0] if stored.checks else None)
    index = nd.index_entries(own, stored.views, stored.view_checks, cfg.bands)
    radius = nd.radius_for(cfg.max_distance, cfg.bands)
    read = [
        e for k in nd.query_keys(query.variants, query.views, cfg.bands, radius) for e in index.get(k, [])
    ]
    q = nd.Query(
        query.variants,
        views=query.views,
        checks=query.checks,
        view_checks=query.view_checks,
        layouts=query.layouts if colour else (),
    )
    t = nd.Thresholds(cfg.max_distance, cfg.check_distance, cfg.crop_check_distance, cfg.layout_distance)
    records = {"stored": stored.layouts}
    layouts = {i: records[i] for i in nd.to_confirm(q, read, cfg.burst_seconds, t)}
    return nd.best_match(
        q,
        read,
        cfg.max_distance,
        cfg.burst_seconds,
        cfg.check_distance,
        cfg.crop_check_distance,
        cfg.layout_distance,
        layouts,
    )


CROPS = {
    "central 90%": (0.05, 0.05, 0.05, 0.05),
    "central 80%": (0.1, 0.1, 0.1, 0.1),
    "10% off the left": (0.1, 0.0, 0.0, 0.0),
    "10% off the bottom": (0.0, 0.0, 0.0, 0.1),
    "5% off top and right": (0.0, 0.05, 0.05, 0.0),
}


@pytest.mark.parametrize("name", REAL)
@pytest.mark.parametrize("crop", CROPS)
def test_a_crop_of_a_real_photo_finds_its_original_in_either_order(name, crop):
    raw = (CAMERA / name).read_bytes()
    original = prints_of_bytes(raw)
    with Image.open(io.BytesIO(raw)) as img:
        cropped = prints_of_bytes(jpeg_of(cut(img, *CROPS[crop])))
    after = linked(cropped, original)  # the crop arrives after its original
    assert after is not None and after.distance <= 10 and after.variant.startswith("crop:")
    before = linked(original, cropped)  # ... or before it
    assert before is not None and before.variant.startswith("cropped_by:")


@pytest.mark.parametrize("name", REAL)
def test_a_grey_crop_of_a_colour_photo_finds_its_original(name):
    raw = (CAMERA / name).read_bytes()
    with Image.open(io.BytesIO(raw)) as img:
        grey = prints_of_bytes(jpeg_of(cut(img, *CROPS["central 90%"]).convert("L")))
    found = linked(grey, prints_of_bytes(raw))
    assert found is not None and found.variant.startswith("crop:")


def test_without_crop_views_the_central_90pct_crops_are_missed():
    for name in REAL:
        raw = (CAMERA / name).read_bytes()
        with Image.open(io.BytesIO(raw)) as img:
            cropped = prints_of_bytes(jpeg_of(cut(img, *CROPS["central 90%"])), crop_views=False)
        assert linked(cropped, prints_of_bytes(raw, crop_views=False)) is None


def test_distinct_photos_and_their_crops_do_not_link():
    images = []
    for name in REAL:
        with Image.open(CAMERA / name) as img:
            images.append(img.convert("RGB"))
    images += [scene(200 + s, (640, 480)) for s in range(6)]
    prints = [prints_of_bytes(jpeg_of(img)) for img in images]
    crops = [[prints_of_bytes(jpeg_of(cut(img, *c))) for c in CROPS.values()] for img in images]
    for i, j in itertools.permutations(range(len(images)), 2):
        assert linked(prints[i], prints[j]) is None, (i, j)
        assert all(linked(c, prints[j]) is None for c in crops[i]), (i, j)


def test_the_check_hash_refuses_a_pair_the_64_bit_hash_alone_would_link():
    query = nd.Query(variants=(0,), checks=(0,))
    near = nd.Entry("a", 0b11, check=(1 << 40) - 1)  # 2 bits apart, checks 40 bits apart
    far = nd.Entry("b", 0b11, check=(1 << 46) - 1)  # checks 46 bits apart
    assert nd.best_match(query, [near], 10, 10).image_id == "a"
    assert nd.best_match(query, [far], 10, 10) is None
    assert nd.best_match(query, [far], 10, 10, check_distance=46) is not None
    legacy = nd.Entry("c", 0b11)  # written before check hashes: the 64-bit rule alone
    assert nd.best_match(query, [legacy], 10, 10) is not None


def test_a_crop_view_is_compared_only_with_the_querys_own_hash_and_a_looser_check():
    view = nd.Entry("v", 0, view="c95", check=(1 << 60) - 1)  # check 60 bits off: within 72
    own_hash_matches = nd.Query(variants=(0, 0xFF), checks=(0, 0))
    m = nd.best_match(own_hash_matches, [view], 10, 10)
    assert m is not None and m.variant == "crop:c95"
    flipped_only = nd.Query(variants=(0xFFFF_FFFF_FFFF, 0), checks=(0, 0))  # only a flip is near
    assert nd.best_match(flipped_only, [view], 10, 10) is None
    views_only = nd.Query(variants=(0xFFFF_FFFF_FFFF,), views=(0,), view_checks=(0,))
    assert nd.best_match(views_only, [view], 10, 10) is None  # never a view against a view
    assert nd.best_match(own_hash_matches, [view], 10, 10, crop_check_distance=59) is None


def _coloured(top: tuple[int, int, int], bottom: tuple[int, int, int]) -> bytes:
    """A layout whose rows fade from the colour ``top`` to ``bottom``."""
    g = layout.GRID
    rows = [[round(t + (b - t) * r / (g - 1)) for t, b in zip(top, bottom, strict=True)] for r in range(g)]
    return bytes(v for r in range(g) for _ in range(g) for v in rows[r])


def test_a_link_through_a_view_needs_the_colour_layouts_of_its_two_regions_to_agree():
    sky, ground = _coloured((40, 90, 230), (60, 160, 60)), _coloured((60, 160, 60), (40, 90, 230))
    views = tuple([ground] * len(nd.VIEW_NAMES))
    frame = nd.Entry("f", 0, check=0)  # a frame 0 bits from the query's view c95 and its own frame
    view = nd.Entry("v", 0, view="c85", check=0)  # a view of "v", 0 bits from the query's frame
    q = nd.Query(variants=(0xFFFF_0000_FFFF,), views=(0,), checks=(0,), view_checks=(0,), layouts=(sky, sky))
    t = nd.Thresholds(10)
    assert nd.to_confirm(q, [frame, view], 10, t) == ["f"]  # the query's view c95 against f's frame
    q = replace(q, variants=(0,))
    # "f" now also matches frame against frame at 0 bits, which needs no colour: only "v" is read
    assert nd.to_confirm(q, [view, frame], 10, t) == ["v"]
    # "f" is near as a frame (no colour needed), "v" only through its view c85: its region must agree
    assert nd.best_match(q, [view], 10, 10, layouts={"v": (sky, *views)}) is None  # c85 is ground
    agrees = (ground, sky, sky, *views[2:])
    m = nd.best_match(q, [view], 10, 10, layouts={"v": agrees})
    assert m is not None and m.variant == "crop:c85"
    assert nd.best_match(q, [view], 10, 10, layouts={"v": ()}) is not None  # a record before layouts
    assert nd.best_match(q, [view], 10, 10, layouts={}) is None  # a record not read: not confirmed
    assert nd.best_match(q, [view], 10, 10, layout_distance=2.0, layouts={"v": (sky, *views)}) is not None
    assert nd.best_match(replace(q, layouts=()), [view], 10, 10) is not None  # a query before layouts
    # the query's view c95 against the frame of "f": the query's region 1 and f's frame
    cropped_by = replace(q, variants=(0xFFFF_0000_FFFF,))
    assert nd.best_match(cropped_by, [frame], 10, 10, layouts={"f": (ground,)}) is None
    m = nd.best_match(cropped_by, [frame], 10, 10, layouts={"f": (sky,)})
    assert m is not None and m.variant == "cropped_by:c95"
    # frame against frame needs no colour: the dihedral rule as before
    assert nd.best_match(q, [frame], 10, 10, layouts={}).variant == "identity"


def _pooled(a: bytes, b: bytes) -> float:
    """The first 6 x 6 comparison: 1 - the correlation of all 108 values at once."""
    import numpy as np

    return 1.0 - float(np.corrcoef(np.frombuffer(a, np.uint8), np.frombuffer(b, np.uint8))[0, 1])


def test_every_channel_must_agree_the_false_pair_that_the_pooled_comparison_let_through():
    """Two generated scenes of a held-out draw of 100,000 that both hashes link through a crop view
    (64-bit distance 10, check 70): their pooled RGB grids correlate (0.19 apart, under 0.24), but
    not channel by channel, so the rule refuses them. The hashes alone would link them."""
    from tests.images import scene

    a, b = (  # the query, then the stored image (the query's frame is near b's view l8)
        nd.prints_of(im.convert("L"), colour=im)
        for im in (scene(2543078, (192, 144)), scene(2535903, (192, 144)))
    )
    stored = nd.index_entries(nd.Entry("b", b.variants[0], check=b.checks[0]), b.views, b.view_checks, 4)
    views = list({e for entries in stored.values() for e in entries})
    query = nd.Query(a.variants, views=a.views, checks=a.checks, view_checks=a.view_checks, layouts=a.layouts)
    hashes_link = nd.best_match(query, views, 10, 10, layout_distance=2.0, layouts={"b": b.layouts})
    assert hashes_link is not None and hashes_link.variant.startswith("crop:")
    region = 1 + nd.VIEW_NAMES.index(hashes_link.variant.partition(":")[2])
    assert _pooled(a.layouts[0], b.layouts[region]) < layout.LAYOUT_DISTANCE
    assert layout.distance(a.layouts[0], b.layouts[region]) > layout.LAYOUT_DISTANCE
    assert nd.best_match(query, views, 10, 10, layouts={"b": b.layouts}) is None


def test_to_confirm_names_the_nearest_view_links_first_and_at_most_the_limit():
    q = nd.Query(variants=(0,), checks=(0,), layouts=(_coloured((1, 2, 1), (2, 1, 2)),))
    entries = [nd.Entry(f"v{d}", (1 << d) - 1, view="c95", check=0) for d in (9, 3, 7, 11)]
    t = nd.Thresholds(10)
    assert nd.to_confirm(q, entries, 10, t) == ["v3", "v7", "v9"]  # 11 bits: beyond the threshold
    assert nd.to_confirm(q, entries, 10, t, limit=2) == ["v3", "v7"]
    dark = nd.Entry("d", 0, view="c95", check=0, dark=True)
    assert nd.to_confirm(q, [dark], 10, t) == []  # a dark frame links only as a burst
    assert nd.to_confirm(replace(q, image_id="v3"), entries, 10, t) == ["v7", "v9"]  # not itself
    as_frame = [nd.Entry("v7", 0b11, check=0), nd.Entry("v9", (1 << 9) - 1, check=0)]
    # v7's own frame is 2 bits away (nearer than its view: no colour can change that); v9's 9 bits
    # away, as far as its view: the view adds nothing
    assert nd.to_confirm(q, entries + as_frame, 10, t) == ["v3"]


@pytest.mark.parametrize("a, b", [(501099, 507775), (513289, 515607)])
def test_generated_scenes_that_both_hashes_link_through_a_view_are_kept_apart_by_colour(a, b):
    """Two of the false links found among 20,000 generated scenes (docs/near-duplicates.md)."""
    one, other = (
        nd.prints_of(img.convert("L"), colour=img) for img in (scene(a, (192, 144)), scene(b, (192, 144)))
    )
    without = linked(one, other, colour=False) or linked(other, one, colour=False)
    assert without is not None and ":" in without.variant  # through a crop view
    assert linked(one, other) is None and linked(other, one) is None
    entries = [nd.Entry("one", one.variants[0]), nd.Entry("other", other.variants[0])]
    stored = {"one": one, "other": other}
    assert nd.near_pairs(entries, 4, 10, 10, stored) == set()  # the leakage check agrees
    before = {k: replace(p, layouts=()) for k, p in stored.items()}
    assert nd.near_pairs(entries, 4, 10, 10, before) == {("one", "other")}


def test_dark_and_low_information_rules_hold_through_crop_views():
    dark_view = nd.Entry("d", 0, camera_id="cam-01", captured_at=1000, dark=True, view="c85", check=0)
    q = nd.Query(variants=(0,), checks=(0,), camera_id="cam-01", captured_at=1004)
    assert nd.best_match(q, [dark_view], 10, 10) is not None  # a burst of one camera
    assert nd.best_match(replace(q, captured_at=2000), [dark_view], 10, 10) is None
    assert nd.best_match(replace(q, camera_id="cam-02"), [dark_view], 10, 10) is None
    blank = replace(q, views=(0,), view_checks=(0,), flags=("low_information",))
    assert (
        nd.best_match(blank, [nd.Entry("x", 0, check=0), nd.Entry("y", 0, view="c95", check=0)], 10, 10)
        is None
    )


def test_an_image_is_filed_under_its_own_bands_and_its_views_under_every_other_band():
    prints = prints_of_bytes((CAMERA / REAL[0]).read_bytes())
    own = nd.Entry("i", prints.variants[0], check=prints.checks[0])
    index = nd.index_entries(own, prints.views, prints.view_checks, 8)
    assert set(nd.band_keys(own.phash, 8)) <= set(index)
    filed = [e for entries in index.values() for e in entries]
    assert sum(e.view is None for e in filed) == 8
    for name, h, c in zip(nd.VIEW_NAMES, prints.views, prints.view_checks, strict=True):
        mine = [k for k, entries in index.items() if any(e.view == name for e in entries)]
        assert sorted(mine) == sorted(nd.view_keys([h], 8)) and all(b % 2 == 0 for b, _ in mine)
        assert all(e.phash == h and e.check == c for e in filed if e.view == name)
    assert set(index) == set(nd.index_keys(own.phash, prints.views, 8))
    keys = nd.query_keys(prints.variants, prints.views, 8, 1)
    assert len(keys) <= 8 * 9 + 7 * 8 + 10 * 8 <= 300  # 8-bit bands: three BatchGetItem requests


def test_an_entry_with_a_view_and_a_check_round_trips_and_old_entries_still_decode():
    e = nd.Entry("ab" * 32, 0xF0F0, cluster_id="cd" * 32, split="val", view="tl8", check=(1 << 255) | 5)
    assert nd.Entry.decode(e.encode()) == e
    old = nd.Entry("ab" * 32, 0xF0F0, split="val")
    assert old.encode().count("|") == 6  # entries without a view or check keep their old text
    assert nd.Entry.decode(old.encode()) == old
    with pytest.raises(ValueError):
        nd.Entry.decode(old.encode() + "|nonsense|00")


def test_the_check_hash_is_imagehash_phash_of_hash_size_16_bit_for_bit():
    import imagehash

    for seed in range(3):
        img = scene(seed, (640, 480))
        ours = hashing.hex_of(hashing.bits_of(nd.check_block(img.convert("L"))), nd.CHECK_BITS)
        assert ours == str(imagehash.phash(img, hash_size=16))


def test_check_variants_estimated_from_a_stored_check_stay_close_to_the_real_ones():
    for seed in range(3):
        prints = nd.prints_of(scene(seed, (512, 512)).convert("L"))
        estimated = nd.hash_variants(prints.checks[0], nd.CHECK_SIZE)
        assert estimated[0] == prints.checks[0]
        assert all(hashing.hamming(e, v) <= 24 for e, v in zip(estimated, prints.checks, strict=True))


def test_leakage_pairs_include_a_crop_and_its_frame():
    raw = (CAMERA / REAL[1]).read_bytes()
    with Image.open(io.BytesIO(raw)) as img:
        crop = prints_of_bytes(jpeg_of(cut(img, *CROPS["central 90%"])))
    frame = prints_of_bytes(raw)
    other = prints_of_bytes(jpeg_of(scene(77, (640, 480))))
    entries = [nd.Entry(n, p.variants[0]) for n, p in (("frame", frame), ("crop", crop), ("other", other))]
    prints = {"frame": frame, "crop": crop, "other": other}
    assert nd.near_pairs(entries, 8, 10, 10, prints) == {("crop", "frame")}
    assert nd.near_pairs(entries, 8, 10, 10) == set()  # from the 64-bit hashes alone: missed


def _near(h: int, bits: int, rng: random.Random) -> int:
    for b in rng.sample(range(64), bits):
        h ^= 1 << b
    return h


@pytest.mark.parametrize("seed", range(5))
def test_only_entries_within_reach_are_decoded_and_the_match_is_the_same(seed):
    rng = random.Random(seed)
    own = rng.getrandbits(64)
    query = nd.Query(
        variants=(own, *(rng.getrandbits(64) for _ in range(7))),
        views=tuple(rng.getrandbits(64) for _ in range(len(nd.VIEW_NAMES))),
    )
    entries = [nd.Entry(f"far-{i}", rng.getrandbits(64)) for i in range(300)]
    for i, target in enumerate((*query.variants, *query.views)):  # some near every hash, some just out
        for bits in (rng.randint(0, 10), 11):
            entries.append(
                nd.Entry(f"near-{i}-{bits}", _near(target, bits, rng), view=rng.choice((None, "c95")))
            )
    rng.shuffle(entries)
    texts = [e.encode() for e in entries]

    kept = nd.within_reach(texts, query.variants + query.views, 10)

    reach = [
        e for e in entries if min(hashing.hamming(e.phash, h) for h in query.variants + query.views) <= 10
    ]
    assert kept == [e.encode() for e in reach]  # exactly those, in their order
    assert 0 < len(kept) < len(texts)
    kept_entries = [nd.Entry.decode(t) for t in kept]
    assert nd.best_match(query, kept_entries, 10, 10) == nd.best_match(query, entries, 10, 10)
    assert nd.within_reach(texts, (), 10) == [] and nd.within_reach([], query.variants, 10) == []
    assert nd.within_reach(texts, query.variants, 64) == texts
