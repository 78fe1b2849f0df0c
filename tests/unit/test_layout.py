"""The colour layout: a 4 x 4 RGB grid of a region, compared as 1 - the Pearson correlation."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from lenslog.domain import layout
from lenslog.domain import neardup as nd
from tests.images import scene


def test_a_layout_is_the_box_average_of_each_of_16_cells_in_rgb():
    pixels = np.zeros((40, 40, 3), dtype=np.uint8)
    pixels[:10, :10] = (200, 10, 30)  # the top-left cell, a flat colour
    pixels[30:, 30:, 2] = np.tile([100, 200], (10, 5))  # the bottom-right cell averages 150 in blue
    grid = np.frombuffer(layout.layout_of(Image.fromarray(pixels)), dtype=np.uint8).reshape(4, 4, 3)
    assert grid[0, 0].tolist() == [200, 10, 30]
    assert grid[3, 3].tolist() == [0, 0, 150]
    assert grid[1:3].sum() == 0


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


def test_layouts_round_trip_through_their_text_and_bad_ones_are_refused():
    a = layout.layout_of(scene(6, (64, 48)))
    text = layout.encode(a)
    assert len(text) == 64 and layout.decode(text) == a
    with pytest.raises(ValueError):
        layout.decode(layout.encode(a[:-3]))
    with pytest.raises(ValueError):
        layout.decode("not base64!")
    with pytest.raises(ValueError):
        layout.distance(a, a[:47])
    several = (a, layout.layout_of(scene(7, (64, 48))))
    assert layout.unpack(layout.pack(several)) == several and len(layout.pack(several)) == 128
    assert layout.unpack("") == ()
    with pytest.raises(ValueError):
        layout.unpack(layout.encode(a[:-1]))
    with pytest.raises(ValueError):
        layout.pack([a[:-1]])
