"""The near-duplicate rules as pure functions: bands, variants, the match rule, leakage pairs."""

from __future__ import annotations

import random

import pytest
from PIL import Image

from lenslog.config import NearDuplicateConfig
from lenslog.domain import hashing
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


def test_the_default_lookup_reads_at_most_two_batches_of_keys():
    cfg = NearDuplicateConfig()
    variants = nd.variant_hashes(scene(1))
    keys = nd.lookup_keys(variants, cfg.bands, nd.radius_for(cfg.max_distance, cfg.bands))
    assert len(keys) <= 8 * 9 + 7 * 8 <= 200


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
