"""read_exif: the fields the gate trusts, and every messy case dropped with a note, never raised."""

from __future__ import annotations

import io
import struct
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational

from lenslog.domain.exif import ExifFields, parse_exif_datetime, read_exif
from tests.corpus import pillow_test_images

# --- a tiny big-endian TIFF/EXIF writer, so that tests control every byte ------------------------

ASCII, SHORT, LONG, RATIONAL, UNDEFINED = 2, 3, 4, 5, 7


def ascii_(tag: int, raw: bytes) -> tuple[int, int, int, bytes]:
    return (tag, ASCII, len(raw), raw)


def short(tag: int, value: int) -> tuple[int, int, int, bytes]:
    return (tag, SHORT, 1, struct.pack(">H", value))


def rationals(tag: int, *pairs: tuple[int, int]) -> tuple[int, int, int, bytes]:
    return (tag, RATIONAL, len(pairs), b"".join(struct.pack(">II", n, d) for n, d in pairs))


def undefined(tag: int, raw: bytes) -> tuple[int, int, int, bytes]:
    return (tag, UNDEFINED, len(raw), raw)


def _ifd(entries: list[tuple[int, int, int, bytes]], start: int) -> bytes:
    entries = sorted(entries)
    data_start = start + 2 + 12 * len(entries) + 4
    head, data = struct.pack(">H", len(entries)), b""
    for tag, typ, count, payload in entries:
        if len(payload) <= 4:
            head += struct.pack(">HHI", tag, typ, count) + payload.ljust(4, b"\0")
        else:
            head += struct.pack(">HHII", tag, typ, count, data_start + len(data))
            data += payload + (b"\0" if len(payload) % 2 else b"")
    return head + b"\0\0\0\0" + data


def exif_block(ifd0=(), exif=None, gps=None, exif_offset=None, gps_offset=None) -> bytes:
    """``Exif\\0\\0`` + a TIFF with IFD0 and optional Exif and GPS sub-IFDs (offsets overridable)."""

    def build(exif_at: int, gps_at: int) -> bytes:
        entries = list(ifd0)
        if exif is not None:
            entries.append((0x8769, LONG, 1, struct.pack(">I", exif_offset if exif_offset else exif_at)))
        if gps is not None:
            entries.append((0x8825, LONG, 1, struct.pack(">I", gps_offset if gps_offset else gps_at)))
        return _ifd(entries, 8)

    first = build(0, 0)
    exif_at = 8 + len(first)
    exif_bytes = _ifd(list(exif), exif_at) if exif is not None else b""
    gps_at = exif_at + len(exif_bytes)
    gps_bytes = _ifd(list(gps), gps_at) if gps is not None else b""
    return b"Exif\0\0MM\0*\0\0\0\x08" + build(exif_at, gps_at) + exif_bytes + gps_bytes


def jpeg_with(exif: bytes | Image.Exif) -> Image.Image:
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (90, 120, 150)).save(buf, "JPEG", exif=exif)
    buf.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about the corrupt blocks these tests build
        return Image.open(buf)


def read(**parts) -> ExifFields:
    return read_exif(jpeg_with(exif_block(**parts)))


def dropped(fields: ExifFields, name: str) -> list[str]:
    return [n for n in fields.notes if n.startswith(f"exif.{name} ")]


def gps(lat_ref=b"N\0", lat=((52, 1), (30, 1), (0, 1)), lon_ref=b"E\0", lon=((13, 1), (24, 1), (36, 1))):
    entries = []
    if lat_ref is not None:
        entries.append(ascii_(1, lat_ref))
    if lat is not None:
        entries.append(rationals(2, *lat))
    if lon_ref is not None:
        entries.append(ascii_(3, lon_ref))
    if lon is not None:
        entries.append(rationals(4, *lon))
    return entries


# --- the normal path, written by Pillow itself ---------------------------------------------------


