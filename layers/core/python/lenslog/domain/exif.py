"""Read the few EXIF fields the gate needs, defensively.

Real EXIF is messy: zeroed or blank dates, byte strings padded with NULs and spaces, text in no
known encoding, IFD offsets that point past the end of the block, GPS rationals with a zero
denominator, ``0,0`` positions, references missing or lowercase, orientations outside 1..8.
:func:`read_exif` reads each field on its own; a field that cannot be trusted is dropped and a
note says which and why. It never raises, whatever the EXIF holds.

Decisions:

- Text must be valid UTF-8 after the NUL padding is cut (ASCII in practice); whitespace is
  stripped and collapsed; an empty value is absent (no note, cameras write blanks routinely).
- Dates are kept *as found* (``YYYY:MM:DD HH:MM:SS``) but only when :func:`parse_exif_datetime`
  accepts them; the first valid of DateTimeOriginal, DateTimeDigitized, DateTime wins and the
  offset and sub-seconds are taken from the matching tags (then the generic ones).
  The offset is the matching one (OffsetTimeOriginal for DateTimeOriginal...), else
  OffsetTimeOriginal, OffsetTimeDigitized, OffsetTime, else one written into the date itself
  (``2026:11:20 14:30:05+02:00``); a fraction written into the date (``...:05.25``) is the
  sub-second when no SubSecTime tag gives one. ``datetime_tag``/``offset_tag`` name the tags used.
- GPS latitude and longitude are a pair: if either is unusable both are dropped. Lowercase
  references (``n``, ``e``) are accepted; a missing reference drops the pair (the sign is unknown).
- GPSDateStamp + GPSTimeStamp (UTC by definition) become ``gps_datetime`` (ISO, ``+00:00``) when
  both are real; hours, minutes and seconds out of range drop it with a note.

:func:`read_exif` reads an opened Pillow image (its header; no pixel is decoded);
:func:`read_exif_bytes` finds the EXIF block in the first bytes of a JPEG, PNG or TIFF file
(:func:`find_exif_block`, bounded by what it is given) and reads that, so that a refused upload
still tells its camera and time without Pillow ever opening it as an image.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

# Tags (EXIF 2.32 / TIFF 6 / DNG numbering).
TAG_MAKE = 0x010F
TAG_MODEL = 0x0110
TAG_ORIENTATION = 0x0112
TAG_DATETIME = 0x0132
TAG_CAMERA_SERIAL = 0xC62F  # DNG CameraSerialNumber, in IFD0
TAG_DATETIME_ORIGINAL = 0x9003
TAG_DATETIME_DIGITIZED = 0x9004
TAG_OFFSET_TIME = 0x9010
TAG_OFFSET_TIME_ORIGINAL = 0x9011
TAG_OFFSET_TIME_DIGITIZED = 0x9012
TAG_SUBSEC_TIME = 0x9290
TAG_SUBSEC_TIME_ORIGINAL = 0x9291
TAG_SUBSEC_TIME_DIGITIZED = 0x9292
TAG_BODY_SERIAL = 0xA431
GPS_LATITUDE_REF = 1
GPS_LATITUDE = 2
GPS_LONGITUDE_REF = 3
GPS_LONGITUDE = 4
GPS_TIME_STAMP = 7
GPS_DATE_STAMP = 29

MAX_TEXT = 256

_EXIF_DATETIME = re.compile(
    r"^(\d{4})[:\-/](\d{2})[:\-/](\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_GPS_DATE = re.compile(r"^(\d{4})[:\-/](\d{2})[:\-/](\d{2})$")
_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


@dataclass(frozen=True)
class ExifFields:
    """What the gate takes from EXIF; every field is validated or ``None``."""

    make: str | None = None
    model: str | None = None
    serial: str | None = None
    datetime_original: str | None = None
    offset: str | None = None
    subsec: str | None = None
    lat: float | None = None
    lon: float | None = None
    orientation: int | None = None
    notes: tuple[str, ...] = ()
    datetime_tag: str | None = None  # the tag the date came from: DateTimeOriginal, ...
    offset_tag: str | None = None  # the tag the offset came from: OffsetTimeOriginal, ...
    gps_datetime: str | None = None  # GPSDateStamp + GPSTimeStamp, ISO 8601 in UTC


class _Dropped(ValueError):
    """A field value that cannot be trusted; the message says why."""


def parse_exif_datetime(text: str) -> datetime | None:
    """``'YYYY:MM:DD HH:MM:SS'`` (also with ``-`` or ``/`` in the date, or a ``T``; a fraction and
    an offset may follow) as a naive datetime of the wall clock, fraction included, or ``None``
    when it is not a real date (zeroed, blank, out of range)."""
    split = split_exif_datetime(text)
    return split[0] if split else None


def split_exif_datetime(text: str) -> tuple[datetime, str | None, str | None] | None:
    """The wall clock, the fraction digits and the offset (``+HH:MM``) written into one EXIF date."""
    m = _EXIF_DATETIME.match(text.strip())
    if not m:
        return None
    *parts, fraction, offset = m.groups()
    try:
        naive = datetime(*(int(g) for g in parts))  # type: ignore[arg-type]
    except ValueError:
        return None
    if fraction:
        naive = naive.replace(microsecond=int(fraction[:6].ljust(6, "0")))
    return naive, fraction, normalise_offset(offset) if offset else None


def normalise_offset(text: str) -> str | None:
    """``'+02:00'``-style offset (``+0200`` and ``Z`` accepted) within ±14:00, or ``None``."""
    t = text.strip()
    if t.upper() == "Z":
        return "+00:00"
    m = _OFFSET.match(t)
    if not m:
        return None
    sign, hh, mm = m.groups()
    if int(hh) > 14 or int(mm) > 59 or (int(hh) == 14 and int(mm) > 0):
        return None
    return f"{sign}{hh}:{mm}"


def clean_text(value: Any) -> str | None:
    """EXIF text as a clean string: cut at the first NUL, valid UTF-8, no control characters,
    whitespace collapsed. ``None`` for an empty value; raises :class:`_Dropped` for garbage."""
    if value is None:
        return None
    if isinstance(value, bytes | bytearray):
        raw = bytes(value).split(b"\x00", 1)[0]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Dropped(f"{_show(value)} is not valid text") from exc
    elif isinstance(value, str):
        text = value.split("\x00", 1)[0]
        # Pillow decodes ASCII tags as latin-1: recover UTF-8 text, refuse undecodable bytes.
        try:
            text = text.encode("latin-1").decode("utf-8")
        except UnicodeEncodeError:
            pass  # already proper text (not from a byte tag)
        except UnicodeDecodeError as exc:
            raise _Dropped(f"{_show(value)} is not valid text") from exc
    elif isinstance(value, int | float) and not isinstance(value, bool):
        text = str(value)
    else:
        raise _Dropped(f"{_show(value)} is not text")
    if "\ufffd" in text or any(ord(c) < 32 and c not in "\t\n\r" for c in text) or "\x7f" in text:
        raise _Dropped(f"{_show(value)} holds control or replacement characters")
    text = " ".join(text.split())
    if not text:
        return None
    if len(text) > MAX_TEXT:
        raise _Dropped(f"{_show(value)} is longer than {MAX_TEXT} characters")
    return text


def _show(value: Any, limit: int = 60) -> str:
    r = repr(value)
    return r if len(r) <= limit else r[: limit - 3] + "..."


def _rational(value: Any) -> float:
    """One EXIF rational (Pillow ``IFDRational``, a ``(num, den)`` pair, or a number) as a float."""
    if isinstance(value, tuple) and len(value) == 2:
        num, den = value
        if float(den) == 0:
            raise _Dropped(f"{_show(value)} has a zero denominator")
        result = float(num) / float(den)
    else:
        denominator = getattr(value, "denominator", 1)
        if denominator == 0:
            raise _Dropped(f"{_show(value)} has a zero denominator")
        result = float(value)
    if not math.isfinite(result):
        raise _Dropped(f"{_show(value)} is not a finite number")
    return result


def _degrees(value: Any) -> float:
    """GPS degrees, minutes, seconds (1 to 3 rationals) as unsigned decimal degrees."""
    parts = value if isinstance(value, tuple | list) else (value,)
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, int) for v in value):
        parts = (value,)  # a bare (num, den) pair
    if not 1 <= len(parts) <= 3:
        raise _Dropped(f"{_show(value)} is not degrees, minutes, seconds")
    numbers = [_rational(p) for p in parts]
    if any(n < 0 for n in numbers):
        raise _Dropped(f"{_show(value)} has a negative component")
    if len(numbers) > 1 and (numbers[1] >= 60 or (len(numbers) > 2 and numbers[2] >= 60)):
        raise _Dropped(f"{_show(value)} has minutes or seconds of 60 or more")
    factors = (1.0, 60.0, 3600.0)
    return sum(n / f for n, f in zip(numbers, factors, strict=False))


def _ref(value: Any, allowed: str) -> str:
    text = clean_text(value)
    if text is None:
        raise _Dropped("the reference (N/S or E/W) is missing")
    ref = text.upper()
    if ref not in allowed:
        raise _Dropped(f"reference {_show(value)} is not one of {'/'.join(allowed)}")
    return ref


class _Reader:
    """Collects notes while reading fields; every access is guarded."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def note(self, name: str, reason: str) -> None:
        self.notes.append(f"exif.{name} dropped: {reason}")

    def field(self, name: str, read: Callable[[], Any]) -> Any:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return read()
        except _Dropped as exc:
            self.note(name, str(exc))
        except Exception as exc:  # a malformed tag of any kind must not stop the gate
            self.note(name, f"unreadable ({type(exc).__name__}: {_short(exc)})")
        return None


