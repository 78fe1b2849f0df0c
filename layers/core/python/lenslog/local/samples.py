"""The built-in sample set of ``lenslog demo``: synthetic camera photos and a few bad files.

Everything is drawn with Pillow at run time (nothing binary is committed) and is deterministic for a
given ``seed`` and ``now``. The set mirrors what real uploads look like:

- production cameras ``cam-01``/``cam-02`` (depot-live) and ``cam-03`` (depot-archive, daytime
  only, a deliberate coverage gap) over the 14 days ending at ``now``, day and night (night frames
  are dark, with lamps and lit windows), in several kinds of weather; staged ``stage-01`` captures
  (~17 %), public ``open-data`` images (~10 %), and ``us-cam-01`` uploaded to the ``us`` cell;
- metadata carried the ways cameras carry it: EXIF (DateTimeOriginal with or without
  OffsetTimeOriginal, Make, Model, BodySerialNumber, GPS), S3 user metadata (``camera-id``,
  ``site``, ``classes``), sidecars ``<image key>.json`` uploaded before their image (one uploaded
  after it), and the key-path convention ``<source>/<camera>/<YYYY-MM-DD>/<camera>_<stamp>.jpg``;
- one exact duplicate, one near duplicate, a misrouted upload, an image flagged for faces without
  a consent id, and bad files (truncated, empty, GIF named .jpg, too small, text named .png, no
  metadata at all, very blurry, nearly black).

``generate_samples`` writes the files under ``dest/<cell>/<key>`` and returns them in upload order.
Each :class:`Upload` also names its :class:`SampleKind`, so a caller can check the gate's verdict
against :data:`EXPECTED_OUTCOMES` (what the default configuration should decide).
"""

from __future__ import annotations

import io
import json
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from lenslog.domain.models import Reason, Status

if TYPE_CHECKING:
    from PIL import Image as PILImage

SIZE = (640, 480)
WINDOW_DAYS = 14
CLASSES = ("forklift", "pallet", "person", "truck")
MIN_SCENE_DISTANCE = 12  # bits of a 64-bit pHash between any two distinct scenes

# EXIF tags (TIFF/EXIF 2.32): main IFD, Exif sub-IFD and GPS sub-IFD.
TAG_MAKE = 0x010F
TAG_MODEL = 0x0110
IFD_EXIF = 0x8769
IFD_GPS = 0x8825
TAG_DATETIME_ORIGINAL = 0x9003
TAG_OFFSET_TIME_ORIGINAL = 0x9011
TAG_BODY_SERIAL_NUMBER = 0xA431
GPS_VERSION_ID, GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON = 0, 1, 2, 3, 4


class SampleKind(StrEnum):
    """What a sample is there to demonstrate."""

    image = "image"  # a good image: accepted
    sidecar = "sidecar"  # a sidecar uploaded before its image
    late_sidecar = "late_sidecar"  # the one sidecar uploaded after its image
    late_sidecar_image = "late_sidecar_image"  # quarantined until its late sidecar arrives
    exact_duplicate = "exact_duplicate"
    near_duplicate = "near_duplicate"
    misrouted = "misrouted"
    pii_without_consent = "pii_without_consent"
    no_metadata = "no_metadata"
    blurry = "blurry"
    black_frame = "black_frame"
    truncated_jpeg = "truncated_jpeg"
    empty_file = "empty_file"
    gif_as_jpeg = "gif_as_jpeg"
    too_small_png = "too_small_png"
    text_as_png = "text_as_png"


@dataclass(frozen=True)
class Expectation:
    """What the gate should decide for a kind of sample under the default configuration."""

    status: Status
    reason: Reason | None = None
    flags: tuple[str, ...] = ()
    after_sidecar: Status | None = None  # the re-evaluated status once a late sidecar arrived


EXPECTED_OUTCOMES: Mapping[SampleKind, Expectation] = MappingProxyType(
    {
        SampleKind.image: Expectation(Status.accepted),
        SampleKind.late_sidecar_image: Expectation(
            Status.quarantined, Reason.metadata_incomplete, after_sidecar=Status.accepted
        ),
        SampleKind.exact_duplicate: Expectation(Status.duplicate),
        SampleKind.near_duplicate: Expectation(Status.near_duplicate),
        # default policy misrouted = "relocate": accepted and stored in the us cell
        SampleKind.misrouted: Expectation(Status.accepted),
        SampleKind.pii_without_consent: Expectation(Status.quarantined, Reason.consent_missing),
        SampleKind.no_metadata: Expectation(Status.quarantined, Reason.metadata_incomplete),
        SampleKind.blurry: Expectation(Status.accepted, flags=("blurry",)),
        SampleKind.black_frame: Expectation(Status.accepted, flags=("dark", "low_information")),
        SampleKind.truncated_jpeg: Expectation(Status.rejected, Reason.truncated_image),
        SampleKind.empty_file: Expectation(Status.rejected, Reason.empty_object),
        SampleKind.gif_as_jpeg: Expectation(Status.rejected, Reason.format_not_allowed),
        SampleKind.too_small_png: Expectation(Status.rejected, Reason.too_small),
        SampleKind.text_as_png: Expectation(Status.rejected, Reason.unknown_format),
    }
)


@dataclass(frozen=True)
class Upload:
    """One object to put into a landing bucket, in order."""

    path: Path  # local file to upload (image or sidecar JSON)
    key: str  # landing object key
    cell: str  # landing cell ("eu" or "us")
    metadata: Mapping[str, str]  # S3 user metadata (x-amz-meta-*, without the prefix), may be empty
    content_type: str
    note: str  # one line: what this sample demonstrates
    wait_before: bool = False  # let the gate finish everything before uploading this one
    kind: SampleKind = SampleKind.image
    related_key: str | None = None  # sidecar -> its image; duplicate -> its original


# --------------------------------------------------------------------------------------------------
# Cameras (they mirror config/lenslog.toml; EXIF-only details such as serials live here)


@dataclass(frozen=True)
class _Camera:
    camera_id: str
    source: str
    cell: str
    timezone: str
    site: str
    make: str | None = None
    model: str | None = None
    serial: str | None = None
    gps: tuple[float, float] | None = None
    cast: tuple[float, float, float] = (1.0, 1.0, 1.0)
    quality: int = 85

    def local(self, utc: datetime) -> datetime:
        return utc.astimezone(ZoneInfo(self.timezone))


