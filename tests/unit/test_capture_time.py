"""Capture time as real cameras write it: a naive wall clock, sometimes an offset tag, sometimes GPS
stamps, zeroed or blank dates, sub-seconds. Every photo with a clock gets a capture time; the rule
that placed it in time is recorded; an assumed zone is flagged, never refused."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import ExifTags, Image

from lenslog.config import Config, parse_config
from lenslog.domain import capture_time as ct
from lenslog.domain.exif import ExifFields, find_exif_block, read_exif_bytes
from lenslog.domain.metadata import MetadataInputs, missing_required, normalise
from lenslog.domain.models import ImageMetadata
from tests.images import camera_jpeg

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

CONFIG: Config = parse_config(
    {
        "cells": {
            "eu": {"region": "eu-central-1", "timezone": "Europe/Berlin"},
            "us": {"region": "us-east-1", "timezone": "America/New_York"},
        },
        "sources": {
            "fleet": {"source_type": "production_live", "timezone": "Asia/Tokyo"},
            "zoneless": {"source_type": "production_live"},
        },
        "cameras": {
            "cam-tz": {"source": "fleet", "timezone": "America/Chicago"},
            "cam-src": {"source": "fleet"},
            "cam-none": {"source": "zoneless"},
            "cam-placed": {"source": "zoneless", "lat": 52.5, "lon": 13.4},
        },
    }
)


def run(
    exif: ExifFields | None = None, key: str = "up/img.jpg", sidecar=None, cell: str = "eu"
) -> ImageMetadata:
    inputs = MetadataInputs(key=key, sidecar=sidecar, s3_metadata={}, exif=exif or ExifFields(), cell=cell)
    return normalise(inputs, CONFIG, now=NOW)


def meta_of(data: bytes, **kw) -> ImageMetadata:
    return run(read_exif_bytes(data), **kw)


# --- the order of the rules ------------------------------------------------------------------------


def test_an_offset_tag_makes_the_clock_an_instant():
    meta = meta_of(camera_jpeg(offset="+02:00"))
    assert meta.captured_at == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    assert (meta.captured_local, meta.timezone, meta.time_rule) == (
        "2026-07-01T12:00:00",
        "+02:00",
        "exif_offset",
    )


def test_offset_time_digitized_serves_when_offset_time_original_is_absent():
    fields = read_exif_bytes(camera_jpeg(digitized_offset="-05:00"))
    assert (fields.offset, fields.offset_tag) == ("-05:00", "OffsetTimeDigitized")
    assert run(fields).captured_at == datetime(2026, 7, 1, 17, 0, tzinfo=UTC)


def test_gps_stamps_give_the_offset_when_no_tag_does():
    # A phone in London in summer: the clock says 18:18:05, GPS (UTC) 17:17:58, a fix 7 s older.
    data = camera_jpeg("2016:09:28 18:18:05", gps=(53.38, -1.46), gps_stamp=("2016:09:28", (17, 17, 58)))
    meta = meta_of(data)
    assert meta.time_rule == "gps_time"
    assert meta.captured_at == datetime(2016, 9, 28, 17, 18, 5, tzinfo=UTC)  # the camera's seconds
    assert meta.captured_local == "2016-09-28T18:18:05"
    assert meta.timezone == "Europe/London"  # the zone at the position agrees with the offset
    assert meta.provenance["captured_at"] == "exif" and meta.timezone_assumed is None


def test_when_the_camera_clock_and_gps_time_disagree_by_whole_hours_gps_time_decides_the_instant():
    # Spain in May is UTC+2, but this camera's clock runs at UTC+1 (never set to summer time):
    # 11:48:48 on the clock, 10:47:24 GPS. The instant follows GPS time (the satellites' clock);
    # the wall clock is the camera's as written; the disagreement is noted.
    data = camera_jpeg("2006:05:26 11:48:48", gps=(42.03, -0.51), gps_stamp=("2006:05:26", (10, 47, 24)))
    meta = meta_of(data)
    assert meta.time_rule == "gps_time"
    assert meta.captured_at == datetime(2006, 5, 26, 10, 48, 48, tzinfo=UTC)
    assert (meta.captured_local, meta.timezone) == ("2006-05-26T11:48:48", "+01:00")
    assert any("Europe/Madrid" in n and "GPS time win" in n for n in meta.notes)


def test_gps_stamps_more_than_fourteen_hours_off_are_a_stale_fix_and_the_position_zone_serves():
    data = camera_jpeg("2026:07:01 12:00:00", gps=(52.52, 13.40), gps_stamp=("2026:06:29", (9, 0, 0)))
    meta = meta_of(data)
    assert meta.time_rule == "gps_zone" and meta.timezone == "Europe/Berlin"
    assert meta.captured_at == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    assert any("not a zone offset" in n for n in meta.notes)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("2026:07:01 12:00:00", datetime(2026, 7, 1, 19, 0, tzinfo=UTC)),  # Arizona keeps MST in summer
        ("2026:01:15 12:00:00", datetime(2026, 1, 15, 19, 0, tzinfo=UTC)),
    ],
)
def test_the_zone_at_the_gps_position_places_a_naive_clock(when, expected):
    meta = meta_of(camera_jpeg(when, gps=(33.45, -112.07)), cell="eu")  # an iPhone in Phoenix
    assert (meta.time_rule, meta.timezone, meta.captured_at) == ("gps_zone", "America/Phoenix", expected)


@pytest.mark.parametrize(("when", "hour_utc"), [("2026:07:01 12:00:00", 10), ("2026:01:15 12:00:00", 11)])
def test_daylight_saving_time_at_the_position_is_right_for_the_date(when, hour_utc):
    meta = meta_of(camera_jpeg(when, gps=(52.52, 13.40)))
    assert meta.captured_at is not None and meta.captured_at.hour == hour_utc


def test_a_stated_zone_beats_gps():
    meta = meta_of(camera_jpeg(gps=(52.52, 13.40)), sidecar={"timezone": "Asia/Tokyo"})
    assert (meta.time_rule, meta.timezone) == ("stated_zone", "Asia/Tokyo")
    assert meta.captured_at == datetime(2026, 7, 1, 3, 0, tzinfo=UTC)


def test_gps_zone_beats_the_registered_camera_zone():
    meta = meta_of(camera_jpeg(gps=(52.52, 13.40)), key="cam-tz/a.jpg")
    assert (meta.time_rule, meta.timezone) == ("gps_zone", "Europe/Berlin")


def test_the_camera_zone_then_the_source_zone_then_the_cell_zone():
    assert meta_of(camera_jpeg(), key="cam-tz/a.jpg").time_rule == "camera_zone"
    by_source = meta_of(camera_jpeg(), key="cam-src/a.jpg")
    assert (by_source.time_rule, by_source.timezone) == ("source_zone", "Asia/Tokyo")
    by_cell = meta_of(camera_jpeg(), key="cam-none/a.jpg", cell="us")
    assert (by_cell.time_rule, by_cell.timezone, by_cell.timezone_assumed) == (
        "cell_zone_assumed",
        "America/New_York",
        True,
    )
    assert by_cell.captured_at == datetime(2026, 7, 1, 16, 0, tzinfo=UTC)


def test_a_registered_cameras_position_is_not_gps_evidence():
    meta = meta_of(camera_jpeg(), key="cam-placed/a.jpg", cell="us")
    assert meta.time_rule == "cell_zone_assumed"  # the registry's position, not the photo's


def test_an_assumed_zone_is_a_flag_and_a_note_never_a_missing_time():
    meta = meta_of(camera_jpeg())
    assert meta.time_rule == "cell_zone_assumed" and meta.timezone_assumed is True
    assert any(n.startswith(ct.NOTE_TIMEZONE_ASSUMED) for n in meta.notes)
    assert missing_required(meta, ["camera_id", "captured_at"]) == []  # camera derived from make/model


# --- messy clocks ----------------------------------------------------------------------------------


def test_sub_second_tags_are_kept():
    meta = meta_of(camera_jpeg("2026:07:01 12:00:00", offset="+02:00", subsec="047"))
    assert meta.captured_at == datetime(2026, 7, 1, 10, 0, 0, 47000, tzinfo=UTC)
    assert meta.captured_local == "2026-07-01T12:00:00.047000"


def test_a_fraction_written_into_the_date_is_the_sub_second():
    fields = read_exif_bytes(camera_jpeg("2026:07:01 12:00:00.25"))
    assert fields.subsec == "25"
    assert run(fields, key="cam-tz/a.jpg").captured_at == datetime(2026, 7, 1, 17, 0, 0, 250000, tzinfo=UTC)


def test_an_offset_written_into_the_date_is_used():
    fields = read_exif_bytes(camera_jpeg("2026:07:01 12:00:00+09:00"))
    assert (fields.offset, fields.offset_tag) == ("+09:00", "DateTimeOriginal")
    assert run(fields).captured_at == datetime(2026, 7, 1, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize("when", ["0000:00:00 00:00:00", "    :  :     :  :  ", ""])
def test_zeroed_and_blank_dates_give_no_time_and_only_then_is_the_time_missing(when):
    meta = meta_of(camera_jpeg(when))
    assert meta.captured_at is None and meta.time_rule is None
    assert missing_required(meta, ["captured_at"]) == ["captured_at"]
    assert meta.make == "Canon"


def test_gps_stamps_alone_are_no_capture_clock():
    meta = meta_of(camera_jpeg(None, gps_stamp=("2026:07:01", (10, 0, 0))))
    assert meta.captured_at is None


# --- reading the EXIF block without opening the image ---------------------------------------------


def test_the_exif_block_is_found_in_a_jpeg_prefix_without_decoding():
    data = camera_jpeg(offset="+02:00", size=(2000, 1500))
    block = find_exif_block(data[:4096])
    assert block is not None and block.startswith(b"Exif\0\0")
    fields = read_exif_bytes(data[:4096])
    assert (fields.make, fields.datetime_original, fields.offset) == (
        "Canon",
        "2026:07:01 12:00:00",
        "+02:00",
    )


def test_the_exif_block_of_a_png_is_found():
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "DJI", "FC3170"
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG", exif=exif)
    assert (read_exif_bytes(buf.getvalue()).make, read_exif_bytes(buf.getvalue()).model) == ("DJI", "FC3170")


@pytest.mark.parametrize("cut", [0, 3, 20, 40, 120, 200])
def test_a_block_cut_short_never_raises(cut):
    fields = read_exif_bytes(camera_jpeg(gps=(1.0, 2.0), gps_stamp=("2026:07:01", (1, 2, 3)))[:cut])
    assert isinstance(fields, ExifFields)


def test_no_exif_gives_empty_fields():
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "BMP")
    assert read_exif_bytes(buf.getvalue()) == ExifFields()


@pytest.mark.parametrize("compressed", [False, True])
def test_a_png_raw_exif_profile_as_imagemagick_writes_it_is_read(compressed):
    from PIL.PngImagePlugin import PngInfo

    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "NIKON CORPORATION", "NIKON D70"
    block = b"Exif\0\0" + exif.tobytes()
    hexed = block.hex()
    text = (
        "\nexif\n"
        + f"{len(block):8d}\n"
        + "\n".join(hexed[i : i + 72] for i in range(0, len(hexed), 72))
        + "\n"
    )
    info = PngInfo()
    info.add_text("Raw profile type exif", text, zip=compressed)
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG", pnginfo=info)
    fields = read_exif_bytes(buf.getvalue())
    assert (fields.make, fields.model) == ("NIKON CORPORATION", "NIKON D70")


def _chunk(kind: bytes, body: bytes) -> bytes:
    import struct
    import zlib

    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_a_decompression_bomb_keeps_its_camera_without_a_pixel_being_decoded(monkeypatch):
    import struct

    from lenslog.config import load_config
    from lenslog.domain import gate

    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "DJI", "FC3170"
    exif.get_ifd(ExifTags.IFD.Exif)[0x9003] = "2026:07:01 12:00:00"
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0))
        + _chunk(b"eXIf", exif.tobytes())
        + _chunk(b"IEND", b"")
    )

    def no_decode(self, *args, **kwargs):
        raise AssertionError("a refused image must not be decoded")

    monkeypatch.setattr(Image.Image, "load", no_decode)
    ins = gate.inspect(gate.GateInput(key="up/bomb.png", data=bomb, cell="eu"), load_config())
    assert [str(r.reason) for r in ins.refusals] == ["decompression_bomb"]
    assert (ins.metadata.make, ins.metadata.camera_id) == ("DJI", "exif-dji-fc3170")
    assert ins.metadata.captured_local == "2026-07-01T12:00:00"
