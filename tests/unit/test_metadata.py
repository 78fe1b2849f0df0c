"""normalise: precedence sidecar > S3 metadata > registry > EXIF > key path, every field's provenance,
every dropped value explained, never an exception."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lenslog.config import Config, parse_config
from lenslog.domain.exif import ExifFields
from lenslog.domain.metadata import NOTE_TIMEZONE_ASSUMED, MetadataInputs, missing_required, normalise
from lenslog.domain.models import ImageMetadata

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

CONFIG: Config = parse_config(
    {
        "cells": {"eu": {"region": "eu-central-1"}, "us": {"region": "us-east-1"}},
        "sources": {
            "depot-live": {"source_type": "production_live", "cell": "eu"},
            "studio": {"source_type": "staged"},
            "us-yards": {"source_type": "production_live", "cell": "us"},
        },
        "cameras": {
            "cam-01": {
                "source": "depot-live",
                "timezone": "Europe/Berlin",
                "site": "berlin-dock",
                "make": "Axis",
                "model": "P1468-LE",
                "lat": 52.5,
                "lon": 13.4,
            },
            "stage-01": {"source": "studio", "timezone": "Europe/Berlin", "cell": "us"},
            "us-cam-01": {"source": "us-yards", "timezone": "America/Chicago"},
            "serial-cam": {"source": "studio", "timezone": "Asia/Tokyo", "make": "Canon", "serial": "SN-42"},
        },
    }
)


def run(
    key: str = "upload/img.jpg",
    sidecar=None,
    s3=None,
    exif: ExifFields | None = None,
    sidecar_error: str | None = None,
    now: datetime = NOW,
) -> ImageMetadata:
    inputs = MetadataInputs(
        key=key, sidecar=sidecar, s3_metadata=s3 or {}, exif=exif or ExifFields(), sidecar_error=sidecar_error
    )
    return normalise(inputs, CONFIG, now=now)


def noted(meta: ImageMetadata, *words: str) -> bool:
    return any(all(w in n for w in words) for n in meta.notes)


# --- precedence -----------------------------------------------------------------------------------


def test_each_source_beats_every_lower_one():
    exif = ExifFields(model="from-exif")
    key = "camera_id=cam-01/model=from-key/img.jpg"  # cam-01 is registered with model P1468-LE
    everything = run(key=key, sidecar={"model": "from-sidecar"}, s3={"model": "from-s3"}, exif=exif)
    no_sidecar = run(key=key, s3={"model": "from-s3"}, exif=exif)
    registry_down = run(key=key, exif=exif)
    assert (everything.model, everything.provenance["model"]) == ("from-sidecar", "sidecar")
    assert (no_sidecar.model, no_sidecar.provenance["model"]) == ("from-s3", "s3_metadata")
    assert (registry_down.model, registry_down.provenance["model"]) == ("P1468-LE", "registry")


def test_exif_beats_the_key_path_when_nothing_higher_speaks():
    meta = run(key="model=from-key/img.jpg", exif=ExifFields(model="from-exif"))
    assert (meta.model, meta.provenance["model"]) == ("from-exif", "exif")
    meta = run(key="model=from-key/img.jpg")
    assert (meta.model, meta.provenance["model"]) == ("from-key", "key_path")


def test_every_field_set_has_a_provenance():
    meta = run(
        key="cam-01/2026/11/20/IMG_20261120_143005.jpg",
        sidecar={"weather": "rain", "classes": "pallet, forklift", "line": "A3"},
        s3={"operator": "jo"},
        exif=ExifFields(make="Axis", orientation=6, lat=1.0, lon=2.0),
    )
    set_fields = {
        name
        for name, value in meta.model_dump(exclude={"provenance", "notes", "extra"}).items()
        if value not in (None, [], "")
    }
    assert set_fields <= set(meta.provenance)
    assert set(meta.extra) <= set(meta.provenance)
    assert {
        "camera_id",
        "captured_at",
        "shift",
        "source_id",
        "weather",
        "operator",
        "orientation",
    } <= set_fields


def test_a_value_that_fails_to_parse_is_dropped_with_a_note_and_the_next_source_fills_it():
    meta = run(sidecar={"lat": 123, "lon": 10}, s3={"lat": "48.1", "lon": "11.6"})
    assert (meta.lat, meta.lon) == (48.1, 11.6)
    assert meta.provenance["lat"] == "s3_metadata"
    assert noted(meta, "lat/lon", "123", "sidecar", "out of range")


def test_a_bad_date_is_dropped_with_a_note_naming_field_value_and_source():
    meta = run(
        sidecar={"camera": "cam-01", "captured_at": "2026-13-45T10:00:00"},
        exif=ExifFields(datetime_original="2026:11:20 10:00:00", offset="+01:00"),
    )
    assert noted(meta, "captured_at", "'2026-13-45T10:00:00'", "sidecar", "dropped")
    assert meta.captured_at == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert meta.provenance["captured_at"] == "exif"


# --- field names and aliases ----------------------------------------------------------------------


def test_sidecar_aliases_map_to_their_fields():
    meta = run(
        sidecar={
            "cam": "us-cam-01",
            "timestamp": "2026-11-20T08:00:00Z",
            "latitude": 41.9,
            "lng": -87.6,
            "labels": ["pallet", "person", "pallet"],
            "source": "us-yards",
            "consent": "C-17",
            "region": "us",
            "pii": "faces, plates",
        }
    )
    assert meta.camera_id == "us-cam-01"
    assert meta.captured_at == datetime(2026, 11, 20, 8, tzinfo=UTC)
    assert (meta.lat, meta.lon) == (41.9, -87.6)
    assert meta.classes == ["pallet", "person"]
    assert (meta.source_id, meta.consent_id, meta.data_region) == ("us-yards", "C-17", "us")
    assert meta.pii == ["faces", "plates"]


def test_s3_metadata_keys_may_use_dashes_or_underscores():
    meta = run(s3={"camera-id": "cam-01", "captured_at": "2026-11-20T08:00:00+00:00", "time-zone": "UTC"})
    assert meta.camera_id == "cam-01"
    assert meta.provenance["camera_id"] == "s3_metadata"
    assert meta.captured_at == datetime(2026, 11, 20, 8, tzinfo=UTC)


def test_unknown_keys_go_to_extra_as_strings_with_provenance():
    meta = run(
        sidecar={"Line-ID": "A3", "lux": 120, "tags": {"a": 1}}, s3={"line_id": "ignored", "lens": "wide"}
    )
    assert meta.extra == {"line_id": "A3", "lux": "120", "tags": '{"a":1}', "lens": "wide"}
    assert meta.provenance["line_id"] == "sidecar"
    assert meta.provenance["lens"] == "s3_metadata"


def test_the_canonical_name_beats_its_alias_in_the_same_source_with_a_note():
    meta = run(sidecar={"camera": "stage-01", "camera_id": "cam-01"})
    assert meta.camera_id == "cam-01"
    assert noted(meta, "camera_id", "'stage-01'", "ignored")


def test_provenance_and_notes_cannot_be_given():
    meta = run(sidecar={"provenance": {"camera_id": "sidecar"}, "notes": ["all good"]})
    assert meta.provenance == {}
    assert "all good" not in meta.notes
    assert noted(meta, "provenance", "ignored")


def test_a_sidecar_error_becomes_a_note():
    meta = run(sidecar_error="Expecting value: line 1 column 1 (char 0)", s3={"camera": "cam-01"})
    assert meta.camera_id == "cam-01"
    assert noted(meta, "sidecar dropped", "Expecting value")


def test_a_sidecar_that_is_not_an_object_is_dropped_with_a_note():
    meta = run(sidecar=["cam-01"])  # type: ignore[arg-type]
    assert meta.camera_id is None
    assert noted(meta, "sidecar dropped", "list")


# --- captured_at ----------------------------------------------------------------------------------


def test_iso_with_z_is_utc_and_local_time_uses_the_registered_zone():
    meta = run(sidecar={"camera_id": "cam-01", "captured_at": "2026-11-20T13:30:05Z"})
    assert meta.captured_at == datetime(2026, 11, 20, 13, 30, 5, tzinfo=UTC)
    assert meta.captured_local == "2026-11-20T14:30:05"
    assert meta.timezone == "Europe/Berlin"
    assert meta.provenance["timezone"] == "registry"


def test_iso_with_offset_and_no_known_zone_keeps_the_offset_as_time_zone():
    meta = run(sidecar={"captured_at": "2026-11-20T14:30:05+02:00"})
    assert meta.captured_at == datetime(2026, 11, 20, 12, 30, 5, tzinfo=UTC)
    assert (meta.captured_local, meta.timezone) == ("2026-11-20T14:30:05", "+02:00")
    assert meta.provenance["timezone"] == meta.provenance["captured_at"] == "sidecar"


def test_naive_time_is_localised_with_the_camera_time_zone():
    meta = run(sidecar={"camera_id": "cam-01", "captured_at": "2026-07-01T12:00:00"})
    assert meta.captured_at == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)  # CEST, UTC+2
    assert meta.captured_local == "2026-07-01T12:00:00"
    assert meta.provenance["captured_at"] == "sidecar"
    assert "captured_at localised with camera time zone Europe/Berlin" in meta.notes


def test_naive_time_uses_a_stated_time_zone_before_the_camera_one():
    meta = run(
        sidecar={"camera_id": "cam-01", "captured_at": "2026-07-01T12:00:00", "timezone": "Asia/Tokyo"}
    )
    assert meta.captured_at == datetime(2026, 7, 1, 3, 0, tzinfo=UTC)
    assert meta.timezone == "Asia/Tokyo"
    assert noted(meta, "localised with time zone Asia/Tokyo from sidecar")


def test_naive_time_without_any_zone_takes_the_cells_zone_flagged_as_assumed():
    # Was: captured_at left unset (and the image quarantined). A time whose zone is unknown is still
    # the image's capture time: the cell's configured zone is assumed, flagged, never refused.
    meta = run(sidecar={"captured_at": "2026-11-20 14:30:05"})
    assert meta.captured_at == datetime(2026, 11, 20, 14, 30, 5, tzinfo=UTC)  # the test cells' zone: UTC
    assert meta.captured_local == "2026-11-20T14:30:05"
    assert (meta.time_rule, meta.timezone_assumed, meta.timezone) == ("cell_zone_assumed", True, "UTC")
    assert noted(meta, NOTE_TIMEZONE_ASSUMED, "cell eu")
    assert missing_required(meta, ["camera_id", "captured_at"]) == ["camera_id"]


@pytest.mark.parametrize("value", [1795617005, "1795617005", 1795617005000, "1795617005000", 1795617005.5])
def test_epoch_seconds_and_milliseconds_are_instants(value):
    meta = run(s3={"camera": "us-cam-01", "captured": str(value)}, sidecar={"time": value})
    assert meta.captured_at is not None
    assert meta.captured_at.replace(microsecond=0) == datetime(2026, 11, 25, 14, 30, 5, tzinfo=UTC)
    assert meta.captured_local.startswith("2026-11-25T08:30:05")  # Chicago, CST


def test_exif_date_with_offset_and_subseconds_is_an_instant():
    meta = run(exif=ExifFields(datetime_original="2026:11:20 14:30:05", offset="+01:00", subsec="25"))
    assert meta.captured_at == datetime(2026, 11, 20, 13, 30, 5, 250000, tzinfo=UTC)
    assert (meta.provenance["captured_at"], meta.timezone) == ("exif", "+01:00")


def test_exif_date_without_offset_is_localised_with_the_camera_zone():
    meta = run(key="us-cam-01/a.jpg", exif=ExifFields(datetime_original="2026:11:20 14:30:05"))
    assert meta.captured_at == datetime(2026, 11, 20, 20, 30, 5, tzinfo=UTC)
    assert noted(meta, "camera time zone America/Chicago")


def test_dates_before_1990_are_dropped_with_a_note():
    meta = run(sidecar={"captured_at": "1989-12-31T23:00:00Z"}, s3={"captured_at": "2026-01-01T00:00:00Z"})
    assert meta.captured_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert noted(meta, "captured_at", "1989", "before 1990")


def test_dates_more_than_a_day_in_the_future_are_dropped_with_a_note():
    meta = run(sidecar={"captured_at": "2026-11-27T00:00:00Z"})
    assert meta.captured_at is None
    assert noted(meta, "captured_at", "future")
    assert run(sidecar={"captured_at": "2026-11-26T11:00:00Z"}).captured_at is not None


def test_a_date_without_time_is_local_midnight_with_a_note_and_no_shift():
    meta = run(sidecar={"camera": "cam-01", "date": "2026-11-20"})
    assert meta.captured_local == "2026-11-20T00:00:00"
    assert meta.captured_at == datetime(2026, 11, 19, 23, tzinfo=UTC)
    assert meta.shift is None
    assert noted(meta, "date without a time")


# --- camera id ------------------------------------------------------------------------------------


def test_camera_id_is_derived_from_exif_make_model_serial_when_nobody_gives_one():
    meta = run(exif=ExifFields(make="Canon", model="Canon EOS 5D", serial="1234"))
    assert meta.camera_id == "exif-canon-eos-5d-1234"
    assert meta.provenance["camera_id"] == "derived"
    assert noted(meta, "derived from EXIF")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"serial": "A1"}, "exif-a1"),
        ({"make": "NIKON CORPORATION", "model": "NIKON D800"}, "exif-nikon-corporation-nikon-d800"),
        ({"make": "Canon"}, None),
        ({"model": "EOS"}, None),
    ],
)
def test_a_derived_camera_id_needs_make_and_model_or_a_serial(fields, expected):
    assert run(exif=ExifFields(**fields)).camera_id == expected


def test_a_key_path_camera_beats_the_derived_one():
    meta = run(key="cam-01/img.jpg", exif=ExifFields(make="Canon", model="EOS", serial="9"))
    assert (meta.camera_id, meta.provenance["camera_id"]) == ("cam-01", "key_path")


def test_a_registered_serial_identifies_the_camera():
    meta = run(key="cam-01/img.jpg", exif=ExifFields(make="Canon", model="EOS R", serial="SN-42"))
    assert (meta.camera_id, meta.provenance["camera_id"]) == ("serial-cam", "registry")
    assert meta.timezone == "Asia/Tokyo"


def test_an_unregistered_camera_gets_a_note_and_no_registry_defaults():
    meta = run(sidecar={"camera_id": "cam-99"})
    assert meta.site is None and meta.source_id is None
    assert noted(meta, "cam-99", "not a registered camera")


# --- registry -------------------------------------------------------------------------------------


def test_registered_camera_and_its_source_fill_defaults():
    meta = run(key="cam-01/img.jpg")
    assert (meta.source_id, meta.site, meta.make, meta.model) == (
        "depot-live",
        "berlin-dock",
        "Axis",
        "P1468-LE",
    )
    assert (meta.lat, meta.lon, meta.timezone) == (52.5, 13.4, "Europe/Berlin")
    assert (meta.source_type, meta.data_region) == ("production_live", "eu")
    for name in ("source_id", "site", "make", "lat", "timezone", "source_type", "data_region"):
        assert meta.provenance[name] == "registry", name


def test_the_camera_cell_beats_its_source_cell():
    meta = run(sidecar={"camera": "stage-01"})
    assert (meta.data_region, meta.source_type) == ("us", "staged")


def test_a_given_source_id_overrides_the_camera_source_and_its_defaults():
    meta = run(sidecar={"camera": "cam-01", "source": "studio"})
    assert (meta.source_id, meta.source_type) == ("studio", "staged")
    assert meta.data_region is None  # cam-01 has no cell of its own and studio has none


def test_registry_beats_exif_but_not_a_sidecar():
    meta = run(
        key="cam-01/a.jpg", sidecar={"site": "hall-7"}, exif=ExifFields(make="AXIS-EXIF", lat=1.0, lon=1.0)
    )
    assert (meta.site, meta.make, meta.lat) == ("hall-7", "Axis", 52.5)


# --- key path -------------------------------------------------------------------------------------


def test_hive_segments_name_fields_and_aliases():
    meta = run(key="landing/camera=cam-01/weather=fog/line-id=A3/frame.jpg")
    assert (meta.camera_id, meta.weather, meta.extra["line_id"]) == ("cam-01", "fog", "A3")
    assert meta.provenance["weather"] == meta.provenance["line_id"] == "key_path"


def test_registered_source_segment_gives_source_id():
    meta = run(key="studio/batch-7/a.jpg")
    assert (meta.source_id, meta.provenance["source_id"], meta.source_type) == (
        "studio",
        "key_path",
        "staged",
    )


@pytest.mark.parametrize(
    "key",
    [
        "cam-01/2026/11/20/IMG_20261120_143005.jpg",
        "cam-01/2026-11-20/20261120T143005.jpg",
        "cam-01/frame_2026-11-20T14-30-05.png",
        "cam-01/20261120143005.jpg",
    ],
)
def test_file_name_stamps_give_a_local_capture_time(key):
    meta = run(key=key)
    assert meta.captured_local == "2026-11-20T14:30:05"
    assert meta.captured_at == datetime(2026, 11, 20, 13, 30, 5, tzinfo=UTC)
    assert meta.provenance["captured_at"] == "key_path"
    assert meta.shift == "evening"


@pytest.mark.parametrize("key", ["cam-01/2026/11/20/frame.jpg", "cam-01/2026-11-20/frame.jpg"])
def test_date_folders_give_a_date(key):
    meta = run(key=key)
    assert meta.captured_local == "2026-11-20T00:00:00"


def test_key_path_is_the_lowest_precedence_for_time():
    meta = run(key="cam-01/IMG_20261120_143005.jpg", exif=ExifFields(datetime_original="2026:11:21 08:00:00"))
    assert meta.captured_local == "2026-11-21T08:00:00"
    assert meta.provenance["captured_at"] == "exif"


def test_numbers_in_file_names_that_are_not_dates_are_ignored():
    meta = run(key="uploads/99999999_999999.jpg")
    assert meta.captured_local is None and meta.notes == []


# --- shift, GPS, types ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "shift"),
    [(6, "day"), (13, "day"), (14, "evening"), (21, "evening"), (22, "night"), (5, "night")],
)
def test_shift_is_derived_from_the_local_hour(hour, shift):
    meta = run(sidecar={"camera": "cam-01", "captured_at": f"2026-11-20T{hour:02d}:59:00"})
    assert (meta.shift, meta.provenance["shift"]) == (shift, "derived")


def test_a_given_shift_is_kept_and_a_bad_one_replaced_by_the_derived_one():
    meta = run(sidecar={"camera": "cam-01", "captured_at": "2026-11-20T23:00:00", "shift": "Day"})
    assert (meta.shift, meta.provenance["shift"]) == ("day", "sidecar")
    meta = run(sidecar={"camera": "cam-01", "captured_at": "2026-11-20T23:00:00", "shift": "lunch"})
    assert (meta.shift, meta.provenance["shift"]) == ("night", "derived")
    assert noted(meta, "shift", "'lunch'", "dropped")


def test_zero_gps_from_any_source_is_dropped_with_a_note():
    meta = run(sidecar={"lat": 0, "lon": 0.0})
    assert (meta.lat, meta.lon) == (None, None)
    assert noted(meta, "null island", "sidecar")


def test_half_a_position_is_dropped_with_a_note():
    meta = run(s3={"lat": "48.1"}, exif=ExifFields(lat=1.5, lon=2.5))
    assert (meta.lat, meta.lon, meta.provenance["lat"]) == (1.5, 2.5, "exif")
    assert noted(meta, "lat", "s3_metadata", "no matching pair")


@pytest.mark.parametrize("lon", [181, "-180.5", "east", True, None])
def test_a_bad_longitude_drops_the_pair(lon):
    meta = run(sidecar={"lat": 10, "lon": lon})
    assert (meta.lat, meta.lon) == (None, None)


def test_source_type_must_be_a_known_value():
    meta = run(sidecar={"camera": "cam-01", "source_type": "Production-Archive"})
    assert meta.source_type == "production_archive"
    meta = run(sidecar={"camera": "cam-01", "source_type": "stock"})
    assert (meta.source_type, meta.provenance["source_type"]) == ("production_live", "registry")
    assert noted(meta, "source_type", "'stock'", "dropped")


def test_orientation_comes_from_exif():
    meta = run(exif=ExifFields(orientation=6))
    assert (meta.orientation, meta.provenance["orientation"]) == (6, "exif")
    assert run(sidecar={"orientation": 9}, exif=ExifFields(orientation=3)).orientation == 3


def test_unknown_pii_values_are_dropped_with_a_note():
    meta = run(sidecar={"pii": ["Faces", "tattoos"]})
    assert meta.pii == ["faces"]
    assert noted(meta, "pii", "tattoos")


def test_an_aws_region_names_its_cell_and_an_unknown_region_is_kept_with_a_note():
    assert run(sidecar={"region": "us-east-1"}).data_region == "us"
    meta = run(sidecar={"region": "ap-south-1"})
    assert meta.data_region == "ap-south-1"
    assert noted(meta, "data_region", "not a configured cell")


def test_text_is_stripped_and_collapsed_and_blank_values_are_absent():
    meta = run(sidecar={"site": "  berlin   dock ", "operator": "   ", "weather": ""}, s3={"operator": "kim"})
    assert (meta.site, meta.operator, meta.weather) == ("berlin dock", "kim", None)


def test_non_text_values_for_text_fields_are_dropped_with_a_note():
    meta = run(sidecar={"site": {"name": "x"}, "serial": 1234})
    assert (meta.site, meta.serial) == (None, "1234")
    assert noted(meta, "site", "sidecar", "expected text")


# --- missing_required -------------------------------------------------------------------------------


def test_missing_required_accepts_aliases_and_extra_keys():
    meta = run(sidecar={"camera": "cam-01", "line-id": "A3"})
    assert missing_required(meta, ["camera", "line_id", "captured_at", "weather"]) == [
        "captured_at",
        "weather",
    ]


# --- never raises -----------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "camera",
        "camera_id",
        "captured_at",
        "timestamp",
        "time",
        "date",
        "lat",
        "lon",
        "lng",
        "timezone",
        "tz",
        "classes",
        "pii",
        "region",
        "source",
        "source_type",
        "shift",
        "orientation",
        "extra",
        "provenance",
        "site",
    ]
)
keys = field_names | st.text(max_size=12)


@settings(max_examples=300, deadline=None)
@given(
    sidecar=st.dictionaries(keys, json_values, max_size=8) | json_values,
    s3=st.dictionaries(keys, st.text(max_size=40), max_size=6),
    key=st.text(max_size=80) | st.sampled_from(["cam-01/2026/11/20/IMG_20261120_143005.jpg", "a=b/c=/=d/x"]),
    exif=st.builds(
        ExifFields,
        make=st.none() | st.text(max_size=10),
        serial=st.none() | st.text(max_size=10),
        datetime_original=st.none() | st.text(max_size=20) | st.just("2026:11:20 14:30:05"),
        offset=st.none() | st.text(max_size=6) | st.sampled_from(["+01:00", "-13:30"]),
        subsec=st.none() | st.text(max_size=8),
        lat=st.none() | st.floats(),
        lon=st.none() | st.floats(),
        orientation=st.none() | st.integers(),
    ),
)
def test_normalise_never_raises_on_any_input(sidecar, s3, key, exif):
    meta = run(key=key, sidecar=sidecar, s3=s3, exif=exif)
    assert isinstance(meta, ImageMetadata)
    bugs = [n for n in meta.notes if n.startswith("metadata normalisation failed") or " skipped: " in n]
    assert bugs == []
    if meta.captured_at is not None:
        assert meta.captured_at.tzinfo is not None
        assert meta.captured_at.utcoffset().total_seconds() == 0
    if meta.lat is not None:
        assert -90 <= meta.lat <= 90 and (meta.lat, meta.lon) != (0, 0)
