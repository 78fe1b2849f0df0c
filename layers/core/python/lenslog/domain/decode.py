"""Size, format and decode: the first, cheapest refusals of the gate.

Order matters for cost and safety: the byte limit before anything is read, the format from magic
bytes (never the extension), Pillow opened with an explicit allow-list (EPS, which runs
Ghostscript, can never be opened), the pixel count from the header before any pixel is allocated,
then a full decode: ``verify()`` misses truncated JPEGs, ``load()`` does not.

JPEGs are decoded in draft mode (libjpeg's DCT scaling to 1/2..1/8): every entropy-coded byte is
still read, so truncation is still caught, but the IDCT and the pixel buffer shrink 4-64x. The
draft is asked for the smallest scale whose *longest* side still reaches ``WORKING_SIDE``
(:func:`draft_request`; Pillow's own choice looks at both sides, which decodes a 6000x4000 photo
at 1/4 where 1/8 suffices, and a panorama at 1/2). PNG and BMP have no such mode and are decoded
in full, then reduced. The gate works on that one reduced, EXIF-oriented RGB copy (``working``),
always produced the same way, so the same bytes always give the same quality figures and the same
perceptual hash.
"""

from __future__ import annotations

import io
import math
import struct
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lenslog.domain.models import Reason, Refusal

if TYPE_CHECKING:
    from PIL import Image

WORKING_SIDE = 512  # longest side of the working copy


