"""Image factories for tests: real encoder output made in memory, never committed binaries."""

from __future__ import annotations

import io
import random

from PIL import ExifTags, Image, ImageDraw, ImageFilter
from PIL.TiffImagePlugin import IFDRational


def scene(seed: int = 0, size: tuple[int, int] = (640, 480), brightness: float = 1.0) -> Image.Image:
    """A plausible photo-like picture: gradient sky, ground, random boxes, some texture. Every
    pixel follows from ``seed``: the same seed gives the same picture in every run and process."""
    rng = random.Random(seed)
    w, h = size
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    horizon = int(h * rng.uniform(0.35, 0.6))
    sky = (rng.randint(60, 140), rng.randint(110, 190), rng.randint(170, 255))
    ground = (rng.randint(60, 130), rng.randint(60, 120), rng.randint(30, 90))
    for y in range(h):
        base = sky if y < horizon else ground
        f = 0.7 + 0.3 * (y / h)
        draw.line([(0, y), (w, y)], fill=tuple(int(c * f) for c in base))
    for _ in range(rng.randint(6, 14)):
        x0, y0 = rng.randint(0, w - 40), rng.randint(h // 4, h - 30)
        x1, y1 = x0 + rng.randint(20, w // 3), y0 + rng.randint(15, h // 3)
        draw.rectangle([x0, y0, x1, y1], fill=tuple(rng.randint(0, 255) for _ in range(3)))
    for _ in range(rng.randint(3, 8)):
        x0, y0 = rng.randint(0, w - 30), rng.randint(0, h - 30)
        r = rng.randint(8, 60)
        draw.ellipse([x0, y0, x0 + r, y0 + r], fill=tuple(rng.randint(0, 255) for _ in range(3)))
    img = Image.blend(img, grey_noise(seed, size, 12), 0.08)
    if brightness != 1.0:
        img = img.point(lambda v: max(0, min(255, int(v * brightness))))
    return img


def grey_noise(seed: int, size: tuple[int, int], sigma: float) -> Image.Image:
    """Gaussian grey noise around 128, as ``Image.effect_noise`` makes it, but drawn from ``seed``
    (``effect_noise`` draws from the C library's generator, which no seed reaches)."""
    import numpy as np

    w, h = size
    values = np.random.default_rng(seed).normal(128.0, sigma, (h, w))
    return Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), "L").convert("RGB")


def encode(img: Image.Image, fmt: str = "JPEG", **kwargs) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG" and img.mode not in ("RGB", "L", "CMYK"):
        img = img.convert("RGB")
    img.save(buf, fmt, **kwargs)
    return buf.getvalue()


def jpeg(seed: int = 0, size: tuple[int, int] = (640, 480), **kwargs) -> bytes:
    return encode(scene(seed, size), "JPEG", quality=kwargs.pop("quality", 90), **kwargs)


def blurred(seed: int = 0, radius: float = 8.0) -> Image.Image:
    return scene(seed).filter(ImageFilter.GaussianBlur(radius))


def camera_jpeg(
    when: str | None = "2026:07:01 12:00:00",
    offset: str | None = None,
    subsec: str | None = None,
    gps: tuple[float, float] | None = None,
    gps_stamp: tuple[str, tuple[int, int, int]] | None = None,
    digitized_offset: str | None = None,
    size: tuple[int, int] = (32, 32),
    pixels: Image.Image | None = None,
    **save: object,
) -> bytes:
    """A JPEG with EXIF as a phone or camera writes it (Pillow writes the block): make, model,
    DateTimeOriginal and, when given, offset tags, sub-seconds, a GPS position and stamps."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "Canon EOS R6"
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    if when is not None:
        sub[0x9003] = when
    if offset:
        sub[0x9011] = offset
    if digitized_offset:
        sub[0x9012] = digitized_offset
    if subsec:
        sub[0x9291] = subsec
    if gps or gps_stamp:
        g = exif.get_ifd(ExifTags.IFD.GPSInfo)
        if gps:
            lat, lon = gps
            g[1], g[3] = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
            g[2] = (IFDRational(round(abs(lat) * 1e6), 1_000_000), IFDRational(0, 1), IFDRational(0, 1))
            g[4] = (IFDRational(round(abs(lon) * 1e6), 1_000_000), IFDRational(0, 1), IFDRational(0, 1))
        if gps_stamp:
            day, (h, m, s) = gps_stamp
            g[29] = day
            g[7] = (IFDRational(h, 1), IFDRational(m, 1), IFDRational(s, 1))
    buf = io.BytesIO()
    (pixels or Image.new("RGB", size, (90, 120, 150))).save(buf, "JPEG", exif=exif, **save)
    return buf.getvalue()
