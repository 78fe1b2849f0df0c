import imagehash
import pytest
from PIL import Image, ImageOps

from lenslog.domain import hashing
from tests.images import scene


@pytest.mark.parametrize("seed", range(12))
def test_phash_is_bit_identical_to_imagehash(seed):
    img = scene(seed, size=(300 + 17 * seed, 200 + 11 * seed))
    ours = hashing.hex_of(hashing.phash(img))
    assert ours == str(imagehash.phash(img))


def test_phash_of_grey_and_palette_images_matches_imagehash():
    for img in (scene(3).convert("L"), scene(4).convert("P"), scene(5).convert("RGBA")):
        assert hashing.hex_of(hashing.phash(img)) == str(imagehash.phash(img))


def test_hex_round_trip_and_hamming():
    a = hashing.phash(scene(1))
    assert hashing.from_hex(hashing.hex_of(a)) == a
    assert len(hashing.hex_of(a)) == 16
    assert hashing.hamming(a, a) == 0
    assert hashing.hamming(0b1011, 0b0001) == 2


def test_small_change_small_distance_different_picture_large_distance():
    img = scene(7)
    resized = img.resize((320, 240), Image.Resampling.BILINEAR)
    brighter = img.point(lambda v: min(255, int(v * 1.15)))
    other = scene(8)
    base = hashing.phash(img)
    assert hashing.hamming(base, hashing.phash(resized)) <= 4
    assert hashing.hamming(base, hashing.phash(brighter)) <= 6
    assert hashing.hamming(base, hashing.phash(other)) > 12
    assert hashing.hamming(base, hashing.phash(ImageOps.mirror(img))) > 8


def test_sha256_is_the_content_address():
    assert hashing.sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_library_versions_are_recorded():
    versions = hashing.library_versions()
    assert {"lenslog", "pillow", "numpy"} <= versions.keys()
