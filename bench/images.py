"""The benchmark's image set: generated camera-like photos, figures, and a few awkward files.

Photos are 8-24 MP JPEGs with camera EXIF (make, model, DateTimeOriginal, GPS, orientation). A
photo's byte size, not only its pixel count, sets its decode cost (the entropy decoder reads every
byte), so the generator adds sensor-like grain and mid-scale texture on top of a plausible scene:
the files come out at 0.25-0.3 bytes per pixel at quality 90, as phone and DSLR JPEGs do.
The set is generated once into a cache folder (``bench/.cache/images``) and reused.
"""

from __future__ import annotations

import io
import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

GENERATOR_VERSION = 3
CACHE = Path(__file__).resolve().parent / ".cache" / "images"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}


@dataclass(frozen=True)
class Item:
    name: str
    kind: str  # photo | figure | awkward
    expect: tuple[str, ...] = ()  # what a quality check should say about it (dark, blurry, ...)

    @property
    def path(self) -> Path:
        return CACHE / self.name


def photo(seed: int, size: tuple[int, int], brightness: float = 1.0):
    """A camera-like RGB photo: a scene upscaled from quarter size, plus texture and grain."""
    import numpy as np
    from PIL import Image

    from tests.images import scene

    w, h = size
    base = scene(seed, (w // 4, h // 4), brightness=brightness).resize(size, Image.Resampling.BICUBIC)
    rng = np.random.default_rng(seed)
    texture = rng.standard_normal((h // 2, w // 2), dtype=np.float32) * 10 + 128
    texture_img = Image.fromarray(np.clip(texture, 0, 255).astype(np.uint8), "L")
    texture_full = np.asarray(texture_img.resize(size, Image.Resampling.BILINEAR), dtype=np.int16) - 128
    grain = rng.integers(-6, 7, size=(h, w), dtype=np.int16)
    arr = np.asarray(base, dtype=np.int16) + (texture_full + grain)[..., None]
    if brightness < 0.5:
        arr = arr * brightness
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def camera_exif(seed: int, orientation: int = 1) -> bytes:
    from PIL import Image

    rng = random.Random(seed)
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS R6"
    exif[0x0112] = orientation
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = f"2026:03:{1 + seed % 28:02d} {8 + seed % 10:02d}:{rng.randint(0, 59):02d}:00"
    ifd[0x9011] = "+01:00"
    ifd[0xA431] = f"0331{seed:04d}"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (52.0, 31.0, 12.5)
    gps[3], gps[4] = "E", (13.0, 24.0, 3.2)
    return exif.tobytes()


def _save(img, item: Item, **kwargs) -> None:
    buf = io.BytesIO()
    fmt = {".jpg": "JPEG", ".png": "PNG", ".bmp": "BMP"}[item.path.suffix]
    img.save(buf, fmt, **kwargs)
    item.path.write_bytes(buf.getvalue())


def built_in() -> list[Item]:
    """Generate (once) and list the built-in set."""
    from PIL import Image, ImageDraw, ImageFilter

    CACHE.mkdir(parents=True, exist_ok=True)
    stamp = CACHE / "manifest.json"
    if stamp.is_file():
        manifest = json.loads(stamp.read_text())
        if manifest.get("version") == GENERATOR_VERSION:
            return [Item(m["name"], m["kind"], tuple(m["expect"])) for m in manifest["items"]]
    for old in CACHE.iterdir():
        old.unlink()

    items: list[Item] = []

    def jpeg(name: str, img, seed: int, expect: tuple[str, ...] = (), orientation: int = 1) -> None:
        item = Item(name, "photo", expect)
        _save(img, item, quality=90, exif=camera_exif(seed, orientation))
        items.append(item)

    sizes = {
        "08mp": (3264, 2448),
        "10mp": (3648, 2736),
        "12mp": (4000, 3000),
        "16mp": (4608, 3456),
        "20mp": (5472, 3648),
        "24mp": (6000, 4000),
    }
    for i, (label, size) in enumerate(sizes.items()):
        jpeg(f"photo-{label}.jpg", photo(10 + i, size), 10 + i)
    jpeg("photo-12mp-portrait.jpg", photo(20, (4000, 3000)), 20, orientation=6)
    jpeg("photo-12mp-dark.jpg", photo(21, (4000, 3000), brightness=0.12), 21, ("dark",))
    jpeg("photo-12mp-grey.jpg", photo(22, (4000, 3000)).convert("L").convert("RGB"), 22, ("grayscale",))
    blurry = photo(23, (4000, 3000)).resize((500, 375)).filter(ImageFilter.GaussianBlur(3))
    jpeg("photo-12mp-blurry.jpg", blurry.resize((4000, 3000), Image.Resampling.BICUBIC), 23, ("blurry",))
    jpeg("photo-12mp-panorama.jpg", photo(24, (8000, 1500)), 24, ("odd_aspect_ratio",))
    blank = Image.new("RGB", (4000, 3000), (128, 128, 126))
    jpeg("photo-12mp-blank.jpg", blank, 25, ("low_information", "grayscale"))
    # an exact duplicate and a near duplicate (re-encoded at another quality and size)
    (CACHE / "photo-10mp-copy.jpg").write_bytes((CACHE / "photo-10mp.jpg").read_bytes())
    items.append(Item("photo-10mp-copy.jpg", "photo", ("exact_duplicate",)))
    with Image.open(CACHE / "photo-12mp.jpg") as src:
        near = src.convert("RGB").resize((3264, 2448), Image.Resampling.LANCZOS)
    jpeg("photo-12mp-resaved.jpg", near, 12, ("near_duplicate",))

    def figure(seed: int, size: tuple[int, int]):
        rng = random.Random(seed)
        img = Image.new("RGB", size, "white")
        draw = ImageDraw.Draw(img)
        w, h = size
        for x in range(0, w, w // 20):
            draw.line([(x, 0), (x, h)], fill=(225, 225, 225))
        for _ in range(6):
            pts = [(x, int(h / 2 + rng.uniform(-0.4, 0.4) * h)) for x in range(0, w, w // 40)]
            draw.line(pts, fill=tuple(rng.randint(0, 200) for _ in range(3)), width=4)
        return img

    for name, size in (("figure-4mp.png", (2400, 1600)), ("figure-2mp.png", (1600, 1200))):
        item = Item(name, "figure")
        _save(figure(len(items), size), item)
        items.append(item)
    item = Item("figure-3mp.bmp", "figure")
    _save(figure(99, (2048, 1536)), item)
    items.append(item)
    item = Item("photo-6mp.bmp", "photo")
    _save(photo(30, (3000, 2000)), item)
    items.append(item)
    # greyscale with alpha (mode LA): CleanVision's run stops on it
    item = Item("scan-grey-alpha.png", "awkward", ("grayscale",))
    la = photo(31, (1600, 1200)).convert("L")
    _save(Image.merge("LA", (la, Image.new("L", la.size, 255))), item)
    items.append(item)

    stamp.write_text(
        json.dumps({"version": GENERATOR_VERSION, "items": [asdict(i) for i in items]}, indent=1)
    )
    return items


def from_folder(folder: Path) -> list[Item]:
    """The user's own images (any layout), as photos and figures by extension."""
    found = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    return [_External(str(p), "photo" if p.suffix.lower() in (".jpg", ".jpeg") else "figure") for p in found]


@dataclass(frozen=True)
class _External(Item):
    @property
    def path(self) -> Path:
        return Path(self.name)
