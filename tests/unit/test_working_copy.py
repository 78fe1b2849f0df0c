import io

import pytest
from PIL import Image

from lenslog.domain.decode import WORKING_SIDE, decode, draft_request, thumbnail_size
from tests.images import encode, scene

SIZES = [(6000, 4000), (4000, 6000), (3648, 2736), (8000, 1500), (1500, 8000), (640, 480), (513, 100), (1, 1)]


@pytest.mark.parametrize("size", SIZES)
def test_draft_keeps_the_longest_side_at_or_above_the_working_side(size):
    img = Image.open(io.BytesIO(encode(Image.new("RGB", size, (90, 120, 150)), "JPEG")))
    img.draft("RGB", draft_request(*size))
    assert max(img.size) >= min(WORKING_SIDE, max(size))


@pytest.mark.parametrize("size", [(6000, 4000), (5472, 3648), (8000, 1500)])
def test_large_photos_are_drafted_at_one_eighth(size):
    img = Image.open(io.BytesIO(encode(Image.new("RGB", size, (90, 120, 150)), "JPEG")))
    img.draft("RGB", draft_request(*size))
    assert img.size == ((size[0] + 7) // 8, (size[1] + 7) // 8)


@pytest.mark.parametrize("size", [*SIZES, (512, 513), (999, 1000), (2400, 1601), (3, 2000)])
def test_thumbnail_size_is_what_pillow_thumbnail_gives(size):
    img = Image.new("L", size)
    img.thumbnail((WORKING_SIDE, WORKING_SIDE))
    assert thumbnail_size(*size) == img.size


def test_a_large_photo_gets_a_working_copy_of_exactly_the_working_side():
    d = decode(
        encode(scene(3, (4000, 3000)), "JPEG"), formats=("JPEG",), max_pixels=10**9, min_width=1, min_height=1
    )
    assert d.working.size == (512, 384) and (d.width, d.height) == (4000, 3000)
