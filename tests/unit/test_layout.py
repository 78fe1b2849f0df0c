"""The colour layout: a 6 x 6 RGB grid of a region, compared as 1 - the Pearson correlation."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from lenslog.domain import layout
from lenslog.domain import neardup as nd
from tests.images import scene


def test_a_layout_is_the_box_average_of_each_of_36_cells_in_rgb():
    pixels = np.zeros((60, 60, 3), dtype=np.uint8)
    pixels[:10, :10] = (200, 10, 30)  # the top-left cell, a flat colour
    pixels[50:, 50:, 2] = np.tile([100, 200], (10, 5))  # the bottom-right cell averages 150 in blue
    grid = np.frombuffer(layout.layout_of(Image.fromarray(pixels)), dtype=np.uint8).reshape(6, 6, 3)
    assert grid[0, 0].tolist() == [200, 10, 30]
    assert grid[5, 5].tolist() == [0, 0, 150]
    assert grid[1:5].sum() == 0


def test_each_crop_views_layout_is_the_layout_of_that_region():
    img = scene(11, (320, 240))
    boxes = [nd.crop_box(img.size, cut) for _, cut in nd.CROP_VIEWS]
    layouts = layout.layouts_of(img, boxes)
    assert len(layouts) == 1 + len(nd.CROP_VIEWS)
    assert layouts[0] == layout.layout_of(img)
    assert layouts[3] == layout.layout_of(img.crop(boxes[2]))
    assert layout.layouts_of(img.convert("RGBA"), boxes) == layouts  # any mode is read as RGB


def test_the_distance_ignores_brightness_and_contrast_and_sees_a_different_picture():
    img = scene(3, (320, 240))
    a = layout.layout_of(img)
    brighter = layout.layout_of(ImageEnhance.Brightness(img).enhance(1.2))
    flatter = layout.layout_of(ImageEnhance.Contrast(img).enhance(0.7))
    assert layout.distance(a, a) == pytest.approx(0.0, abs=1e-12)
    assert layout.distance(a, brighter) < 0.02
    assert layout.distance(a, flatter) < 0.02
    assert layout.distance(a, layout.layout_of(scene(4, (320, 240)))) > layout.LAYOUT_DISTANCE
    inverted = bytes(255 - v for v in a)
    assert layout.distance(a, inverted) == pytest.approx(2.0)


def test_a_grey_copy_keeps_the_layout_of_its_colour_picture_and_colours_still_count():
    img = scene(8, (320, 240))
    colour = layout.layout_of(img)
    grey = layout.layout_of(img.convert("L").convert("RGB"))
    assert layout.distance(colour, grey) < 0.05  # compared by luma: the same layout
    assert layout.distance(grey, colour) == layout.distance(colour, grey)
    assert layout.distance(grey, layout.layout_of(scene(9, (320, 240)).convert("L"))) > 0.2
    # two colour pictures with the same luma but swapped hues are still told apart
    swapped = layout.layout_of(Image.merge("RGB", img.split()[::-1]))
    assert layout.distance(colour, swapped) > layout.distance(colour, grey)


def test_a_layout_without_contrast_confirms_nothing():
    flat = bytes([90] * layout.LAYOUT_BYTES)
    assert layout.distance(flat, flat) == 1.0
    assert layout.distance(flat, layout.layout_of(scene(5, (64, 48)))) == 1.0


def test_each_colour_channel_must_agree_on_its_own():
    img = scene(3, (320, 240))
    a = np.frombuffer(layout.layout_of(img), dtype=np.uint8).reshape(36, 3)
    # the same red and green, and a blue that runs against the picture's: the worst channel counts
    other = a.copy()
    other[:, 2] = 255 - a[:, 2]
    assert layout.distance(a.tobytes(), other.tobytes()) == pytest.approx(2.0)
    # a channel flat in both regions says nothing and is left out; flat in only one, it disagrees
    flat_blue = a.copy()
    flat_blue[:, 2] = 40
    assert layout.distance(flat_blue.tobytes(), flat_blue.tobytes()) == pytest.approx(0.0, abs=1e-12)
    assert layout.distance(a.tobytes(), flat_blue.tobytes()) == 1.0


def test_layouts_round_trip_through_their_text_and_bad_ones_are_refused():
    a = layout.layout_of(scene(6, (64, 48)))
    text = layout.encode(a)
    assert len(text) == 144 and layout.decode(text) == a
    with pytest.raises(ValueError):
        layout.decode(layout.encode(a[:-3]))
    with pytest.raises(ValueError):
        layout.decode("not base64!")
    with pytest.raises(ValueError):
        layout.distance(a, a[:47])
    several = (a, layout.layout_of(scene(7, (64, 48))))
    assert layout.unpack(layout.pack(several)) == several and len(layout.pack(several)) == 2 + 288
    assert layout.unpack("") == ()
    with pytest.raises(ValueError):
        layout.unpack(layout.encode(a[:-1]))
    with pytest.raises(ValueError):
        layout.unpack("5:" + layout.encode(a))  # a grid it does not know
    with pytest.raises(ValueError):
        layout.pack([a[:-1]])


def _legacy(img: Image.Image) -> bytes:
    """The 4 x 4 layout that records written before the 6 x 6 grid carry."""
    return img.convert("RGB").resize((4, 4), Image.Resampling.BOX).tobytes()


def test_a_record_written_with_4x4_layouts_is_read_and_compared_at_4x4():
    import base64

    img, other = scene(12, (320, 240)), scene(13, (320, 240))
    old = (_legacy(img), _legacy(other))
    assert layout.unpack(base64.b64encode(b"".join(old)).decode()) == old  # the old pack, no prefix
    assert layout.decode(base64.b64encode(old[0]).decode()) == old[0]
    # a 6 x 6 layout of the same picture against its 4 x 4 one: the same layout
    assert layout.distance(layout.layout_of(img), old[0]) < 0.05  # the reduction assumes flat cells
    assert layout.distance(old[0], layout.layout_of(img)) == layout.distance(layout.layout_of(img), old[0])
    assert layout.agree(layout.layout_of(img), old[0])
    assert not layout.agree(layout.layout_of(img), old[1])


def test_a_finer_grid_reduced_to_4x4_is_the_4x4_layout_when_its_cells_are_flat():
    blocks = np.random.default_rng(3).integers(0, 256, (6, 6, 3), dtype=np.uint8)
    img = Image.fromarray(np.kron(blocks, np.ones((2, 2, 1), dtype=np.uint8)))  # 12 x 12, flat 2 x 2 cells
    cells = np.frombuffer(layout.layout_of(img), dtype=np.uint8).reshape(6, 6, 3).astype(float)
    reduced = layout._reduce(cells, 4)
    legacy = np.frombuffer(_legacy(img), dtype=np.uint8).reshape(4, 4, 3)
    assert np.abs(reduced - legacy).max() < 1  # within the rounding of Pillow's averages


def test_a_4x4_comparison_is_held_to_its_own_threshold():
    """A pair between the two thresholds agrees at 6 x 6 (0.24) and not against a 4 x 4 record
    (0.2): the copy is the picture with a colour cast that grows down the frame, searched for."""
    img = scene(14, (320, 240))
    a6, a4 = layout.layout_of(img), _legacy(img)
    pixels = np.asarray(img, dtype=float)
    ramp = np.linspace(0, 1, 240)[:, None, None]
    rng = np.random.default_rng(0)
    for _ in range(200):
        cast = rng.normal(0, 90, (1, 1, 3)) * ramp
        copy = layout.layout_of(Image.fromarray(np.clip(pixels + cast, 0, 255).astype(np.uint8)))
        if (
            layout.distance(a4, copy) > layout.LEGACY_DISTANCE
            and layout.distance(a6, copy) <= layout.LAYOUT_DISTANCE
        ):
            assert layout.agree(a6, copy) and not layout.agree(a4, copy)
            return
    pytest.fail("no copy found between the two thresholds")