def draft_request(width: int, height: int) -> tuple[int, int]:
    """The size to pass to ``Image.draft`` so that libjpeg picks the smallest DCT scale (1/1..1/8)
    at which the longest side is still at least ``WORKING_SIDE``: the request has the image's own
    aspect ratio, so Pillow's per-side test (``side // requested``) agrees on both sides."""
    if width >= height:
        return WORKING_SIDE, max(1, height * WORKING_SIDE // width)
    return max(1, width * WORKING_SIDE // height), WORKING_SIDE


def thumbnail_size(width: int, height: int, side: int = WORKING_SIDE) -> tuple[int, int]:
    """The size ``Image.thumbnail((side, side))`` gives, aspect ratio kept (same rounding)."""
    if width <= side and height <= side:
        return width, height
    aspect = width / height
    if aspect <= 1:
        y, x = (
            side,
            max(
                min(
                    math.floor(side * aspect), math.ceil(side * aspect), key=lambda n: abs(aspect - n / side)
                ),
                1,
            ),
        )
        return x, y
    y = max(
        min(
            math.floor(side / aspect),
            math.ceil(side / aspect),
            key=lambda n: 0 if n == 0 else abs(aspect - side / n),
        ),
        1,
    )
    return side, y


def sniff(head: bytes) -> str | None:
    """The image format named by the leading bytes, whatever the file is called."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"BM") and len(head) >= 18:
        dib = int.from_bytes(head[14:18], "little")
        if dib in (12, 16, 40, 52, 56, 64, 108, 124):
            return "BMP"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "AVIF"
        if brand in (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis"):
            return "HEIF"
        return "ISOBMFF"
    if head.startswith(b"%!PS") or head.startswith(b"\xc5\xd0\xd3\xc6"):
        return "EPS"
    if head.startswith(b"%PDF"):
        return "PDF"
    if head.startswith(b"8BPS"):
        return "PSD"
    if head.startswith(b"\x00\x00\x01\x00"):
        return "ICO"
    if head.startswith(b"\xff\x4f\xff\x51") or head.startswith(b"\x00\x00\x00\x0cjP  "):
        return "JPEG2000"
    if head.startswith(b"qoif"):
        return "QOI"
    if head.startswith(b"DDS "):
        return "DDS"
    return None


@dataclass
class Decoded:
    """A decoded image: its header facts and the reduced, oriented RGB working copy."""

    format: str
    width: int
    height: int
    mode: str
    original: Image.Image  # the opened file (header, EXIF); its pixels are not kept
    working: Image.Image  # RGB, EXIF-oriented, longest side <= WORKING_SIDE
    orientation: int | None


class DecodeRefused(Exception):
    def __init__(self, refusal: Refusal, fmt: str | None = None, size: tuple[int, int] | None = None):
        super().__init__(refusal.detail)
        self.refusal = refusal
        self.format = fmt
        self.size = size


def _refuse(reason: Reason, detail: str, fmt: str | None = None, size: tuple[int, int] | None = None):
    return DecodeRefused(Refusal(reason=reason, detail=detail), fmt, size)


def check_size(nbytes: int, max_bytes: int) -> Refusal | None:
    if nbytes == 0:
        return Refusal(reason=Reason.empty_object, detail="0 bytes")
    if nbytes > max_bytes:
        return Refusal(reason=Reason.too_large, detail=f"{nbytes} bytes > limit {max_bytes}")
    return None


def _to_rgb(img: Image.Image) -> Image.Image:
    """Any decoded mode to 8-bit RGB; 16-bit and 32-bit grey are scaled, not clipped."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        import numpy as np
        from PIL import Image

        arr = np.asarray(img, dtype=np.float64)
        hi = float(arr.max()) if arr.size else 0.0
        scale = 255.0 / (65535.0 if hi > 255 else 255.0)
        grey = Image.fromarray(np.clip(arr * scale, 0, 255).astype(np.uint8), "L")
        return grey.convert("RGB")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    return img.convert("RGB")


def decode(
    data: bytes, *, formats: tuple[str, ...], max_pixels: int, min_width: int, min_height: int
) -> Decoded:
    """Open and fully decode allowed image bytes, or raise DecodeRefused with a reason."""
    from PIL import Image, UnidentifiedImageError

    fmt = sniff(data[:32])
    if fmt is None:
        raise _refuse(Reason.unknown_format, "no known image signature in the first bytes")
    if fmt not in formats:
        raise _refuse(Reason.format_not_allowed, f"{fmt} is not in {', '.join(formats)}", fmt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DecompressionBombWarning: our own limit decides
        try:
            img = Image.open(io.BytesIO(data), formats=[fmt])
        except Image.DecompressionBombError as exc:
            raise _refuse(Reason.decompression_bomb, str(exc), fmt) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error) as exc:
            raise _refuse(Reason.corrupt_image, f"{fmt} header unreadable: {exc}", fmt) from exc
        width, height = img.size
        if width * height > max_pixels:
            raise _refuse(
                Reason.decompression_bomb,
                f"{width}x{height} = {width * height} pixels > limit {max_pixels}",
                fmt,
                (width, height),
            )
        if width < min_width or height < min_height:
            raise _refuse(
                Reason.too_small, f"{width}x{height} < minimum {min_width}x{min_height}", fmt, (width, height)
            )
        mode = img.mode
        try:
            if fmt == "JPEG":
                img.draft("RGB", draft_request(width, height))
            img.load()
        except Image.DecompressionBombError as exc:
            raise _refuse(Reason.decompression_bomb, str(exc), fmt, (width, height)) from exc
        except OSError as exc:
            text = str(exc)
            reason = Reason.truncated_image if "truncated" in text.lower() else Reason.corrupt_image
            raise _refuse(reason, f"{fmt} decode failed: {text}", fmt, (width, height)) from exc
        except (SyntaxError, ValueError, EOFError, MemoryError, struct.error) as exc:
            raise _refuse(Reason.corrupt_image, f"{fmt} decode failed: {exc}", fmt, (width, height)) from exc
        try:
            working = _to_rgb(img)
            if max(working.size) > WORKING_SIDE:
                # thumbnail()'s size, without its copy of the decoded image; an area average (box)
                # is the right filter to shrink by less than 2x and costs half a bilinear filter
                working = working.resize(
                    thumbnail_size(*working.size), Image.Resampling.BOX, reducing_gap=2.0
                )
            orientation = _orientation(img)
            if orientation and orientation != 1:
                working = working.transpose(Image.Transpose(_TRANSPOSE[orientation]))
        except (OSError, ValueError, SyntaxError) as exc:
            raise _refuse(
                Reason.corrupt_image, f"{fmt} conversion failed: {exc}", fmt, (width, height)
            ) from exc
    return Decoded(
        format=fmt,
        width=width,
        height=height,
        mode=mode,
        original=img,
        working=working,
        orientation=orientation,
    )


# EXIF orientation -> the transpose that displays the image upright (as ImageOps.exif_transpose)
_TRANSPOSE = {2: 0, 3: 3, 4: 1, 5: 5, 6: 4, 7: 6, 8: 2}  # Image.Transpose values


def _orientation(img: Image.Image) -> int | None:
    try:
        value = img.getexif().get(0x0112)
    except Exception:
        return None
    return value if isinstance(value, int) and 1 <= value <= 8 else None
