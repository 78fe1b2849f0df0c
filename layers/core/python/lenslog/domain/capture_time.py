"""When an image was taken: the capture instant (UTC), the local wall clock, and the rule that
tied them together. Pure functions over values; the metadata merge (``metadata.py``) chooses the
clock by precedence and asks :func:`resolve` for the rest.

A clock is *aware* when it carries its own offset (EXIF DateTimeOriginal + OffsetTimeOriginal, ISO
``Z`` or ``+02:00``, an epoch), else *naive*: most cameras write a naive wall clock. A naive clock
is placed in time by the first rule that applies (:class:`TimeRule`):

1. ``stated_zone``: a ``timezone`` the uploader gave (sidecar, S3 metadata, key path);
2. ``gps_time``: the EXIF GPS date and time stamps of the same file, which are UTC: the camera's
   offset is the difference, rounded to a quarter hour (|offset| <= 14 h, else the stamps are
   stale or broken and skipped with a note). The instant is the wall clock minus that offset, so
   the camera's seconds and sub-seconds are kept (a GPS stamp is the time of the last fix);
3. ``gps_zone``: the time zone at the image's position (EXIF GPS or an uploader's lat/lon, not a
   registered camera's), from an offline lookup (tzfpy) read through ``zoneinfo``, so daylight
   saving time is right for that date;
4. ``camera_zone``: the registered camera's zone; 5. ``source_zone``: its source's;
6. ``cell_zone_assumed``: the zone configured for the cell the image landed in. The image is
   flagged ``timezone_assumed`` with a note, never refused for it.

An aware clock is ``exif_offset`` (an EXIF offset tag) or ``stated_offset`` (a sidecar or S3 time
with an offset, an epoch); its local wall clock is shown in the stated or registered camera zone
when there is one, else in its own offset.

``captured_local`` is always the wall clock of the image's place and zone: for a naive clock that
is the clock as written. Shifts, capture days and splits are computed from it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from enum import StrEnum
from functools import cache
from typing import Any

from lenslog.domain.exif import normalise_offset, parse_exif_datetime, split_exif_datetime

NOTE_TIMEZONE_ASSUMED = "timezone_assumed"
MAX_OFFSET = timedelta(hours=14)
QUARTER_HOUR = 15 * 60

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_COMPACT_DATETIME = re.compile(r"^(\d{4})(\d{2})(\d{2})[T_ -]?(\d{2})(\d{2})(\d{2})$")
_EPOCH = re.compile(r"^\d{9,13}(\.\d+)?$")
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*")


class TimeRule(StrEnum):
    """How the capture instant was found (``ImageMetadata.time_rule``), most certain first."""

    exif_offset = "exif_offset"
    stated_offset = "stated_offset"
    stated_zone = "stated_zone"
    gps_time = "gps_time"
    gps_zone = "gps_zone"
    camera_zone = "camera_zone"
    source_zone = "source_zone"
    cell_zone_assumed = "cell_zone_assumed"


class InvalidTime(ValueError):
    """A value that is no usable time; the message says why."""


@dataclass(frozen=True)
class ExifTime:
    """A capture time as EXIF wrote it: the date text, its offset and sub-second digits."""

    text: str
    offset: str | None
    subsec: str | None
    offset_tag: str | None = None


@dataclass(frozen=True)
class When:
    value: datetime  # aware when ``aware``
    aware: bool
    date_only: bool = False
    epoch: bool = False


@dataclass(frozen=True)
class Zone:
    """A zone name (IANA or ``+HH:MM``) and where it came from (a provenance value)."""

    name: str
    source: str


@dataclass(frozen=True)
class Evidence:
    """Everything besides the clock that can place a naive clock in time."""

    stated: Zone | None = None
    gps_utc: datetime | None = None  # EXIF GPS stamps; only for a clock read from the same EXIF
    position: tuple[float, float] | None = None  # lat, lon (not a registered camera's)
    position_source: str = "exif"
    camera: str | None = None
    source: str | None = None
    cell: str | None = None
    cell_name: str = ""


@dataclass
class Resolved:
    utc: datetime
    local: datetime  # naive wall clock
    zone: str
    zone_source: str
    rule: TimeRule
    assumed: bool = False
    notes: list[str] = field(default_factory=list)


# --- resolution ---------------------------------------------------------------------------------


def resolve(
    when: When,
    clock_source: str,
    exif_clock: ExifTime | None,
    evidence: Evidence,
    zone_at: Any = None,
) -> Resolved | None:
    """The instant, wall clock and rule of one clock; None only when no rule applies (no zone
    configured for the cell either). ``zone_at(lat, lon)`` looks a position's zone up
    (default: :func:`zone_at`)."""
    lookup = zone_at or globals()["zone_at"]
    if when.aware:
        return _aware(when, clock_source, exif_clock, evidence)
    wall = when.value.replace(tzinfo=None)
    notes: list[str] = []

    if evidence.stated is not None and (tz := tzinfo_of(evidence.stated.name)) is not None:
        notes.append(
            f"captured_at localised with time zone {evidence.stated.name} from {evidence.stated.source}"
        )
        return _local(wall, tz, evidence.stated.name, evidence.stated.source, TimeRule.stated_zone, notes)

    position_zone = None
    if evidence.position is not None:
        position_zone = _safe_lookup(lookup, *evidence.position, notes)

    if exif_clock is not None and evidence.gps_utc is not None and not when.date_only:
        found = _from_gps_time(wall, evidence.gps_utc, position_zone, notes)
        if found is not None:
            return found

    if position_zone is not None and (tz := tzinfo_of(position_zone)) is not None:
        lat, lon = evidence.position or (0.0, 0.0)
        notes.append(f"captured_at localised with time zone {position_zone} at GPS {lat:.4f},{lon:.4f}")
        return _local(wall, tz, position_zone, evidence.position_source, TimeRule.gps_zone, notes)

    if evidence.camera and (tz := tzinfo_of(evidence.camera)) is not None:
        notes.append(f"captured_at localised with camera time zone {evidence.camera}")
        return _local(wall, tz, evidence.camera, "registry", TimeRule.camera_zone, notes)
    if evidence.source and (tz := tzinfo_of(evidence.source)) is not None:
        notes.append(f"captured_at localised with source time zone {evidence.source}")
        return _local(wall, tz, evidence.source, "registry", TimeRule.source_zone, notes)
    if evidence.cell and (tz := tzinfo_of(evidence.cell)) is not None:
        notes.append(
            f"{NOTE_TIMEZONE_ASSUMED}: captured_at {wall.isoformat()} from {clock_source} carries no zone "
            f"(no offset, GPS, stated or registered zone); cell {evidence.cell_name}'s zone "
            f"{evidence.cell} assumed"
        )
        found = _local(wall, tz, evidence.cell, "derived", TimeRule.cell_zone_assumed, notes)
        found.assumed = True
        return found
    return None


def _aware(when: When, clock_source: str, exif_clock: ExifTime | None, evidence: Evidence) -> Resolved:
    utc = when.value.astimezone(UTC)
    rule = TimeRule.exif_offset if exif_clock is not None else TimeRule.stated_offset
    for zone in (evidence.stated, Zone(evidence.camera, "registry") if evidence.camera else None):
        if zone is not None and (tz := tzinfo_of(zone.name)) is not None:
            return Resolved(utc, utc.astimezone(tz).replace(tzinfo=None), zone.name, zone.source, rule)
    own = offset_name(when.value)
    notes = []
    if exif_clock is not None and exif_clock.offset_tag:
        notes.append(f"captured_at offset {own} from EXIF {exif_clock.offset_tag}")
    return Resolved(utc, when.value.replace(tzinfo=None), own, clock_source, rule, notes=notes)


def _local(wall: datetime, tz: tzinfo, name: str, source: str, rule: TimeRule, notes: list[str]) -> Resolved:
    local = wall.replace(tzinfo=tz)
    return Resolved(local.astimezone(UTC), wall, name, source, rule, notes=notes)


def _from_gps_time(
    wall: datetime, gps_utc: datetime, position_zone: str | None, notes: list[str]
) -> Resolved | None:
    gps_wall = gps_utc.astimezone(UTC).replace(tzinfo=None)
    seconds = (wall - gps_wall).total_seconds()
    offset = timedelta(seconds=round(seconds / QUARTER_HOUR) * QUARTER_HOUR)
    if abs(offset) > MAX_OFFSET:
        notes.append(
            f"GPS time {gps_utc.isoformat()} is {seconds / 3600:+.1f} h from the camera clock "
            f"{wall.isoformat()}: not a zone offset (a stale fix?); not used"
        )
        return None
    fixed = timezone(offset)
    utc = wall.replace(tzinfo=fixed).astimezone(UTC)
    name = name_of_offset = offset_name(wall.replace(tzinfo=fixed))
    if position_zone is not None and (tz := tzinfo_of(position_zone)) is not None:
        there = utc.astimezone(tz).utcoffset()
        if there == offset:
            name = position_zone
        else:
            notes.append(
                f"the camera clock is {name} from GPS time, the zone at its position ({position_zone}) is "
                f"{offset_name(utc.astimezone(tz))}: the camera clock and GPS time win"
            )
    notes.append(f"captured_at from the camera clock with the offset {name_of_offset} to GPS time")
    return Resolved(utc, wall, name, "exif", TimeRule.gps_time, notes=notes)


def _safe_lookup(lookup: Any, lat: float, lon: float, notes: list[str]) -> str | None:
    try:
        return lookup(lat, lon)
    except Exception as exc:  # a lookup failure leaves the next rule to decide
        notes.append(f"time zone at GPS {lat:.4f},{lon:.4f} unavailable: {type(exc).__name__}")
        return None


@cache
def _finder() -> Any:
    from tzfpy import get_tz  # ~0.3 s to load its polygons: only when a position needs a zone

    return get_tz


def zone_at(lat: float, lon: float) -> str | None:
    """The IANA zone at a position (offline, tzfpy's polygons), None when it knows none."""
    name = _finder()(lon, lat)
    return name if isinstance(name, str) and name and tzinfo_of(name) is not None else None


# --- parsing ------------------------------------------------------------------------------------


def tzinfo_of(name: str) -> tzinfo | None:
    """``UTC``, a ``+HH:MM`` offset or an IANA name as a tzinfo; None when it is none of these."""
    if name == "UTC":
        return UTC
    offset = normalise_offset(name)
    if offset is not None:
        sign = -1 if offset[0] == "-" else 1
        return timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
    if not _ZONE_NAME.fullmatch(name):
        return None
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(name)
    except Exception:
        return None


def offset_name(value: datetime) -> str:
    delta = value.utcoffset() or timedelta(0)
    if delta == timedelta(0):
        return "UTC"
    sign = "-" if delta < timedelta(0) else "+"
    minutes = abs(int(delta.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def parse_time(value: Any) -> When:
    """A capture time as any source gives it (EXIF, ISO 8601, epoch, compact stamps, a date)."""
    if isinstance(value, ExifTime):
        naive = parse_exif_datetime(value.text)
        if naive is None:
            raise InvalidTime("not a date")
        if value.subsec:
            digits = value.subsec[:6].ljust(6, "0")
            naive = naive.replace(microsecond=int(digits))
        if value.offset:
            return When(naive.replace(tzinfo=tzinfo_of(value.offset)), aware=True)
        return When(naive, aware=False)
    if isinstance(value, datetime):
        return When(value, aware=value.tzinfo is not None)
    if isinstance(value, bool):
        raise InvalidTime("expected a time, got bool")
    if isinstance(value, int | float):
        return _epoch(float(value))
    if not isinstance(value, str):
        raise InvalidTime(f"expected a time, got {type(value).__name__}")
    text = value.strip()
    if m := _COMPACT_DATE.match(text):
        return _date_only("-".join(m.groups()))
    if m := _COMPACT_DATETIME.match(text):
        parts = [int(g) for g in m.groups()]
        try:
            return When(datetime(*parts), aware=False)  # type: ignore[arg-type]
        except ValueError as exc:
            raise InvalidTime("not a date") from exc
    if _EPOCH.match(text):
        return _epoch(float(text))
    split = split_exif_datetime(text)
    if split is not None:
        naive, _, offset = split
        if offset is not None:
            return When(naive.replace(tzinfo=tzinfo_of(offset)), aware=True)
        if not text.upper().endswith("Z"):
            return When(naive, aware=False)
        return When(naive.replace(tzinfo=UTC), aware=True)
    if _ISO_DATE.match(text):
        return _date_only(text)
    iso = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError as exc:
        raise InvalidTime("not an ISO 8601 time, an epoch or an EXIF date") from exc
    return When(parsed, aware=parsed.tzinfo is not None)


def _date_only(text: str) -> When:
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidTime("not a date") from exc
    return When(datetime(day.year, day.month, day.day), aware=False, date_only=True)


def _epoch(seconds: float) -> When:
    if not math.isfinite(seconds):
        raise InvalidTime("not a finite number")
    if seconds > 1e11:  # milliseconds
        seconds /= 1000.0
    try:
        return When(datetime.fromtimestamp(seconds, tz=UTC), aware=True, epoch=True)
    except (OverflowError, OSError, ValueError) as exc:
        raise InvalidTime("epoch out of range") from exc