CAMERAS: Mapping[str, _Camera] = MappingProxyType(
    {
        "cam-01": _Camera(
            "cam-01", "depot-live", "eu", "Europe/Berlin", "berlin-dock",
            make="Axis", model="P1468-LE", serial="ACCC8E7A01F3", gps=(52.5163, 13.4534),
            cast=(1.06, 1.0, 0.9), quality=88,
        ),
        "cam-02": _Camera(
            "cam-02", "depot-live", "eu", "Europe/Berlin", "hamburg-dock",
            make="Hikvision", model="DS-2CD2387G2", serial="DS2CD2387G2-L20241103", gps=(53.5397, 9.9851),
            cast=(0.93, 1.0, 1.09), quality=82,
        ),
        "cam-03": _Camera(
            "cam-03", "depot-archive", "eu", "Europe/Paris", "lyon-yard",
            make="Bosch", model="DINION 5000", cast=(0.98, 1.05, 0.9), quality=72,
        ),
        "stage-01": _Camera(
            "stage-01", "studio", "eu", "Europe/Berlin", "studio-a",
            make="Sony", model="ILCE-7M4", serial="5082731", cast=(1.0, 1.0, 1.0), quality=92,
        ),
        "us-cam-01": _Camera(
            "us-cam-01", "us-yards", "us", "America/Chicago", "chicago-yard",
            make="Axis", model="Q1798-LE", serial="B8A44F19C2D0", gps=(41.8369, -87.6847),
            cast=(1.02, 0.98, 1.0), quality=85,
        ),
    }
)  # fmt: skip

_WEATHER_CONDITIONS = {
    "clear": "dry",
    "overcast": "dry",
    "rain": "wet surface",
    "fog": "low visibility",
    "snow": "snow on ground",
}
_OPERATORS = ("op-104", "op-117", "op-121", "op-135")
# Class sets in rotation: over a cycle pallet 5, forklift 4, person 4, truck 3 (a mild imbalance).
_CLASS_CYCLE: tuple[tuple[str, ...], ...] = (
    ("forklift", "pallet"),
    ("pallet", "truck"),
    ("forklift", "person"),
    ("pallet", "truck"),
    ("forklift", "person"),
    ("pallet", "person"),
    ("truck",),
    ("forklift", "pallet", "person"),
)
_STAGED_SCENES = (
    "pallet dropped across the aisle",
    "person crouching behind a pallet",
    "forklift reversing with the load raised",
    "stretch-wrap glare under strobe light",
    "person in dark clothing between racks",
    "half-wrapped pallet leaning",
    "forklift with a person on the forks",
    "blocked emergency exit",
)


# --------------------------------------------------------------------------------------------------
# Scene rendering


@dataclass(frozen=True)
class _Look:
    """How a frame should look: light, weather, optics."""

    daylight: float  # 0 (night) .. 1 (noon)
    weather: str = "clear"
    indoor: bool = False
    cast: tuple[float, float, float] = (1.0, 1.0, 1.0)
    size: tuple[int, int] = SIZE


def daylight_at(local_hour: float) -> float:
    """A smooth 0..1 daylight factor for a local hour (dark roughly 19:00-06:00)."""
    return max(0.0, math.cos((local_hour - 12.5) / 12.0 * math.pi)) ** 0.6


_SKY = {  # (top, bottom) at full daylight
    "clear": ((70, 125, 205), (175, 205, 235)),
    "overcast": ((140, 146, 154), (190, 193, 197)),
    "rain": ((96, 102, 112), (146, 150, 156)),
    "fog": ((182, 185, 188), (206, 207, 208)),
    "snow": ((160, 165, 175), (205, 208, 214)),
}


def _jitter(rng: random.Random, rgb: tuple[int, int, int], amount: int) -> tuple[int, int, int]:
    r, g, b = (min(255, max(0, c + rng.randint(-amount, amount))) for c in rgb)
    return (r, g, b)