def test_reads_every_field_from_a_camera_jpeg_written_by_pillow():
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS 5D"
    exif[0x0112] = 6
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[0x9003] = "2026:11:20 14:30:05"
    sub[0x9011] = "+01:00"
    sub[0x9291] = "25"
    sub[0xA431] = "1234"
    gps_ifd = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps_ifd[1], gps_ifd[3] = "S", "W"
    gps_ifd[2] = (IFDRational(33, 1), IFDRational(52, 1), IFDRational(3600, 100))
    gps_ifd[4] = (IFDRational(151, 1), IFDRational(12, 1), IFDRational(0, 1))

    fields = read_exif(jpeg_with(exif))

    assert (fields.make, fields.model, fields.serial) == ("Canon", "Canon EOS 5D", "1234")
    assert (fields.datetime_original, fields.offset, fields.subsec) == ("2026:11:20 14:30:05", "+01:00", "25")
    assert fields.lat == pytest.approx(-(33 + 52 / 60 + 36 / 3600))
    assert fields.lon == pytest.approx(-(151 + 12 / 60))
    assert fields.orientation == 6
    assert fields.notes == ()


def test_an_image_without_exif_gives_empty_fields_and_no_notes():
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG")
    assert read_exif(Image.open(buf)) == ExifFields()


# --- dates ----------------------------------------------------------------------------------------


def test_zero_date_is_dropped_with_a_note_and_the_digitized_date_used():
    fields = read(exif=[ascii_(0x9003, b"0000:00:00 00:00:00\0"), ascii_(0x9004, b"2021:05:06 07:08:09\0")])
    assert fields.datetime_original == "2021:05:06 07:08:09"
    assert "exif.DateTimeOriginal dropped: '0000:00:00 00:00:00' is not a date" in fields.notes


def test_blank_date_is_dropped_with_a_note():
    fields = read(exif=[ascii_(0x9003, b"    :  :     :  :  \0")])
    assert fields.datetime_original is None
    assert dropped(fields, "DateTimeOriginal")


def test_impossible_date_is_dropped_with_a_note():
    fields = read(exif=[ascii_(0x9003, b"2017:08:21 15:08:70\0")])
    assert fields.datetime_original is None
    assert dropped(fields, "DateTimeOriginal")


def test_ifd0_datetime_is_the_last_resort():
    fields = read(ifd0=[ascii_(0x0132, b"2019:01:02 03:04:05\0")], exif=[ascii_(0x9010, b"-05:00\0")])
    assert (fields.datetime_original, fields.offset) == ("2019:01:02 03:04:05", "-05:00")


def test_invalid_offset_is_dropped_but_the_date_kept():
    fields = read(exif=[ascii_(0x9003, b"2021:05:06 07:08:09\0"), ascii_(0x9011, b"+25:00\0")])
    assert fields.datetime_original == "2021:05:06 07:08:09"
    assert fields.offset is None
    assert dropped(fields, "OffsetTimeOriginal")


def test_parse_exif_datetime_accepts_real_dates_only():
    assert parse_exif_datetime("2026:11:20 14:30:05").isoformat() == "2026-11-20T14:30:05"
    assert parse_exif_datetime("2026-11-20 14:30:05") is not None
    for bad in ("0000:00:00 00:00:00", "    :  :     :  :  ", "2026:02:30 10:00:00", "yesterday", ""):
        assert parse_exif_datetime(bad) is None


# --- text -----------------------------------------------------------------------------------------


def test_nul_padding_and_runs_of_spaces_are_cleaned_from_text():
    fields = read(
        ifd0=[ascii_(0x010F, b"  NIKON   CORPORATION  \0\0\0"), ascii_(0x0110, b"D800\0garbage")],
        exif=[undefined(0xA431, b"0042\0\0\0\0")],
    )
    assert (fields.make, fields.model, fields.serial) == ("NIKON CORPORATION", "D800", "0042")


def test_undecodable_text_is_dropped_with_a_note():
    fields = read(ifd0=[ascii_(0x010F, b"Can\x8con\0"), ascii_(0x0110, b"EOS\0")])
    assert fields.make is None
    assert fields.model == "EOS"
    assert dropped(fields, "Make")


def test_utf8_text_survives_pillows_latin1_decoding():
    fields = read(ifd0=[ascii_(0x010F, "Ōlympus Ü".encode() + b"\0")])
    assert fields.make == "Ōlympus Ü"


def test_blank_text_is_absent_without_a_note():
    fields = read(ifd0=[ascii_(0x010F, b"      \0"), ascii_(0x0110, b"\0\0\0\0\0\0")])
    assert (fields.make, fields.model, fields.notes) == (None, None, ())


def test_control_characters_drop_the_field():
    fields = read(ifd0=[ascii_(0x0110, b"EOS\x07\x1b[2J\0")])
    assert fields.model is None
    assert dropped(fields, "Model")


