"""The gate over photos real cameras wrote (tests/data/camera, see its README): with no metadata
but the file's own, each one carries its camera and capture time, accepted or refused."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lenslog.config import load_config
from lenslog.domain import gate
from lenslog.domain.exif import parse_exif_datetime

FOLDER = Path(__file__).resolve().parents[1] / "data" / "camera"

# file: (make, model, local capture time, verdict reasons, time rule)
EXPECTED = {
    "pillow-flower.jpg": ("Canon", "Canon PowerShot S40", "2003-12-14T12:01:44", [], "cell_zone_assumed"),
    "pillow-iptc.jpg": ("Nokia", "N70-1", "2006-07-08T21:14:45", [], "cell_zone_assumed"),
    "pillow-ultrahdr.jpg": ("Google", "Pixel 6", "2024-05-07T09:33:04", ["truncated_image"], "exif_offset"),
    "pillow-frame_size.mpo": (
        "Apple",
        "iPhone 14 Pro Max",
        "2025-09-07T14:16:43",
        ["too_small"],
        "exif_offset",
    ),
    "pillow-ignore_frame_size.mpo": (
        "SAMSUNG",
        "NX1000",
        "2020-08-09T14:21:05",
        ["too_small"],
        "cell_zone_assumed",
    ),
    "pillow-broken_exif_dpi.jpg": (
        "NIKON CORPORATION",
        "NIKON D800",
        "2013-09-11T16:45:13",
        ["too_small"],
        "cell_zone_assumed",
    ),
    "pillow-empty_gps_ifd.jpg": (
        "Xiaomi",
        "Redmi Note 9S",
        "2020-07-27T14:46:48",
        ["too_small"],
        "cell_zone_assumed",
    ),
    "piexif-r_canon.jpg": (
        "Canon",
        "Canon PowerShot G1 X Mark II",
        "2013-12-17T14:04:24",
        ["too_small"],
        None,
    ),
    "piexif-r_pana.jpg": ("Panasonic", "DMC-L10", "2007-09-15T13:15:57", ["too_small"], None),
    "piexif-r_sigma.jpg": ("SIGMA", "SIGMA DP3 Merrill", "2012-12-28T15:25:17", ["too_small"], None),
    "piexif-r_sony.jpg": ("SONY", "DSC-RX1R", "2013-04-13T10:22:18", ["too_small"], None),
}


def inspect(name: str) -> gate.Inspection:
    config = load_config()
    return gate.inspect(
        gate.GateInput(key=f"uploads/{name}", data=(FOLDER / name).read_bytes(), cell="eu"), config
    )


def test_the_committed_set_is_small_and_documented():
    files = sorted(p.name for p in FOLDER.iterdir() if p.suffix != ".md")
    assert files == sorted(EXPECTED)
    assert sum((FOLDER / f).stat().st_size for f in files) < 400_000
    readme = (FOLDER / "README.md").read_text(encoding="utf-8")
    assert all(f"`{f}`" in readme for f in files) and "MIT-CMU" in readme and "MIT License" in readme


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_real_camera_photo_carries_its_camera_and_time_with_no_metadata_given(name):
    make, model, local, reasons, rule = EXPECTED[name]
    ins = inspect(name)
    md = ins.metadata
    assert [str(r.reason) for r in ins.refusals] == reasons  # never metadata_incomplete, never a region
    assert (md.make, md.model, (md.captured_local or "")[:19]) == (make, model, local)
    assert md.camera_id and md.camera_id.startswith("exif-") and md.provenance["camera_id"] == "derived"
    assert md.captured_at is not None and md.provenance["captured_at"] == "exif"
    if rule is not None:
        assert md.time_rule == rule
    if md.time_rule == "cell_zone_assumed":
        assert md.timezone_assumed is True and md.timezone == load_config().cells["eu"].timezone


def test_offsets_and_gps_of_real_phones_give_their_utc_time_and_position():
    pixel = inspect("pillow-ultrahdr.jpg").metadata
    assert pixel.captured_at == datetime(2024, 5, 7, 1, 33, 4, 46000, tzinfo=UTC)  # +08:00, .046 s
    assert (round(pixel.lat or 0, 5), round(pixel.lon or 0, 5)) == (30.62765, 119.73877)
    iphone = inspect("pillow-frame_size.mpo").metadata
    assert iphone.captured_at == datetime(2025, 9, 7, 18, 16, 43, 472000, tzinfo=UTC)  # -04:00
    assert iphone.timezone == "-04:00"


@pytest.mark.skipif(
    shutil.which("exiftool") is None, reason="exiftool is not installed (libimage-exiftool-perl)"
)
def test_the_gate_reads_what_exiftool_reads():
    names = sorted(EXPECTED)
    out = subprocess.run(
        ["exiftool", "-json", "-n", "-G1", "-q", "-q", *(str(FOLDER / n) for n in names)],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    for row in json.loads(out):
        name = Path(row["SourceFile"]).name
        md = inspect(name).metadata
        assert (md.make, md.model) == (row["IFD0:Make"], row["IFD0:Model"]), name
        taken = parse_exif_datetime(str(row["ExifIFD:DateTimeOriginal"]))
        assert taken is not None and md.captured_local is not None
        assert datetime.fromisoformat(md.captured_local).replace(microsecond=0) == taken, name
        offset = row.get("ExifIFD:OffsetTimeOriginal")
        if offset:
            sign = -1 if offset[0] == "-" else 1
            delta = sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
            assert md.captured_at is not None
            assert md.captured_at.replace(microsecond=0) == (taken - delta).replace(tzinfo=UTC), name
        if "Composite:GPSLatitude" in row:
            assert md.lat == pytest.approx(row["Composite:GPSLatitude"], abs=1e-6), name
            assert md.lon == pytest.approx(row["Composite:GPSLongitude"], abs=1e-6), name
