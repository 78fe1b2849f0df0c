"""The [scaling] section: a cell's concurrency must cover its target rate, the gate's reservation
must cover its event source, and what a region reserves must leave Lambda's 100 unreserved."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from lenslog.config import ConfigError, load_config, parse_config

CONFIG = Path(__file__).resolve().parents[2] / "config" / "lenslog.toml"


def _with(**scaling):
    raw = tomllib.loads(CONFIG.read_text())
    return parse_config({**raw, "scaling": {**raw.get("scaling", {}), **scaling}})


def test_the_shipped_config_is_sized_for_1000_images_per_second_with_headroom():
    scaling = load_config(CONFIG).scaling
    assert scaling.images_per_second == 1000
    assert scaling.needed_concurrency == 250  # 1,000 images/s x 0.25 s
    assert scaling.ingest_max_concurrency >= 2 * scaling.needed_concurrency
    assert scaling.ingest_reserved_concurrency >= scaling.ingest_max_concurrency


def test_needed_concurrency_is_rate_times_time_per_image_rounded_up():
    assert _with(images_per_second=333, seconds_per_image=0.3).scaling.needed_concurrency == 100
    assert _with(images_per_second=10, seconds_per_image=0.25).scaling.needed_concurrency == 3


def test_a_maximum_concurrency_below_what_the_rate_needs_is_refused_naming_both():
    with pytest.raises(ConfigError, match=r"ingest_max_concurrency 200 cannot take 1000 images/s.*250"):
        _with(ingest_max_concurrency=200)


def test_a_reservation_below_the_event_sources_maximum_is_refused():
    with pytest.raises(ConfigError, match="ingest_reserved_concurrency must be at least"):
        _with(ingest_max_concurrency=600, ingest_reserved_concurrency=550)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ingest_max_concurrency", 1), ("ingest_max_concurrency", 1001), ("seconds_per_image", 0),
        ("images_per_second", 0), ("queue_age_alarm_seconds", 30),
        ("dlq_age_alarm_hours", 14 * 24),  # would fire after the DLQ has deleted the message
    ],
)  # fmt: skip
def test_out_of_range_values_are_refused_naming_the_field(field, value):
    with pytest.raises(ConfigError, match=f"scaling.{field}"):
        _with(**{field: value})


def test_reservations_that_leave_less_than_100_unreserved_in_a_region_are_refused():
    # eu-central-1 holds the eu cell (gate, API, snapshots, leakage check) and the report; the
    # default quota leaves 1000 - 100 = 900
    _with(api_reserved_concurrency=397)  # 500 + 397 + 1 + 1 + 1 = 900: exactly the room there is
    with pytest.raises(ConfigError, match="functions of eu-central-1 reserve 901"):
        _with(api_reserved_concurrency=398)
    _with(api_reserved_concurrency=398, account_concurrency=2000)  # a raised quota makes room


def test_two_cells_in_one_region_of_one_account_share_its_quota():
    raw = tomllib.loads(CONFIG.read_text())
    raw["cells"]["us"]["region"] = "eu-central-1"
    raw["scaling"] = {"ingest_max_concurrency": 400, "ingest_reserved_concurrency": 400}
    with pytest.raises(ConfigError, match="functions of eu-central-1 reserve 1005"):
        parse_config(raw)  # 2 x (400 + 100 + 1 + 1) + 1
    raw["scaling"]["api_reserved_concurrency"] = 47
    parse_config(raw)  # 2 x (400 + 47 + 1 + 1) + 1 = 899