def _short(exc: BaseException | Warning | str, limit: int = 80) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _recording(reader: _Reader, name: str, read: Callable[[], Any]) -> Any:
    """``read()``, with Pillow's warnings about corrupt data turned into notes; None if it raises."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = read()
    except Exception as exc:  # Pillow raises on some bad offsets and only warns on others
        reader.note(name, f"unreadable ({type(exc).__name__}: {_short(exc)})")
        return None
    for warning in caught[:3]:
        reader.notes.append(f"exif.{name}: {_short(warning.message)}")  # type: ignore[arg-type]
    return result


def _get_ifd(exif: Any, tag: int, name: str, reader: _Reader) -> Mapping[int, Any]:
    """A sub-IFD as a dict; empty (with a note) when its offset points nowhere."""
    result = _recording(reader, name, lambda: dict(exif.get_ifd(tag) or {}))
    return result if isinstance(result, dict) else {}


def read_exif(image: Image.Image) -> ExifFields:
    """The make, model, serial, capture time, position and orientation found in ``image``'s EXIF.
    Never raises: a field that cannot be read or trusted is ``None`` and explained in ``notes``."""
    reader = _Reader()
    exif = _recording(reader, "IFD0", lambda: (image.getexif(), dict(image.getexif().items())))
    raw = getattr(image, "info", {}).get("exif")
    return _fields(exif, raw if isinstance(raw, bytes | bytearray) else None, reader)


def read_exif_bytes(data: bytes) -> ExifFields:
    """:func:`read_exif` over the EXIF block found in the first bytes of an image file (JPEG APP1,
    PNG eXIf, a TIFF's own header); empty fields when there is none. Nothing but the block is
    parsed: no image is opened, no pixel decoded; a block cut short by ``data``'s end loses the
    fields it no longer holds, with notes."""
    reader = _Reader()
    block = _recording(reader, "IFD0", lambda: find_exif_block(data))
    if not block:
        return ExifFields(notes=tuple(reader.notes))

    def load() -> tuple[Any, dict[int, Any]]:
        from PIL import Image

        exif = Image.Exif()
        exif.load(bytes(block))
        return exif, dict(exif.items())

    return _fields(_recording(reader, "IFD0", load), block, reader)


def find_exif_block(data: bytes) -> bytes | None:
    """The EXIF (TIFF-structured) block of a JPEG, PNG or TIFF file, from its first bytes only:
    JPEG segments are walked up to the start of scan, PNG chunks up to the image data's end."""
    if data[:3] == b"\xff\xd8\xff":
        i = 2
        while i + 4 <= len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            if marker == 0xFF:  # fill byte
                i += 1
                continue
            if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            if marker in (0xDA, 0xD9):  # start of scan, end of image: no metadata after
                return None
            length = int.from_bytes(data[i + 2 : i + 4], "big")
            if length < 2:
                return None
            segment = data[i + 4 : i + 2 + length]
            if marker == 0xE1 and segment.startswith(b"Exif\0\0"):
                return segment
            i += 2 + length
        return None
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        i = 8
        while i + 8 <= len(data):
            length = int.from_bytes(data[i : i + 4], "big")
            kind = data[i + 4 : i + 8]
            if kind == b"eXIf":
                return data[i + 8 : i + 8 + length]
            if kind in (b"tEXt", b"zTXt", b"iTXt"):
                found = _raw_profile(kind, data[i + 8 : i + 8 + length])
                if found:
                    return found
            if kind == b"IEND":
                return None
            i += 12 + length
        return None
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return data
    return None


_RAW_PROFILES = (b"Raw profile type exif", b"Raw profile type APP1")
MAX_RAW_PROFILE = 1 << 20  # hex text of an EXIF block (<= 64 KB), decompressed at most this far


def _raw_profile(kind: bytes, chunk: bytes) -> bytes | None:
    """The EXIF block ImageMagick and exiv2 write into a PNG text chunk (``Raw profile type exif``:
    ``"\\nexif\\n  <length>\\n<hex>"``), zlib-compressed in zTXt and iTXt, decompressed bounded."""
    import zlib

    keyword, sep, rest = chunk.partition(b"\0")
    if not sep or keyword not in _RAW_PROFILES:
        return None
    compressed = False
    if kind == b"zTXt":
        rest, compressed = rest[1:], True
    elif kind == b"iTXt":
        flag = rest[:1] == b"\x01"
        rest = rest[2:]
        for _ in range(2):  # language tag, translated keyword
            rest = rest.partition(b"\0")[2]
        compressed = flag
    if compressed:
        rest = zlib.decompressobj().decompress(rest, MAX_RAW_PROFILE)
    lines = rest.decode("ascii", "replace").split("\n")
    if len(lines) < 4 or not lines[2].strip().isdigit():
        return None
    block = bytes.fromhex("".join(lines[3:]).strip())[: int(lines[2])]
    return block or None


def _fields(exif: Any, raw: bytes | bytearray | None, reader: _Reader) -> ExifFields:
    from PIL import ExifTags

    if exif is None:
        return ExifFields(notes=tuple(reader.notes))
    exif, base = exif
    if not base and isinstance(raw, bytes | bytearray) and len(raw) > 14:
        reader.note("IFD0", f"an EXIF block of {len(raw)} bytes holds no readable tag")
    sub = _get_ifd(exif, ExifTags.IFD.Exif, "ExifIFD", reader) if ExifTags.IFD.Exif in base else {}
    gps = _get_ifd(exif, ExifTags.IFD.GPSInfo, "GPSInfo", reader) if ExifTags.IFD.GPSInfo in base else {}

    def text(ifd: Mapping[int, Any], tag: int, name: str) -> str | None:
        if tag not in ifd:
            return None
        return reader.field(name, lambda: clean_text(ifd[tag]))

    make = text(base, TAG_MAKE, "Make")
    model = text(base, TAG_MODEL, "Model")
    serial = text(sub, TAG_BODY_SERIAL, "BodySerialNumber") or text(base, TAG_CAMERA_SERIAL, "SerialNumber")

    time = _read_time(base, sub, reader)
    lat, lon = _read_gps(gps, reader)
    gps_datetime = _read_gps_time(gps, reader)
    orientation = reader.field("Orientation", lambda: _orientation(base)) if TAG_ORIENTATION in base else None
    return ExifFields(
        make=make,
        model=model,
        serial=serial,
        datetime_original=time.when,
        offset=time.offset,
        subsec=time.subsec,
        lat=lat,
        lon=lon,
        orientation=orientation,
        notes=tuple(reader.notes),
        datetime_tag=time.date_tag,
        offset_tag=time.offset_tag,
        gps_datetime=gps_datetime,
    )


_TIME_TAGS = (
    ("DateTimeOriginal", "sub", TAG_DATETIME_ORIGINAL, TAG_OFFSET_TIME_ORIGINAL, TAG_SUBSEC_TIME_ORIGINAL),
    (
        "DateTimeDigitized",
        "sub",
        TAG_DATETIME_DIGITIZED,
        TAG_OFFSET_TIME_DIGITIZED,
        TAG_SUBSEC_TIME_DIGITIZED,
    ),
    ("DateTime", "base", TAG_DATETIME, TAG_OFFSET_TIME, TAG_SUBSEC_TIME),
)
_OFFSET_NAMES = {
    TAG_OFFSET_TIME_ORIGINAL: "OffsetTimeOriginal",
    TAG_OFFSET_TIME_DIGITIZED: "OffsetTimeDigitized",
    TAG_OFFSET_TIME: "OffsetTime",
}
_SUBSEC_NAMES = {
    TAG_SUBSEC_TIME_ORIGINAL: "SubsecTimeOriginal",
    TAG_SUBSEC_TIME_DIGITIZED: "SubsecTimeDigitized",
    TAG_SUBSEC_TIME: "SubsecTime",
}


def _date_value(value: Any) -> str | None:
    text = clean_text(value)
    if text is None:
        # a blank date ("    :  :     :  :  " collapses to colons) is reported, not silently absent
        raise _Dropped(f"{_show(value)} is not a date")
    if parse_exif_datetime(text) is None:
        raise _Dropped(f"{_show(text)} is not a date")
    return text


def _offset_value(value: Any) -> str | None:
    text = clean_text(value)
    if text is None:
        return None
    offset = normalise_offset(text)
    if offset is None:
        raise _Dropped(f"{_show(text)} is not a UTC offset (+HH:MM)")
    return offset


def _subsec_value(value: Any) -> str | None:
    text = clean_text(value)
    if text is None:
        return None
    if not text.isdigit() or not text.isascii():
        raise _Dropped(f"{_show(text)} is not sub-second digits")
    return text


@dataclass(frozen=True)
class _Time:
    when: str | None = None
    offset: str | None = None
    subsec: str | None = None
    date_tag: str | None = None
    offset_tag: str | None = None


_OFFSET_ORDER = (TAG_OFFSET_TIME_ORIGINAL, TAG_OFFSET_TIME_DIGITIZED, TAG_OFFSET_TIME)


def _read_time(base: Mapping[int, Any], sub: Mapping[int, Any], reader: _Reader) -> _Time:
    for name, where, date_tag, offset_tag, subsec_tag in _TIME_TAGS:
        ifd = sub if where == "sub" else base
        if date_tag not in ifd:
            continue
        when = reader.field(name, partial(_date_value, ifd[date_tag]))
        if when is None:
            continue
        offset = used = None
        for tag in dict.fromkeys((offset_tag, *_OFFSET_ORDER)):
            if tag in sub:
                offset = reader.field(_OFFSET_NAMES[tag], partial(_offset_value, sub[tag]))
                if offset is not None:
                    used = _OFFSET_NAMES[tag]
                    break
        split = split_exif_datetime(when)
        if offset is None and split is not None and split[2] is not None:
            offset, used = split[2], name
        subsec = None
        if subsec_tag in sub:
            subsec = reader.field(_SUBSEC_NAMES[subsec_tag], partial(_subsec_value, sub[subsec_tag]))
        if subsec is None and split is not None and split[1]:
            subsec = split[1]
        return _Time(when, offset, subsec, name, used)
    return _Time()


def _read_gps_time(gps: Mapping[int, Any], reader: _Reader) -> str | None:
    if GPS_DATE_STAMP not in gps or GPS_TIME_STAMP not in gps:
        return None

    def read() -> str | None:
        day = clean_text(gps[GPS_DATE_STAMP])
        if day is None:
            return None
        m = _GPS_DATE.match(day)
        if not m:
            raise _Dropped(f"{_show(day)} is not a date")
        stamp = gps[GPS_TIME_STAMP]
        parts = stamp if isinstance(stamp, tuple | list) else (stamp,)
        if len(parts) != 3:
            raise _Dropped(f"{_show(stamp)} is not hours, minutes, seconds")
        hours, minutes, seconds = (_rational(p) for p in parts)
        if not (0 <= hours < 24 and hours == int(hours) and 0 <= minutes < 60 and 0 <= seconds < 61):
            raise _Dropped(f"{_show(stamp)} is not a time of day")
        try:
            midnight = datetime(*(int(g) for g in m.groups()), tzinfo=UTC)  # type: ignore[arg-type, misc]
        except ValueError as exc:
            raise _Dropped(f"{_show(day)} is not a date") from exc
        at = midnight + timedelta(hours=hours, minutes=minutes, seconds=seconds)
        return at.isoformat()

    return reader.field("GPSDateTime", read)


def _read_gps(gps: Mapping[int, Any], reader: _Reader) -> tuple[float | None, float | None]:
    if GPS_LATITUDE not in gps and GPS_LONGITUDE not in gps:
        return None, None

    def coordinate(value_tag: int, ref_tag: int, refs: str, negative: str, limit: float) -> float:
        if value_tag not in gps:
            raise _Dropped("the coordinate is missing")
        degrees = _degrees(gps[value_tag])
        ref = _ref(gps.get(ref_tag), refs)
        if degrees > limit:
            raise _Dropped(f"{degrees:.6f} is out of range (±{limit:g})")
        return -degrees if ref == negative else degrees

    lat = reader.field("GPSLatitude", lambda: coordinate(GPS_LATITUDE, GPS_LATITUDE_REF, "NS", "S", 90.0))
    lon = reader.field("GPSLongitude", lambda: coordinate(GPS_LONGITUDE, GPS_LONGITUDE_REF, "EW", "W", 180.0))
    if lat is None or lon is None:
        if lat is not None or lon is not None:
            kept = "GPSLatitude" if lat is not None else "GPSLongitude"
            reader.note(kept, "its pair is unusable")
        return None, None
    if lat == 0 and lon == 0:
        reader.note("GPS", "0,0 is null island (an unset receiver), not a position")
        return None, None
    return lat, lon


def _orientation(base: Mapping[int, Any]) -> int:
    value = base[TAG_ORIENTATION]
    if isinstance(value, tuple | list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bytes | str):
        value = clean_text(value)
    try:
        number = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise _Dropped(f"{_show(value)} is not a number") from exc
    if isinstance(value, float) and value != number:
        raise _Dropped(f"{_show(value)} is not a whole number")
    if not 1 <= number <= 8:
        raise _Dropped(f"{number} is outside 1..8")
    return number
