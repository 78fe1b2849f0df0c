import contextlib
import io

import pytest
from PIL import Image

from lenslog.config import Policy
from lenslog.domain.decode import WORKING_SIDE, DecodeRefused, check_size, decode, sniff
from lenslog.domain.models import Reason
from tests.images import encode, jpeg, scene

LIMITS = dict(formats=("JPEG", "PNG", "BMP"), max_pixels=120_000_000, min_width=256, min_height=256)


def refusal_of(data: bytes, **overrides) -> Reason:
    with pytest.raises(DecodeRefused) as info:
        decode(data, **{**LIMITS, **overrides})
    return info.value.refusal.reason


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("JPEG", "JPEG"), ("PNG", "PNG"), ("BMP", "BMP"), ("GIF", "GIF"), ("TIFF", "TIFF"), ("WEBP", "WEBP")],
)
def test_sniff_names_the_format_from_magic_bytes(fmt, expected):
    assert sniff(encode(scene(1, (300, 300)), fmt)[:32]) == expected


def test_sniff_recognises_dangerous_and_foreign_signatures():
    assert sniff(b"%!PS-Adobe-3.0 EPSF-3.0\n") == "EPS"
    assert sniff(b"\xc5\xd0\xd3\xc6" + b"\0" * 28) == "EPS"
    assert sniff(b"%PDF-1.7\n") == "PDF"
    assert sniff(b"\x00\x00\x00\x18ftypheic" + b"\0" * 20) == "HEIF"
    assert sniff(b"\x00\x00\x00\x1cftypavif" + b"\0" * 20) == "AVIF"
    assert sniff(b"hello world, not an image") is None
    assert sniff(b"BM" + b"\0" * 30) is None  # "BM" alone is not a bitmap header


def test_size_is_checked_before_anything_is_decoded():
    assert check_size(0, 10).reason is Reason.empty_object
    assert check_size(11, 10).reason is Reason.too_large
    assert check_size(10, 10) is None


@pytest.mark.parametrize("fmt", ["GIF", "TIFF", "WEBP"])
def test_disguised_formats_are_refused_by_content_not_extension(fmt):
    assert refusal_of(encode(scene(2, (300, 300)), fmt)) is Reason.format_not_allowed


def test_eps_is_never_opened():
    data = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 300 300\nshowpage\n"
    assert refusal_of(data) is Reason.format_not_allowed
    with pytest.raises(ValueError):
        Policy(formats=("JPEG", "EPS"))  # no configuration can allow it


def test_text_renamed_to_png_is_unknown_format():
    assert refusal_of(b"just some text pretending to be a png") is Reason.unknown_format


def test_truncated_jpeg_is_caught_by_the_full_decode():
    data = jpeg(3, (800, 600))
    assert refusal_of(data[: len(data) * 6 // 10]) is Reason.truncated_image


def test_truncated_png_is_refused():
    data = encode(scene(3, (400, 400)), "PNG")
    assert refusal_of(data[: len(data) // 2]) in (Reason.truncated_image, Reason.corrupt_image)


def test_garbage_after_a_jpeg_signature_is_corrupt():
    assert refusal_of(b"\xff\xd8\xff\xe0" + b"\x13" * 400) is Reason.corrupt_image


def test_decompression_bomb_is_refused_from_the_header_alone():
    # A 20000x20000 PNG of one colour compresses to a few hundred KB; its header says 400 MP.
    data = encode(Image.new("L", (20000, 20000)), "PNG")
    assert len(data) < 1_000_000
    assert refusal_of(data) is Reason.decompression_bomb


def test_too_small_is_refused_with_its_dimensions():
    with pytest.raises(DecodeRefused) as info:
        decode(jpeg(1, (200, 150)), **LIMITS)
    assert info.value.refusal.reason is Reason.too_small
    assert info.value.size == (200, 150)
    assert "200x150" in info.value.refusal.detail


def test_jpeg_is_drafted_to_a_small_working_copy_but_keeps_its_real_size():
    d = decode(jpeg(4, (2400, 1800)), **LIMITS)
    assert (d.width, d.height) == (2400, 1800)
    assert max(d.working.size) <= WORKING_SIDE
    assert d.working.mode == "RGB"


def test_cmyk_jpeg_decodes_to_rgb():
    data = encode(scene(5, (400, 300)).convert("CMYK"), "JPEG")
    d = decode(data, **LIMITS)
    assert d.mode == "CMYK" and d.working.mode == "RGB"


def test_16_bit_png_is_scaled_not_clipped():
    img = Image.new("I;16", (300, 300))
    img.putdata([40000] * (300 * 300))
    d = decode(encode(img, "PNG"), **LIMITS)
    r, g, b = d.working.getpixel((10, 10))
    assert 150 < r < 160 and r == g == b  # 40000/65535*255 = 155.6


@pytest.mark.parametrize("mode", ["P", "RGBA", "LA", "L", "1"])
def test_palette_alpha_and_grey_pngs_decode(mode):
    img = scene(6, (300, 300)).convert(mode)
    if mode == "P":
        img.info["transparency"] = 0
    d = decode(encode(img, "PNG"), **LIMITS)
    assert d.working.mode == "RGB"


def test_bmp_decodes():
    d = decode(encode(scene(7, (320, 260)), "BMP"), **LIMITS)
    assert (d.format, d.width, d.height) == ("BMP", 320, 260)


def test_exif_orientation_is_applied_to_the_working_copy():
    img = scene(8, (600, 300))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    d = decode(encode(img, "JPEG", exif=exif), **LIMITS)
    assert d.orientation == 6
    assert d.working.size[0] < d.working.size[1]  # portrait once upright
    assert (d.width, d.height) == (600, 300)  # the stored size, as in the file


def test_nonsense_orientation_is_ignored():
    exif = Image.Exif()
    exif[0x0112] = 42
    d = decode(encode(scene(9, (600, 300)), "JPEG", exif=exif), **LIMITS)
    assert d.orientation is None and d.working.size[0] > d.working.size[1]


def test_same_bytes_same_working_copy():
    data = jpeg(10, (1600, 1200))
    a, b = decode(data, **LIMITS), decode(data, **LIMITS)
    assert a.working.tobytes() == b.working.tobytes()


def test_zero_bytes_are_unknown_format_for_decode():
    assert refusal_of(b"") is Reason.unknown_format


def test_decode_refuses_rather_than_raising_on_random_bytes():
    import random

    rng = random.Random(1)
    for _ in range(50):
        head = rng.choice([b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"BM" + (40).to_bytes(4, "little") * 4])
        data = head + bytes(rng.randrange(256) for _ in range(rng.randint(0, 600)))
        with contextlib.suppress(DecodeRefused):
            decode(data, **LIMITS)


def test_reading_does_not_need_a_file_name():
    buf = io.BytesIO(jpeg(11))
    assert decode(buf.getvalue(), **LIMITS).format == "JPEG"