def test_serial_falls_back_to_the_dng_camera_serial_number():
    fields = read(ifd0=[ascii_(0xC62F, b"SN-77\0")], exif=[])
    assert fields.serial == "SN-77"


# --- corrupt structure ---------------------------------------------------------------------------


def test_exif_ifd_offset_pointing_past_the_end_never_raises():
    fields = read(
        ifd0=[ascii_(0x010F, b"Canon\0")],
        exif=[ascii_(0x9003, b"2021:05:06 07:08:09\0")],
        exif_offset=0xFFFF0,
    )
    assert fields.make == "Canon"
    assert fields.datetime_original is None


def test_gps_ifd_offset_pointing_past_the_end_never_raises():
    fields = read(ifd0=[ascii_(0x010F, b"Canon\0")], gps=gps(), gps_offset=0x7FFFFFF0)
    assert fields.make == "Canon"
    assert fields.lat is None and fields.lon is None


def test_tag_data_offset_past_the_end_is_reported_not_raised():
    block = bytearray(exif_block(ifd0=[ascii_(0x010F, b"Canon EOS\0"), ascii_(0x0110, b"R5 Mark II\0")]))
    # IFD0 entry 0 (Make) data offset sits at TIFF 8 + 2 + 8; point it far away
    struct.pack_into(">I", block, 6 + 8 + 2 + 8, 0xFFFFFF)
    fields = read_exif(jpeg_with(bytes(block)))
    assert fields.make is None  # Pillow gives up on the rest of IFD0 too
    assert any(n.startswith("exif.IFD0") for n in fields.notes)


def test_truncated_exif_block_never_raises():
    whole = exif_block(ifd0=[ascii_(0x010F, b"Canon\0")], exif=[ascii_(0x9003, b"2021:05:06 07:08:09\0")])
    for cut in range(6, len(whole), 7):
        read_exif(jpeg_with(whole[:cut]))


def test_garbage_after_the_exif_header_never_raises():
    fields = read_exif(jpeg_with(b"Exif\0\0" + b"\xff" * 40))
    assert fields.make is None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=12))
def test_randomly_corrupted_exif_never_raises(flips):
    block = bytearray(
        exif_block(
            ifd0=[ascii_(0x010F, b"Canon\0"), short(0x0112, 3)],
            exif=[ascii_(0x9003, b"2021:05:06 07:08:09\0"), ascii_(0x9011, b"+02:00\0")],
            gps=gps(),
        )
    )
    for position, value in flips:
        block[6 + position % (len(block) - 6)] = value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        image = jpeg_with(bytes(block))
    fields = read_exif(image)
    assert fields.orientation in (None, *range(1, 9))
    assert fields.lat is None or -90 <= fields.lat <= 90


# --- GPS -------------------------------------------------------------------------------------------


def test_gps_degrees_minutes_seconds_become_decimal_degrees():
    fields = read(gps=gps())
    assert fields.lat == pytest.approx(52.5)
    assert fields.lon == pytest.approx(13 + 24 / 60 + 36 / 3600)


def test_south_and_west_references_make_negative_degrees():
    fields = read(gps=gps(lat_ref=b"S\0", lon_ref=b"W\0"))
    assert fields.lat == pytest.approx(-52.5)
    assert fields.lon < 0


def test_lowercase_references_are_accepted():
    fields = read(gps=gps(lat_ref=b"s\0", lon_ref=b"e\0"))
    assert fields.lat == pytest.approx(-52.5)
    assert fields.lon > 0


def test_missing_reference_drops_the_position_with_a_note():
    fields = read(gps=gps(lat_ref=None))
    assert (fields.lat, fields.lon) == (None, None)
    assert dropped(fields, "GPSLatitude")


def test_zero_denominator_drops_the_position_with_a_note():
    fields = read(gps=gps(lat=((52, 1), (30, 0), (0, 1))))
    assert (fields.lat, fields.lon) == (None, None)
    assert dropped(fields, "GPSLatitude")


def test_zero_gps_is_dropped_as_null_island():
    zero = ((0, 1), (0, 1), (0, 1))
    fields = read(gps=gps(lat=zero, lon=zero))
    assert (fields.lat, fields.lon) == (None, None)
    assert any("null island" in n for n in fields.notes)