def _render(rng: random.Random, look: _Look, classes: tuple[str, ...]) -> PILImage.Image:
    """Draw one plausible frame: sky or wall, ground, buildings or racks, clutter, the objects of
    ``classes``, then light, weather, colour cast and sensor noise."""
    import numpy as np
    from PIL import Image, ImageDraw, ImageFilter

    w, h = look.size
    horizon = int(h * rng.uniform(0.3, 0.6))

    # Background gradients.
    if look.indoor:
        top = np.array(_jitter(rng, (150, 152, 150), 30), np.float32)
        bottom = top * rng.uniform(0.75, 0.95)
        g_top = np.array(_jitter(rng, (128, 124, 116), 25), np.float32)
    else:
        sky_top, sky_bottom = _SKY[look.weather]
        top = np.array(_jitter(rng, sky_top, 12), np.float32)
        bottom = np.array(_jitter(rng, sky_bottom, 12), np.float32)
        ground = (215, 218, 222) if look.weather == "snow" else (112, 108, 102)
        g_top = np.array(_jitter(rng, ground, 22), np.float32)
    g_bottom = g_top * rng.uniform(0.55, 0.85)
    arr = np.empty((h, w, 3), np.float32)
    t = np.linspace(0.0, 1.0, horizon, dtype=np.float32)[:, None, None]
    arr[:horizon] = top * (1 - t) + bottom * t
    t = np.linspace(0.0, 1.0, h - horizon, dtype=np.float32)[:, None, None]
    arr[horizon:] = g_top * (1 - t) + g_bottom * t
    side = rng.uniform(-0.25, 0.25)  # where the light comes from
    arr *= (1.0 + side * np.linspace(-1.0, 1.0, w, dtype=np.float32))[None, :, None]
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)

    glow = Image.new("L", (w, h))  # lamps: blurred later
    spots = Image.new("L", (w, h))  # lit windows, headlights: sharp
    gdraw, sdraw = ImageDraw.Draw(glow), ImageDraw.Draw(spots)

    # Buildings (outdoor) or racks (indoor) standing on the horizon.
    for _ in range(rng.randint(2, 6)):
        bw = rng.randint(w // 10, w // 3)
        bh = rng.randint(max(8, horizon // 5), max(10, int(horizon * 0.95)))
        x0 = rng.randint(-bw // 3, w - bw // 2)
        y0 = horizon - bh
        if look.indoor:
            beam = _jitter(rng, rng.choice([(230, 110, 30), (40, 80, 170), (200, 60, 40)]), 20)
            post = _jitter(rng, (60, 90, 160), 20)
            levels = rng.randint(2, 5)
            for i in range(levels + 1):
                y = y0 + i * bh // levels
                draw.rectangle([x0, y - 3, x0 + bw, y + 3], fill=beam)
                if i < levels:
                    for _ in range(rng.randint(0, 4)):
                        cw = rng.randint(bw // 8, bw // 3)
                        cx = rng.randint(x0, x0 + max(1, bw - cw))
                        ch = rng.randint(max(4, bh // levels // 3), max(5, bh // levels - 5))
                        draw.rectangle(
                            [cx, y + bh // levels - ch, cx + cw, y + bh // levels - 4],
                            fill=_jitter(rng, (170, 130, 85), 25),
                        )
            draw.rectangle([x0, y0, x0 + 5, horizon], fill=post)
            draw.rectangle([x0 + bw - 5, y0, x0 + bw, horizon], fill=post)
        else:
            base = rng.choice(
                [(150, 140, 128), (120, 125, 132), (165, 160, 150), (140, 82, 64), (96, 108, 96)]
            )
            draw.rectangle([x0, y0, x0 + bw, horizon], fill=_jitter(rng, base, 20))
            draw.rectangle([x0, y0, x0 + bw, y0 + max(2, bh // 14)], fill=_jitter(rng, (70, 70, 74), 10))
            win = _jitter(rng, (60, 70, 82), 12)
            cols, rows = rng.randint(2, 7), rng.randint(1, max(1, bh // 30))
            for r in range(rows):
                for c in range(cols):
                    wx = x0 + (c + 0.5) * bw / cols
                    wy = y0 + (r + 0.7) * bh / (rows + 0.5)
                    box = [wx - bw / cols / 4, wy - 5, wx + bw / cols / 4, wy + 5]
                    draw.rectangle(box, fill=win)
                    if rng.random() < 0.3:
                        sdraw.rectangle(box, fill=rng.randint(150, 230))
            if rng.random() < 0.6:  # a loading door
                dw = rng.randint(bw // 5, bw // 2)
                dx = x0 + rng.randint(0, max(1, bw - dw))
                draw.rectangle(
                    [dx, horizon - min(bh - 4, dw), dx + dw, horizon], fill=_jitter(rng, (95, 98, 104), 15)
                )

    # Lane markings converging to a vanishing point.
    vx = rng.randint(w // 5, 4 * w // 5)
    paint = (225, 190, 40) if look.indoor or rng.random() < 0.5 else (225, 225, 220)
    for _ in range(rng.randint(1, 4)):
        bx = rng.randint(-w // 2, 3 * w // 2)
        draw.line([(vx, horizon), (bx, h)], fill=_jitter(rng, paint, 15), width=rng.randint(2, 6))

    # Lamp posts (outdoor) or ceiling lights (indoor).
    for _ in range(rng.randint(1, 4)):
        lx = rng.randint(10, w - 10)
        if look.indoor:
            ly = rng.randint(5, max(6, horizon // 3))
            draw.rectangle([lx - 25, ly - 3, lx + 25, ly + 3], fill=(235, 235, 225))
            gdraw.ellipse([lx - 40, ly - 15, lx + 40, ly + 15], fill=120)
        else:
            ly = rng.randint(max(1, horizon - 150), horizon)
            draw.line([(lx, ly), (lx, min(h - 1, horizon + rng.randint(10, 60)))], fill=(55, 55, 58), width=3)
            gdraw.ellipse([lx - 22, ly - 14, lx + 22, ly + 14], fill=255)
            sdraw.ellipse([lx - 4, ly - 3, lx + 4, ly + 3], fill=255)

    # Clutter and the labelled objects, far to near.
    objects: list[tuple[int, str]] = []
    for _ in range(rng.randint(1, 4)):
        objects.append((rng.randint(horizon + 4, h - 8), "crate"))
    for cls in classes:
        for _ in range(rng.randint(1, 3 if cls in ("pallet", "person") else 2)):
            objects.append((rng.randint(horizon + 10, h - 4), cls))
    for y, what in sorted(objects):
        s = 0.25 + 1.1 * (y - horizon) / max(1, h - horizon)
        x = rng.randint(-20, w - 20)
        _draw_object(draw, sdraw, rng, what, x, y, s, look)

    # Sometimes a wall edge or pillar close to the camera, as fixed dock cameras often see.
    if rng.random() < 0.45:
        fw = rng.randint(w // 14, w // 5)
        fx0 = 0 if rng.random() < 0.5 else w - fw
        top_y = rng.choice((0, rng.randint(0, h // 3)))
        draw.rectangle([fx0, top_y, fx0 + fw, h], fill=_jitter(rng, (128, 126, 120), 30))
        band = rng.randint(h // 2, h - 40)
        tile = Image.new("RGB", (fw, 30), (30, 30, 30))
        tdraw = ImageDraw.Draw(tile)
        for i in range(0, fw + 40, 40):  # hazard stripes on the pillar's foot
            tdraw.polygon([(i, 0), (i + 20, 0), (i, 30), (i - 20, 30)], fill=(230, 190, 30))
        img.paste(tile, (fx0, band))

    # Light, weather, colour, noise.
    arr = np.asarray(img, np.float32)
    light = 0.95 + 0.1 * rng.random() if look.indoor else 0.09 + 0.91 * look.daylight
    if look.weather in ("overcast", "rain", "snow"):
        light *= 0.85
    arr *= light
    lamps_on = look.indoor or look.daylight < 0.45
    if lamps_on:
        g = np.asarray(glow.filter(ImageFilter.GaussianBlur(18)), np.float32)[..., None] / 255.0
        sp = np.asarray(spots.filter(ImageFilter.GaussianBlur(1)), np.float32)[..., None] / 255.0
        lamp = np.array((255, 205, 140) if not look.indoor else (250, 248, 240), np.float32)
        strength = 0.3 if look.indoor else 1.0 - look.daylight
        arr += g * lamp * 0.6 * strength + sp * lamp * 0.9 * strength
    if look.weather == "fog":
        fade = np.linspace(0.65, 0.25, h, dtype=np.float32)[:, None, None]
        arr = arr * (1 - fade) + np.float32(200 * light) * fade
    if look.weather in ("rain", "snow") and not look.indoor:
        fx = Image.new("L", (w, h))
        fdraw = ImageDraw.Draw(fx)
        for _ in range(260 if look.weather == "rain" else 420):
            px, py = rng.randint(0, w), rng.randint(0, h)
            if look.weather == "rain":
                fdraw.line([(px, py), (px - 4, py + 14)], fill=rng.randint(60, 120), width=1)
            else:
                r = rng.choice((1, 1, 2))
                fdraw.ellipse([px - r, py - r, px + r, py + r], fill=rng.randint(150, 230))
        arr += np.asarray(fx, np.float32)[..., None] * (0.5 + 0.5 * light)
    arr *= np.array(look.cast, np.float32)
    sigma = 2.0 + 5.0 * (1.0 - (1.0 if look.indoor else look.daylight))
    noise = np.random.default_rng(rng.getrandbits(64)).standard_normal(arr.shape[:2], dtype=np.float32)
    arr += (noise * np.float32(sigma))[..., None]
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def _draw_object(
    draw: Any, sdraw: Any, rng: random.Random, what: str, x: int, y: int, s: float, look: _Look
) -> None:
    """One object standing at ground point (x, y), scaled by s (perspective)."""

    def box(x0: float, y0: float, x1: float, y1: float, fill: tuple[int, int, int]) -> None:
        draw.rectangle([x + x0 * s, y - y1 * s, x + x1 * s, y - y0 * s], fill=fill)

    def wheel(cx: float, r: float) -> None:
        draw.ellipse([x + (cx - r) * s, y - 2 * r * s, x + (cx + r) * s, y], fill=(25, 25, 27))

    if what == "crate":
        wd, ht = rng.randint(20, 60), rng.randint(15, 50)
        box(0, 0, wd, ht, _jitter(rng, rng.choice([(120, 120, 125), (150, 115, 70), (60, 100, 140)]), 20))
    elif what == "pallet":
        wood = _jitter(rng, (176, 138, 92), 18)
        box(0, 0, 100, 5, wood)
        box(0, 10, 100, 15, wood)
        for px in (0, 45, 90):
            box(px, 5, px + 10, 10, _jitter(rng, (140, 106, 70), 10))
        top = 15.0
        for _ in range(rng.randint(0, 3)):
            lh = rng.randint(18, 30)
            box(3, top, 97, top + lh, _jitter(rng, (190, 150, 100), 25))
            draw.line(
                [x + 3 * s, y - (top + lh / 2) * s, x + 97 * s, y - (top + lh / 2) * s],
                fill=(150, 115, 75),
                width=max(1, int(2 * s)),
            )
            top += lh
    elif what == "forklift":
        paint = _jitter(rng, rng.choice([(235, 180, 20), (220, 90, 30), (40, 120, 60)]), 15)
        flip = rng.random() < 0.5
        body, mast = ((0, 80), (84, 92)) if not flip else ((20, 100), (8, 16))
        box(body[0], 12, body[1], 48, paint)
        box(body[0] + 15, 48, body[0] + 55, 95, (40, 40, 44))  # cab frame
        box(body[0] + 19, 52, body[0] + 51, 91, _jitter(rng, (120, 140, 150), 15))
        box(mast[0], 8, mast[1], 120, (70, 70, 74))
        forks = (92, 135) if not flip else (-35, 8)
        box(forks[0], 8, forks[1], 13, (90, 90, 95))
        wheel(body[0] + 18, 12)
        wheel(body[1] - 15, 12)
    elif what == "truck":
        trailer = _jitter(rng, rng.choice([(235, 235, 232), (170, 40, 40), (40, 70, 150), (90, 95, 100)]), 15)
        ln = rng.randint(200, 300)
        box(0, 22, ln, 130, trailer)
        draw.line([x, y - 100 * s, x + ln * s, y - 100 * s], fill=_jitter(rng, trailer, 40), width=2)
        box(ln + 5, 22, ln + 80, 110, _jitter(rng, (200, 200, 205), 40))
        box(ln + 45, 70, ln + 76, 100, (60, 80, 100))  # windscreen
        for cx in (30, 60, ln - 40, ln + 60):
            wheel(cx, 16)
        if look.daylight < 0.45 and not look.indoor:
            sdraw.ellipse([x + (ln + 72) * s, y - 40 * s, x + (ln + 82) * s, y - 30 * s], fill=255)
    elif what == "person":
        vest = _jitter(rng, rng.choice([(240, 220, 30), (245, 130, 20)]), 10)
        box(2, 0, 8, 34, (40, 45, 60))
        box(11, 0, 17, 34, (40, 45, 60))
        box(0, 34, 19, 66, vest)
        box(2, 50, 17, 53, (215, 215, 205))  # reflective stripe
        skin = _jitter(rng, rng.choice([(224, 180, 150), (170, 120, 90), (120, 85, 60)]), 10)
        draw.ellipse([x + 3 * s, y - 80 * s, x + 16 * s, y - 66 * s], fill=skin)
        if rng.random() < 0.6:
            box(2, 76, 17, 82, _jitter(rng, (235, 235, 235), 20))  # helmet


# --------------------------------------------------------------------------------------------------
# Encoding helpers


def _dms(value: float) -> tuple[float, float, float]:
    value = abs(value)
    deg = int(value)
    minutes = int((value - deg) * 60)
    seconds = round((value - deg - minutes / 60) * 3600, 2)
    return (float(deg), float(minutes), seconds)


def build_exif(
    *,
    local: datetime | None = None,
    with_offset: bool = True,
    raw_datetime: str | None = None,
    make: str | None = None,
    model: str | None = None,
    serial: str | None = None,
    gps: tuple[float, float] | None = None,
) -> PILImage.Exif:
    """An EXIF block the way a camera writes it (DateTimeOriginal is local wall-clock time)."""
    from PIL import Image

    exif = Image.Exif()
    if make:
        exif[TAG_MAKE] = make
    if model:
        exif[TAG_MODEL] = model
    sub = exif.get_ifd(IFD_EXIF)
    if raw_datetime is not None:
        sub[TAG_DATETIME_ORIGINAL] = raw_datetime
    elif local is not None:
        sub[TAG_DATETIME_ORIGINAL] = local.strftime("%Y:%m:%d %H:%M:%S")
        if with_offset:
            off = local.strftime("%z")
            sub[TAG_OFFSET_TIME_ORIGINAL] = f"{off[:3]}:{off[3:]}"
    if serial:
        sub[TAG_BODY_SERIAL_NUMBER] = serial
    if gps is not None:
        lat, lon = gps
        g = exif.get_ifd(IFD_GPS)
        g[GPS_VERSION_ID] = b"\x02\x03\x00\x00"
        g[GPS_LAT_REF] = "N" if lat >= 0 else "S"
        g[GPS_LAT] = _dms(lat)
        g[GPS_LON_REF] = "E" if lon >= 0 else "W"
        g[GPS_LON] = _dms(lon)
    return exif


def _jpeg(img: PILImage.Image, quality: int, exif: PILImage.Exif | None = None) -> bytes:
    buf = io.BytesIO()
    if exif is not None and len(exif.tobytes()) > 8:
        img.save(buf, "JPEG", quality=quality, exif=exif)
    else:
        img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _stamp(local: datetime) -> str:
    return local.strftime("%Y%m%dT%H%M%S")


def _convention_key(cam: _Camera, local: datetime, ext: str = "jpg") -> str:
    return f"{cam.source}/{cam.camera_id}/{local:%Y-%m-%d}/{cam.camera_id}_{_stamp(local)}.{ext}"


# --------------------------------------------------------------------------------------------------
# The set


@dataclass
class _Builder:
    dest: Path
    now: datetime
    rng: random.Random
    uploads: list[tuple[datetime, int, Upload]] = field(default_factory=list)
    tail: list[Upload] = field(default_factory=list)  # uploaded last, in this order
    cycle: int = 0
    phashes: list[Any] = field(default_factory=list)

    def when(self, cam: _Camera, days_ago: int, hour: int) -> datetime:
        """A UTC instant ``days_ago`` local days before ``now`` at ``hour`` local, never after ``now``
        and never more than 14 days before it."""
        tz = ZoneInfo(cam.timezone)
        day = self.now.astimezone(tz).date() - timedelta(days=days_ago)
        local = datetime(
            day.year, day.month, day.day, hour, self.rng.randint(0, 59), self.rng.randint(0, 59), tzinfo=tz
        )
        utc = local.astimezone(UTC)
        if utc > self.now:
            utc -= timedelta(days=1)
        return max(utc, self.now - timedelta(days=WINDOW_DAYS) + timedelta(minutes=1))

    def classes(self) -> tuple[str, ...]:
        cls = _CLASS_CYCLE[self.cycle % len(_CLASS_CYCLE)]
        self.cycle += 1
        return cls

    def weather(self) -> str:
        return self.rng.choice(("clear", "clear", "overcast", "overcast", "rain", "fog", "snow"))

    def scene_rng(self) -> random.Random:
        return random.Random(self.rng.getrandbits(64))

    def scene(
        self,
        look: _Look,
        classes: tuple[str, ...],
        post: Callable[[PILImage.Image], PILImage.Image] | None = None,
    ) -> PILImage.Image:
        """A frame whose pHash is more than ``MIN_SCENE_DISTANCE`` bits from every earlier scene:
        a layout that happens to resemble an earlier one is re-drawn (deterministically), so the only
        near duplicate in the set is the one put there on purpose."""
        import imagehash

        for _ in range(8):
            img = _render(self.scene_rng(), look, classes)
            if post is not None:
                img = post(img)
            phash = imagehash.phash(img)
            if all(phash - other > MIN_SCENE_DISTANCE for other in self.phashes):
                break
        self.phashes.append(phash)
        return img

    def write(self, cell: str, key: str, data: bytes) -> Path:
        path = self.dest / cell / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def add(self, at: datetime, upload: Upload, *, tail: bool = False) -> None:
        if tail:
            self.tail.append(upload)
        else:
            self.uploads.append((at, len(self.uploads), upload))

    def sidecar(self, at: datetime, image: Upload, body: dict[str, Any], *, late: bool = False) -> None:
        key = image.key + ".json"
        data = (json.dumps(body, indent=2, sort_keys=True) + "\n").encode()
        up = Upload(
            path=self.write(image.cell, key, data),
            key=key,
            cell=image.cell,
            metadata={},
            content_type="application/json",
            note=(
                "late sidecar: completes the quarantined image, which is then re-evaluated"
                if late
                else f"sidecar of {image.key.rsplit('/', 1)[-1]}"
            ),
            wait_before=late,
            kind=SampleKind.late_sidecar if late else SampleKind.sidecar,
            related_key=image.key,
        )
        self.add(at - timedelta(seconds=1), up, tail=late)

    def frame(
        self,
        cam: _Camera,
        utc: datetime,
        classes: tuple[str, ...],
        weather: str,
        indoor: bool = False,
        post: Callable[[PILImage.Image], PILImage.Image] | None = None,
    ) -> PILImage.Image:
        local = cam.local(utc)
        daylight = daylight_at(local.hour + local.minute / 60)
        look = _Look(daylight=daylight, weather=weather, indoor=indoor, cast=cam.cast)
        return self.scene(look, classes, post)

    def image(
        self,
        at: datetime,
        cell: str,
        key: str,
        data: bytes,
        metadata: Mapping[str, str],
        note: str,
        kind: SampleKind = SampleKind.image,
        *,
        tail: bool = False,
        wait_before: bool = False,
        related_key: str | None = None,
        content_type: str = "image/jpeg",
    ) -> Upload:
        up = Upload(
            self.write(cell, key, data),
            key,
            cell,
            dict(metadata),
            content_type,
            note,
            wait_before,
            kind,
            related_key,
        )
        self.add(at, up, tail=tail)
        return up

    def ordered(self) -> list[Upload]:
        return [u for _, _, u in sorted(self.uploads, key=lambda t: (t[0], t[1]))] + self.tail


def _sidecar_body(
    cam: _Camera | None,
    local: datetime,
    classes: tuple[str, ...],
    weather: str,
    rng: random.Random,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "captured_at": local.isoformat(timespec="seconds"),
        "classes": list(classes),
        "weather": weather,
        "conditions": _WEATHER_CONDITIONS[weather] + (", floodlit" if daylight_at(local.hour) < 0.3 else ""),
        "operator": rng.choice(_OPERATORS),
    }
    if cam is not None:
        body["camera_id"] = cam.camera_id
    body.update(extra)
    return body


def _when_label(local: datetime) -> str:
    light = "night" if daylight_at(local.hour + local.minute / 60) < 0.2 else "day"
    return f"{local:%Y-%m-%d %H:%M} local, {light}"


def generate_samples(dest: Path, *, now: datetime | None = None, seed: int = 7) -> list[Upload]:
    """Write the demo sample set under ``dest/<cell>/<key>`` and return it in upload order.

    Deterministic for a given ``seed`` and ``now`` (default: the current time, to the second).
    Captures fall in the 14 days ending at ``now``; a naive ``now`` is taken as UTC.
    """
    from PIL import Image

    if now is None:
        now = datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    now = now.astimezone(UTC).replace(microsecond=0)
    dest = Path(dest)
    b = _Builder(dest=dest, now=now, rng=random.Random(seed))
    rng = b.rng

    # cam-01: one frame a day, around the clock. EXIF with offset (GPS on half), key-path convention,
    # classes in S3 metadata, a sidecar with weather on every third frame.
    cam = CAMERAS["cam-01"]
    hours: tuple[int, ...] = (7, 10, 13, 16, 19, 22, 2, 8, 11, 14, 17, 21, 5, 12)
    cam01: list[tuple[Upload, datetime, Image.Image, bytes]] = []
    for days_ago, hour in zip(range(WINDOW_DAYS - 1, -1, -1), hours, strict=True):
        utc = b.when(cam, days_ago, hour)
        local, classes, weather = cam.local(utc), b.classes(), b.weather()
        img = b.frame(cam, utc, classes, weather)
        exif = build_exif(
            local=local,
            make=cam.make,
            model=cam.model,
            serial=cam.serial,
            gps=cam.gps if days_ago % 2 == 0 else None,
        )
        data = _jpeg(img, cam.quality, exif)
        key = _convention_key(cam, local)
        with_sidecar = days_ago % 3 == 0
        up = b.image(
            utc,
            cam.cell,
            key,
            data,
            {"classes": ",".join(classes)},
            f"cam-01 live, {_when_label(local)}: EXIF with offset"
            + (" and GPS" if cam.gps and days_ago % 2 == 0 else "")
            + ", key-path convention"
            + (", weather in sidecar" if with_sidecar else ""),
        )
        if with_sidecar:
            b.sidecar(utc, up, _sidecar_body(cam, local, classes, weather, rng, scene="loading dock"))
        cam01.append((up, utc, img, data))

    # cam-02: S3 user metadata (camera-id, site, classes); EXIF time without offset (the registry's
    # time zone applies); sidecars with weather on every other frame.
    cam = CAMERAS["cam-02"]
    hours = (6, 9, 12, 15, 18, 23, 1, 10, 13, 16, 20, 8)
    cam02: list[tuple[Upload, datetime, Image.Image, bytes, PILImage.Exif]] = []
    for i, (days_ago, hour) in enumerate(
        zip(sorted(rng.sample(range(WINDOW_DAYS), 12), reverse=True), hours, strict=True)
    ):
        utc = b.when(cam, days_ago, hour)
        local, classes, weather = cam.local(utc), b.classes(), b.weather()
        img = b.frame(cam, utc, classes, weather)
        exif = build_exif(local=local, with_offset=False, make=cam.make, model=cam.model, serial=cam.serial)
        data = _jpeg(img, cam.quality, exif)
        key = f"{cam.source}/{cam.camera_id}/{local:%Y-%m-%d}/IMG_{2000 + 37 * i:05d}.jpg"
        meta = {"camera-id": cam.camera_id, "site": cam.site, "classes": ",".join(classes)}
        up = b.image(
            utc,
            cam.cell,
            key,
            data,
            meta,
            f"cam-02 live, {_when_label(local)}: S3 metadata, EXIF time without offset"
            + (", weather in sidecar" if i % 2 else ""),
        )
        if i % 2:
            b.sidecar(utc, up, _sidecar_body(cam, local, classes, weather, rng, scene="dock door"))
        cam02.append((up, utc, img, data, exif))

    # cam-03: archived footage, daytime only (a coverage gap the audit should report). Everything is
    # in sidecars; EXIF is absent or messy (a zeroed date, a 0,0 GPS fix).
    cam = CAMERAS["cam-03"]
    export = f"export-{now:%Y%m}"
    for i, days_ago in enumerate(sorted(rng.sample(range(WINDOW_DAYS), 10), reverse=True)):
        utc = b.when(cam, days_ago, rng.randint(8, 15))
        local, classes, weather = cam.local(utc), b.classes(), b.weather()
        img = b.frame(cam, utc, classes, weather)
        messy: PILImage.Exif | None = None
        note = f"cam-03 archive, {_when_label(local)}: metadata only in the sidecar"
        if i == 2:
            messy = build_exif(raw_datetime="0000:00:00 00:00:00", make=cam.make, model=cam.model)
            note += "; EXIF date 0000:00:00 (dropped with a note)"
        elif i == 5:
            messy = build_exif(local=local, make=cam.make, model=cam.model, gps=(0.0, 0.0))
            note += "; EXIF GPS 0,0 (discarded)"
        key = f"{cam.source}/{export}/clip{101 + i:04d}_f{rng.randint(1, 9000):05d}.jpg"
        up = b.image(utc, cam.cell, key, _jpeg(img, cam.quality, messy), {}, note)
        b.sidecar(utc, up, _sidecar_body(cam, local, classes, weather, rng, scene="yard"))

    # stage-01: staged edge cases indoors, S3 metadata + a sidecar naming the scene.
    cam = CAMERAS["stage-01"]
    for i, days_ago in enumerate(sorted(rng.sample(range(WINDOW_DAYS), 12), reverse=True)):
        utc = b.when(cam, days_ago, rng.randint(9, 17))
        local, classes = cam.local(utc), b.classes()
        img = b.frame(cam, utc, classes, "clear", indoor=True)
        staged = build_exif(local=local, make=cam.make, model=cam.model, serial=cam.serial) if i % 2 else None
        up = b.image(
            utc,
            cam.cell,
            _convention_key(cam, local),
            _jpeg(img, cam.quality, staged),
            {"camera-id": cam.camera_id, "classes": ",".join(classes)},
            f"stage-01 staged, {_when_label(local)}: S3 metadata + sidecar scene",
        )
        body = _sidecar_body(cam, local, classes, "clear", rng, scene=_STAGED_SCENES[i % len(_STAGED_SCENES)])
        body["weather"], body["conditions"] = "indoor", "studio lighting"
        b.sidecar(utc, up, body)

    # open-data: public images, varied sizes, captured time only (EXIF or sidecar), no camera id.
    sizes = ((640, 427), (500, 375), (640, 480), (480, 640), (612, 612), (640, 360), (427, 640))
    consumer = (("Canon", "Canon EOS 80D"), ("NIKON CORPORATION", "NIKON D7500"), ("Apple", "iPhone 12"))
    offsets = ("+02:00", "-04:00", "+09:00", "+00:00", "-07:00", "+05:30", "+01:00")
    for i, size in enumerate(sizes):
        off = offsets[i]
        tz = datetime.strptime(off.replace(":", ""), "%z").tzinfo
        day = (now - timedelta(days=rng.randint(1, WINDOW_DAYS - 1))).astimezone(tz).date()
        local = datetime.combine(day, datetime.min.time(), tz).replace(
            hour=rng.randint(8, 18), minute=rng.randint(0, 59), second=rng.randint(0, 59)
        )  # public photos are mostly taken by daylight
        utc = local.astimezone(UTC)
        cast = (rng.uniform(0.92, 1.08), rng.uniform(0.95, 1.05), rng.uniform(0.9, 1.1))
        classes = b.classes()
        look = _Look(daylight=daylight_at(local.hour), weather=b.weather(), cast=cast, size=size)
        img = b.scene(look, classes)
        key = f"open-data/coco-style/{rng.randint(10**11, 10**12 - 1):012d}.jpg"
        if i % 2 == 0:
            make, model = consumer[i % len(consumer)]
            exif = build_exif(
                local=local, make=make, model=model, gps=(rng.uniform(-50, 60), rng.uniform(-120, 140))
            )
            b.image(
                utc,
                "eu",
                key,
                _jpeg(img, 85, exif),
                {},
                f"open-data public {size[0]}x{size[1]}: EXIF time with offset, no camera id",
            )
        else:
            up = b.image(
                utc,
                "eu",
                key,
                _jpeg(img, 85),
                {},
                f"open-data public {size[0]}x{size[1]}: captured_at in sidecar, no camera id",
            )
            b.sidecar(
                utc,
                up,
                {
                    "captured_at": local.isoformat(timespec="seconds"),
                    "classes": list(classes),
                    "license": "CC BY 4.0",
                    "scene": "public background",
                },
            )

    # us-cam-01: a US yard, uploaded to the us cell; key convention + S3 metadata + EXIF with GPS.
    cam = CAMERAS["us-cam-01"]
    for days_ago, hour in zip((12, 10, 8, 5, 3, 1), (7, 12, 22, 15, 3, 18), strict=True):
        utc = b.when(cam, days_ago, hour)
        local, classes, weather = cam.local(utc), b.classes(), b.weather()
        img = b.frame(cam, utc, classes, weather)
        exif = build_exif(local=local, make=cam.make, model=cam.model, serial=cam.serial, gps=cam.gps)
        b.image(
            utc,
            "us",
            _convention_key(cam, local),
            _jpeg(img, cam.quality, exif),
            {"camera-id": cam.camera_id, "classes": ",".join(classes)},
            f"us-cam-01 live, {_when_label(local)}: us cell, EXIF with offset and GPS",
        )

    _add_edge_cases(b, cam01, cam02)
    return b.ordered()


def _add_edge_cases(b: _Builder, cam01: list[Any], cam02: list[Any]) -> None:
    from PIL import Image, ImageFilter

    rng, now = b.rng, b.now

    # A misrouted upload: a us-cam-01 frame landing in the eu bucket.
    cam = CAMERAS["us-cam-01"]
    utc = b.when(cam, 6, 10)
    local, classes, weather = cam.local(utc), b.classes(), b.weather()
    exif = build_exif(local=local, make=cam.make, model=cam.model, serial=cam.serial, gps=cam.gps)
    b.image(
        utc,
        "eu",
        _convention_key(cam, local),
        _jpeg(b.frame(cam, utc, classes, weather), cam.quality, exif),
        {"camera-id": cam.camera_id, "data_region": "us", "classes": ",".join(classes)},
        "misrouted: a us-cam-01 image uploaded to the eu landing bucket (data_region=us)",
        SampleKind.misrouted,
    )

    # Faces declared in the sidecar, no consent id.
    cam = CAMERAS["cam-02"]
    utc = b.when(cam, 4, 11)
    local, classes, weather = cam.local(utc), ("person", "pallet"), "overcast"
    exif = build_exif(local=local, with_offset=False, make=cam.make, model=cam.model, serial=cam.serial)
    up = b.image(
        utc,
        "eu",
        f"{cam.source}/{cam.camera_id}/{local:%Y-%m-%d}/IMG_09021.jpg",
        _jpeg(b.frame(cam, utc, classes, weather), cam.quality, exif),
        {"camera-id": cam.camera_id, "site": cam.site},
        "sidecar declares pii=[faces] and no consent id: quarantined consent_missing",
        SampleKind.pii_without_consent,
    )
    b.sidecar(utc, up, _sidecar_body(cam, local, classes, weather, rng, scene="dock door", pii=["faces"]))

    # The late sidecar: an image with no camera id or time anywhere, then its sidecar after the gate ran.
    cam = CAMERAS["cam-01"]
    utc = b.when(cam, 3, 15)
    local, classes, weather = cam.local(utc), b.classes(), b.weather()
    up = b.image(
        utc,
        "eu",
        "depot-live/inbox/IMG_4471.jpg",
        _jpeg(b.frame(cam, utc, classes, weather), 88),
        {},
        "no camera id or time until its sidecar arrives later: metadata_incomplete, then accepted",
        SampleKind.late_sidecar_image,
    )
    b.sidecar(utc, up, _sidecar_body(cam, local, classes, weather, rng, scene="loading dock"), late=True)

    # No metadata at all: no EXIF, no S3 metadata, no sidecar, a key without camera or date.
    utc = b.when(cam, 9, 11)
    b.image(
        utc,
        "eu",
        "depot-live/inbox/IMG_0193.jpg",
        _jpeg(b.frame(cam, utc, b.classes(), "clear"), 88),
        {},
        "no metadata anywhere (no EXIF, sidecar, S3 metadata, key convention): metadata_incomplete",
        SampleKind.no_metadata,
    )

    # A very blurry frame (focus lost) and a nearly black one (lens cap), both with full metadata.
    cam = CAMERAS["cam-02"]
    utc = b.when(cam, 7, 12)
    local, classes = cam.local(utc), b.classes()
    blurred = b.frame(cam, utc, classes, "clear", post=lambda im: im.filter(ImageFilter.GaussianBlur(16)))
    exif = build_exif(local=local, with_offset=False, make=cam.make, model=cam.model, serial=cam.serial)
    b.image(
        utc,
        "eu",
        _convention_key(cam, local),
        _jpeg(blurred, cam.quality, exif),
        {"camera-id": cam.camera_id, "classes": ",".join(classes)},
        "very blurry (focus lost): accepted with the blurry quality flag",
        SampleKind.blurry,
    )
    cam = CAMERAS["cam-01"]
    utc = b.when(cam, 2, 13)
    local = cam.local(utc)
    black = _black_frame(random.Random(rng.getrandbits(64)))
    exif = build_exif(local=local, make=cam.make, model=cam.model, serial=cam.serial)
    b.image(
        utc,
        "eu",
        _convention_key(cam, local),
        _jpeg(black, cam.quality, exif),
        {},
        "nearly black frame (lens cap) at midday: dark and low-information flags",
        SampleKind.black_frame,
    )

    # Bad bytes.
    _, utc0, _, data0 = cam01[4]
    local = cam.local(utc0 + timedelta(seconds=7))
    b.image(
        utc0 + timedelta(seconds=7),
        "eu",
        _convention_key(cam, local),
        data0[: int(len(data0) * 0.6)],
        {"classes": "pallet"},
        "truncated JPEG (cut at 60%): passes verify(), fails the full decode",
        SampleKind.truncated_jpeg,
    )
    cam = CAMERAS["cam-02"]
    utc = b.when(cam, 5, 9)
    local = cam.local(utc)
    b.image(
        utc,
        "eu",
        _convention_key(cam, local),
        b"",
        {"camera-id": cam.camera_id},
        "zero-byte .jpg (an interrupted upload)",
        SampleKind.empty_file,
    )
    cam = CAMERAS["stage-01"]
    utc = b.when(cam, 8, 14)
    local = cam.local(utc)
    gif = io.BytesIO()
    b.frame(cam, utc, ("pallet",), "clear", indoor=True).convert("P", palette=Image.Palette.ADAPTIVE).save(
        gif, "GIF"
    )
    b.image(
        utc,
        "eu",
        _convention_key(cam, local),
        gif.getvalue(),
        {"camera-id": cam.camera_id},
        "a GIF named .jpg: the format is sniffed from magic bytes, GIF is not allowed",
        SampleKind.gif_as_jpeg,
    )
    utc = now - timedelta(days=6, hours=3)
    small = io.BytesIO()
    look = _Look(daylight=0.9, size=(200, 150))
    b.scene(look, ("truck",)).save(small, "PNG")
    b.image(
        utc,
        "eu",
        "open-data/thumbnails/thumb_000042.png",
        small.getvalue(),
        {},
        "PNG of 200x150, below the 256x256 minimum",
        SampleKind.too_small_png,
        content_type="image/png",
    )
    cam = CAMERAS["cam-01"]
    utc = b.when(cam, 1, 10)
    local = cam.local(utc)
    text = f"shift log {local:%Y-%m-%d}\ncam-01 cleaned lens at 09:40\n".encode()
    b.image(
        utc,
        "eu",
        _convention_key(cam, local, "png"),
        text,
        {"camera-id": cam.camera_id},
        "a text file named .png: not an image",
        SampleKind.text_as_png,
        content_type="image/png",
    )

    # Last, after the gate has finished everything: the exact duplicate, then the near duplicate.
    orig, _, _, data = cam01[8]
    name = orig.key.rsplit("/", 1)
    b.image(
        now,
        "eu",
        f"{name[0]}/{name[1].removesuffix('.jpg')}_resend.jpg",
        data,
        dict(orig.metadata),
        "exact duplicate: the same bytes re-sent under another key",
        SampleKind.exact_duplicate,
        tail=True,
        wait_before=True,
        related_key=orig.key,
    )
    day_frames = [c for c in cam02 if daylight_at(CAMERAS["cam-02"].local(c[1]).hour) > 0.5]
    orig, _, img, _, exif = day_frames[len(day_frames) // 2]
    smaller = img.resize((int(img.width * 0.8), int(img.height * 0.8)), Image.Resampling.LANCZOS)
    b.image(
        now,
        "eu",
        orig.key.removesuffix(".jpg") + "_small.jpg",
        _jpeg(smaller, 70, exif),
        dict(orig.metadata),
        "near duplicate: the same frame resized to 0.8x and recompressed, same metadata",
        SampleKind.near_duplicate,
        tail=True,
        related_key=orig.key,
    )


def _black_frame(rng: random.Random) -> PILImage.Image:
    import numpy as np
    from PIL import Image

    noise = np.random.default_rng(rng.getrandbits(64)).normal(4.0, 1.5, (SIZE[1], SIZE[0], 1))
    arr = np.clip(np.repeat(noise, 3, axis=2), 0, 255).astype(np.uint8)
    return Image.fromarray(arr)
