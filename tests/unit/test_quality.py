import numpy as np
import pytest
from PIL import Image

from lenslog.config import QualityThresholds
from lenslog.domain.quality import _variance, histogram_percentiles, measure
from tests.images import blurred, grey_noise, scene

T = QualityThresholds()


def flags_of(img: Image.Image, size: tuple[int, int] | None = None) -> list[str]:
    w, h = size or img.size
    return measure(img.convert("RGB"), w, h, T).flags


def test_an_ordinary_scene_has_no_flags():
    assert flags_of(scene(1)) == []


def test_a_night_frame_is_dark():
    assert "dark" in flags_of(scene(2, brightness=0.2))


def test_a_washed_out_frame_is_overexposed():
    washed = scene(3).point(lambda v: min(255, 200 + v // 4))
    assert "overexposed" in flags_of(washed)


def test_a_defocused_frame_is_blurry():
    assert "blurry" in flags_of(blurred(4, radius=6))
    assert "blurry" not in flags_of(scene(4))


def test_a_blank_frame_is_low_information_and_not_called_blurry():
    flags = flags_of(Image.new("RGB", (640, 480), (90, 90, 90)))
    assert "low_information" in flags
    assert "blurry" not in flags


def test_a_grey_picture_is_grayscale():
    assert "grayscale" in flags_of(scene(5).convert("L"))
    assert "grayscale" not in flags_of(scene(5))


def test_a_panorama_has_an_odd_aspect_ratio():
    img = scene(6, (1600, 400))
    q = measure(img, 1600, 400, T)
    assert q.aspect_ratio == 4.0 and "odd_aspect_ratio" in q.flags


def test_a_grainy_frame_is_noisy():
    noise = grey_noise(7, (640, 480), 60)
    grainy = Image.blend(scene(7), noise, 0.5)
    assert "noisy" in flags_of(grainy)
    assert "noisy" not in flags_of(scene(7))


def test_metrics_are_reported_with_the_size_they_were_measured_on():
    q = measure(scene(8, (512, 384)), 4096, 3072, T)
    assert q.measured_on == "512x384"
    assert 0 <= q.brightness <= 255 and q.entropy > 5


@pytest.mark.parametrize("seed", range(6))
def test_percentiles_from_the_histogram_equal_numpy_linear_percentiles(seed):
    rng = np.random.default_rng(seed)
    normal = rng.normal(40 + 30 * seed, 25 + 5 * seed, size=997 + seed * 331)
    values = np.clip(normal, 0, 255).astype(np.uint8)
    hist = np.bincount(values, minlength=256)
    ours = histogram_percentiles(hist, (0.05, 0.5, 0.95))
    assert ours == pytest.approx(list(np.percentile(values, (5, 50, 95))), abs=1e-9)


def test_a_single_pixel_has_its_own_value_at_every_percentile():
    hist = np.bincount(np.array([77], dtype=np.uint8), minlength=256)
    assert histogram_percentiles(hist, (0.05, 0.95)) == [77.0, 77.0]


def test_sharpness_is_the_variance_of_the_laplacian():
    image = scene(9, (512, 384))
    g = np.asarray(image.convert("L"), dtype=np.float64)
    lap = g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4 * g[1:-1, 1:-1]
    assert measure(image, 512, 384, T).sharpness == pytest.approx(round(float(lap.var()), 2), abs=0.006)


@pytest.mark.parametrize("dtype", [np.int16, np.uint8])
def test_the_variance_of_an_image_sized_array_of_extreme_values_is_exact(dtype):
    info = np.iinfo(dtype)
    rng = np.random.default_rng(3)
    values = rng.integers(info.min, info.max, size=(3000, 4000), endpoint=True).astype(dtype)
    assert _variance(values) == pytest.approx(float(np.var(values.astype(np.float64))), rel=1e-12)
    assert _variance(np.zeros((0, 4), dtype=dtype)) == 0.0