def test_out_of_range_latitude_is_dropped_with_a_note():
    fields = read(gps=gps(lat=((95, 1), (0, 1), (0, 1))))
    assert (fields.lat, fields.lon) == (None, None)
    assert any("out of range" in n for n in dropped(fields, "GPSLatitude"))


def test_minutes_of_sixty_or_more_are_dropped():
    fields = read(gps=gps(lon=((13, 1), (75, 1), (0, 1))))
    assert (fields.lat, fields.lon) == (None, None)
    assert dropped(fields, "GPSLongitude")


def test_an_empty_gps_ifd_is_absent_without_a_note():
    fields = read(gps=[])
    assert (fields.lat, fields.lon, fields.notes) == (None, None, ())


# --- orientation -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 9, 65535])
def test_orientation_outside_1_to_8_is_dropped_with_a_note(value):
    fields = read(ifd0=[short(0x0112, value)])
    assert fields.orientation is None
    assert dropped(fields, "Orientation")


def test_orientation_in_range_is_kept():
    assert read(ifd0=[short(0x0112, 8)]).orientation == 8


# --- the real-world corpus: Pillow's own test images ----------------------------------------------

# Facts checked by hand against the raw tags of these files.
KNOWN = {
    "flower.jpg": {
        "make": "Canon",
        "model": "Canon PowerShot S40",
        "datetime_original": "2003:12:14 12:01:44",
    },
    "ultrahdr.jpg": {"make": "Google", "model": "Pixel 6", "offset": "+08:00", "lat": 30.62765},
    "ifd_tag_type.tiff": {"make": "FLIR", "serial": "278290", "lat": 35.5999986, "lon": -111.6618272},
    "xmp_test.jpg": {"serial": "022070029137", "datetime_original": "2018:10:27 13:27:23"},
    "exif_gps.jpg": {"lat": None, "lon": None},  # GPS without references: dropped
    "tiff_16bit_RGB.tiff": {"datetime_original": None},  # '2017:08:21 15:08:70'
    "pport_g4.tif": {"make": None, "model": "Photosmart Plus B210 series"},  # Make is b'\x8c'
}


def _raw_text(image: Image.Image, tag: int, ifd: int | None = None) -> str | None:
    """The tag as Pillow decodes it, when it is plain printable ASCII (the oracle's easy cases)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exif = image.getexif()
            value = (exif.get_ifd(ifd) if ifd else exif).get(tag)
    except Exception:
        return None
    if not isinstance(value, str) or not value.isascii() or not value.strip():
        return None
    value = value.split("\0", 1)[0]
    return " ".join(value.split()) if value.isprintable() and value.strip() else None


@pytest.mark.slow
def test_read_exif_over_every_jpeg_and_tiff_of_pillows_test_images():
    folder = pillow_test_images()
    if folder is None:
        pytest.skip("Pillow's test images could not be downloaded")
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".tif", ".tiff"))
    assert len(paths) > 100
    rows, opened = [], 0
    for path in paths:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                image = Image.open(path)
        except Exception:
            continue  # not an image Pillow opens: the gate rejects it before EXIF
        opened += 1
        fields = read_exif(image)  # must not raise
        for name, expected in KNOWN.get(path.name, {}).items():
            actual = getattr(fields, name)
            assert actual == (pytest.approx(expected) if isinstance(expected, float) else expected), (
                path.name,
                name,
            )
        for attr, tag, ifd in (("make", 0x010F, None), ("model", 0x0110, None)):
            raw = _raw_text(image, tag, ifd)
            if raw is not None:
                assert getattr(fields, attr) == raw, (path.name, attr)
        raw_date = _raw_text(image, 0x9003, ExifTags.IFD.Exif)
        if raw_date is not None and parse_exif_datetime(raw_date) is not None:
            assert fields.datetime_original == raw_date, path.name
        if any((fields.make, fields.model, fields.datetime_original, fields.lat, fields.notes)):
            rows.append(
                f"{path.name[:34]:<34} {fields.make or '-':<18.18} {fields.model or '-':<22.22} "
                f"{fields.datetime_original or '-':<19} "
                f"{f'{fields.lat:.4f},{fields.lon:.4f}' if fields.lat is not None else '-':<20} "
                f"{len(fields.notes)} notes"
            )
    assert opened > 100
    assert set(KNOWN) <= {p.name for p in paths}
    print(f"\nread_exif over {opened} of {len(paths)} files of {Path(folder).name}:")
    print("\n".join(rows))
