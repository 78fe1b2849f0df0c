"""Crafted hostile files: what a broken camera, a careless partner or an attacker uploads.

Each entry names the file as it would be uploaded (extension and all) and the outcome the gate
must reach: the status and the first reason. Made in memory from real encoder output, then cut,
patched or glued; nothing binary is committed.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

from PIL import Image

from tests.images import encode, jpeg, scene


@dataclass(frozen=True)
class Hostile:
    name: str
    data: bytes
    status: str  # accepted | rejected
    reason: str | None = None  # the first refusal reason, when refused
    bomb: bool = False


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_bomb(width: int, height: int, rows: int = 64, bit_depth: int = 1, colour: int = 0) -> bytes:
    """A valid PNG header declaring width x height, with a real zlib stream of zero rows (only the
    first ``rows`` rows: the file stays tiny whatever it declares)."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    row = b"\0" + b"\0" * ((width * channels * bit_depth + 7) // 8)
    idat = zlib.compress(row * rows, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def jpeg_with_size(width: int, height: int) -> bytes:
    """A real JPEG whose SOF header is patched to declare another size (scan data unchanged)."""
    data = bytearray(jpeg(301, (320, 240)))
    i = 2
    while i < len(data):
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            data[i + 5 : i + 9] = struct.pack(">HH", height, width)
            return bytes(data)
        i += 2 + length
    raise AssertionError("no SOF marker")


def bmp_with_size(width: int, height: int, bpp: int = 24) -> bytes:
    """A BITMAPINFOHEADER declaring width x height with only a few bytes of pixels."""
    pixels = b"\0" * 1024
    header = struct.pack("<IiiHHIIiiII", 40, width, height, 1, bpp, 0, 0, 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40 + len(pixels), 0, 0, 14 + 40) + header + pixels


def jpeg_with_app1(payload_size: int) -> bytes:
    """A JPEG with an APP1 Exif segment filled to ``payload_size`` bytes (64 KB is the maximum)."""
    data = jpeg(302, (400, 300))
    ifd_count = 200
    entries = b"".join(
        struct.pack("<HHII", 0x9000 + i, 7, 4000, 8 + 2 + ifd_count * 12 + 4) for i in range(ifd_count)
    )
    tiff = b"II*\0" + struct.pack("<I", 8) + struct.pack("<H", ifd_count) + entries + b"\0\0\0\0"
    body = b"Exif\0\0" + tiff
    body += b"\xa5" * (payload_size - len(body))
    segment = b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
    return data[:2] + segment + data[2:]


def jpeg_with_icc(size: int) -> bytes:
    """A JPEG carrying an ICC profile of ``size`` bytes (split across many APP2 segments)."""
    profile = b"\0\0\0\0lcms" + b"\x11" * (size - 8)
    return encode(scene(303, (400, 300)), "JPEG", icc_profile=profile)


def png_with_icc_bomb() -> bytes:
    """A PNG whose iCCP chunk inflates far beyond Pillow's text/profile limit."""
    base = encode(scene(304, (300, 300)), "PNG")
    iccp = b"bomb\0\0" + zlib.compress(b"\0" * (64 * 1024 * 1024), 9)
    return base[:33] + _png_chunk(b"iCCP", iccp) + base[33:]


def _zip(name: str, payload: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, payload)
    return buf.getvalue()


def heif_signature() -> bytes:
    return struct.pack(">I", 24) + b"ftypheic" + b"\0\0\0\0" + b"mif1heic" + b"\0" * 200


def crafted() -> list[Hostile]:
    good_jpeg = jpeg(305, (640, 480))
    progressive = encode(scene(306, (640, 480)), "JPEG", progressive=True, quality=85)
    png = encode(scene(307, (400, 300)), "PNG")
    bmp = encode(scene(308, (300, 300)), "BMP")
    rgba_png = encode(scene(309, (300, 300)).convert("RGBA"), "PNG")
    la_png = encode(scene(310, (300, 300)).convert("LA"), "PNG")  # greyscale + alpha
    eps = (
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 300 300\n/x { (pwned) print } def x\nshowpage\n%%EOF\n"
    )
    dos_eps = b"\xc5\xd0\xd3\xc6" + struct.pack("<IIIIII", 30, len(eps), 0, 0, 0, 0) + b"\xff\xff" + eps

    def fmt(img: Image.Image, name: str, **kw) -> bytes:
        return encode(img, name, **kw)

    s = scene(311, (300, 300))
    files = [
        Hostile("zero-byte.jpg", b"", "rejected", "empty_object"),
        Hostile("one-byte.jpg", b"\xff", "rejected", "unknown_format"),
        Hostile("soi-only.jpg", b"\xff\xd8\xff", "rejected", "corrupt_image"),
        # truncated, in every allowed format
        Hostile("trunc-10.jpg", good_jpeg[: len(good_jpeg) // 10], "rejected", "truncated_image"),
        Hostile("trunc-50.jpg", good_jpeg[: len(good_jpeg) // 2], "rejected", "truncated_image"),
        Hostile("trunc-99.jpg", good_jpeg[:-200], "rejected", "truncated_image"),
        Hostile("trunc-header.jpg", good_jpeg[:300], "rejected", "corrupt_image"),
        Hostile("trunc-progressive.jpg", progressive[: len(progressive) // 2], "rejected", "truncated_image"),
        Hostile("trunc-idat.png", png[: len(png) // 2], "rejected", "truncated_image"),
        Hostile("trunc-ihdr.png", png[:20], "rejected", "corrupt_image"),
        Hostile("trunc-pixels.bmp", bmp[: len(bmp) // 2], "rejected", "truncated_image"),
        Hostile("trunc-header.bmp", bmp[:30], "rejected", "corrupt_image"),
        # decompression bombs: huge declared sizes, small on disk
        Hostile("bomb-65500.jpg", jpeg_with_size(65500, 65500), "rejected", "decompression_bomb", bomb=True),
        Hostile("bomb-20000.jpg", jpeg_with_size(20000, 20000), "rejected", "decompression_bomb", bomb=True),
        Hostile("bomb-1x-wide.jpg", jpeg_with_size(65535, 4000), "rejected", "decompression_bomb", bomb=True),
        Hostile("bomb-100k.png", png_bomb(100_000, 100_000), "rejected", "decompression_bomb", bomb=True),
        Hostile(
            "bomb-zlib.png",
            png_bomb(30_000, 30_000, rows=30_000),
            "rejected",
            "decompression_bomb",
            bomb=True,
        ),
        Hostile(
            "bomb-rgba.png",
            png_bomb(12_000, 12_000, bit_depth=8, colour=6),
            "rejected",
            "decompression_bomb",
            bomb=True,
        ),
        Hostile("bomb-50000.bmp", bmp_with_size(50_000, 50_000), "rejected", "decompression_bomb", bomb=True),
        Hostile(
            "bomb-topdown.bmp", bmp_with_size(40_000, -40_000), "rejected", "decompression_bomb", bomb=True
        ),
        Hostile(
            "bomb-wide.bmp",
            bmp_with_size(2_000_000, 100, bpp=32),
            "rejected",
            "decompression_bomb",
            bomb=True,
        ),
        # huge metadata blocks on otherwise valid images
        Hostile("exif-64k.jpg", jpeg_with_app1(65_500), "accepted"),
        Hostile("icc-1mb.jpg", jpeg_with_icc(1_000_000), "accepted"),
        Hostile("icc-bomb.png", png_with_icc_bomb(), "rejected", "corrupt_image"),
        # wrong extensions: decided by content, never by name
        Hostile("really-a-png.jpg", png, "accepted"),
        Hostile("really-a-jpeg.png", good_jpeg, "accepted"),
        Hostile("really-a-bmp.jpeg", bmp, "accepted"),
        Hostile("no-extension", rgba_png, "accepted"),
        Hostile("grey-alpha.png", la_png, "accepted"),
        Hostile("tiff.jpg", fmt(s, "TIFF"), "rejected", "format_not_allowed"),
        Hostile("gif.jpg", fmt(s, "GIF"), "rejected", "format_not_allowed"),
        Hostile("webp.jpg", fmt(s, "WEBP"), "rejected", "format_not_allowed"),
        Hostile("heif.jpg", heif_signature(), "rejected", "format_not_allowed"),
        Hostile("eps.jpg", eps, "rejected", "format_not_allowed"),
        Hostile("dos-eps.jpg", dos_eps, "rejected", "format_not_allowed"),
        Hostile("pdf.jpg", b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n", "rejected", "format_not_allowed"),
        Hostile("ico.jpg", fmt(scene(312, (100, 100)), "ICO"), "rejected", "format_not_allowed"),
        Hostile(
            "svg.jpg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "rejected",
            "unknown_format",
        ),
        Hostile("html.jpg", b"<!doctype html><html><body>hello</body></html>", "rejected", "unknown_format"),
        Hostile("zip.jpg", _zip("a.txt", b"hello"), "rejected", "unknown_format"),
        Hostile("elf.jpg", b"\x7fELF\x02\x01\x01" + b"\0" * 400, "rejected", "unknown_format"),
        # polyglots: an image that is also something else
        # (its own picture: the same pixels as another upload would make it a near duplicate)
        Hostile("jpeg-zip.jpg", jpeg(311, (640, 480)) + _zip("payload.txt", b"x" * 1000), "accepted"),
        Hostile(
            "gifar.jpg",
            fmt(s, "GIF") + _zip("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
            "rejected",
            "format_not_allowed",
        ),
        Hostile(
            "png-html.png",
            encode(scene(312, (400, 300)), "PNG") + b"<html><script>alert(1)</script></html>",
            "accepted",
        ),
        Hostile("zip-jpeg.jpg", _zip("x.jpg", good_jpeg), "rejected", "unknown_format"),
        Hostile(
            "jpeg-header-garbage.jpg",
            good_jpeg[:600] + b"\x7fELF" + b"\xa5" * 20_000,
            "rejected",
            "corrupt_image",
        ),
        # small and odd
        Hostile("tiny.png", encode(Image.new("RGB", (1, 1), "red"), "PNG"), "rejected", "too_small"),
        Hostile("zero-width.bmp", bmp_with_size(0, 300), "rejected", "corrupt_image"),
    ]
    return files
