"""The metadata step of the gate: merge what every source says about an image, by precedence.

Sources, highest precedence first (the :class:`~lenslog.domain.models.Provenance` values):

1. ``sidecar``: the parsed ``<key>.json`` uploaded next to the image;
2. ``s3_metadata``: the object's user metadata (``x-amz-meta-*``, prefix stripped);
3. ``registry``: the registered camera (``config.cameras``), then its source (``config.sources``);
4. ``exif``: the fields :func:`lenslog.domain.exif.read_exif` trusted;
5. ``key_path``: conventions in the object key (``k=v`` segments, a registered camera or source
   id as a segment, ``YYYY-MM-DD`` or ``YYYY/MM/DD`` segments, a time stamp in the file name).

``derived`` marks what normalisation computed (a camera id from EXIF make/model/serial, the shift
from the local hour). ``meta.provenance[field]`` names the source of every field set, and
``meta.notes`` explains every value dropped: a value that fails to parse is dropped with a note
naming the field, the value and the source, and the next source down may then fill the field.
:func:`normalise` never raises, whatever the mappings hold.

Time decisions (the rules themselves live in :mod:`lenslog.domain.capture_time`):

- ``captured_at`` is always UTC and aware. The clock is taken by precedence like any field
  (sidecar, S3 metadata, EXIF DateTimeOriginal/DateTimeDigitized/DateTime, key path). A clock with
  an offset (ISO ``Z`` or ``+02:00``, EXIF OffsetTime*, an epoch) is an instant. A naive clock is
  placed by, in order: a stated ``timezone`` (sidecar, S3 metadata, key path), the EXIF GPS time
  stamps, the zone at the image's GPS position, the registered camera's zone, its source's, and
  last the zone configured for the cell it landed in, flagged ``timezone_assumed``.
  ``time_rule`` names the rule, ``provenance["timezone"]`` where the zone came from.
- An image lacks a capture time only when no source gives a usable clock: an unknown zone is a
  flag and a note, never a missing time (it no longer leaves ``captured_at`` unset).
- ``captured_local`` is the wall clock in the image's zone (ISO, no offset); shifts, capture days
  and splits use it.
- A capture time before 1990 or more than one day after ``now`` is dropped with a note.
- A date without a time (``2026-11-20``, key-path date folders) is midnight local time, with a
  note; the shift is not derived from it.
- ``shift`` is derived from the local hour when no source gives one: ``day`` 06-14,
  ``evening`` 14-22, ``night`` 22-06.

Other decisions: latitude and longitude are one pair per source (a source giving only one of them,
or ``0,0``, or an out-of-range value, gives none). A ``data_region`` that names an AWS region of a
configured cell becomes that cell's name; an unknown one is kept with a note, so the residency
step can refuse it instead of silently falling back to the landing region. An EXIF serial that
matches exactly one registered camera's serial identifies that camera (provenance ``registry``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from lenslog.config import Config, PersonalData, SourceType
from lenslog.domain import capture_time as ct
from lenslog.domain.capture_time import ExifTime as _ExifTime
from lenslog.domain.capture_time import When as _When
from lenslog.domain.capture_time import parse_time as _parse_time
from lenslog.domain.capture_time import tzinfo_of as _tzinfo
from lenslog.domain.exif import ExifFields, normalise_offset
from lenslog.domain.models import ImageMetadata, Provenance

NOTE_TIMEZONE_ASSUMED = ct.NOTE_TIMEZONE_ASSUMED
EARLIEST_CAPTURE = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)
MAX_TEXT = 256
MAX_EXTRA = 1024
SHIFTS = ("day", "evening", "night")

_TEXT_FIELDS = (
    "camera_id",
    "make",
    "model",
    "serial",
    "source_id",
    "site",
    "operator",
    "weather",
    "conditions",
    "scene",
    "consent_id",
)
_SETTABLE = {
    *_TEXT_FIELDS,
    "captured_at",
    "timezone",
    "source_type",
    "shift",
    "classes",
    "pii",
    "data_region",
    "lat",
    "lon",
    "orientation",
}
ALIASES: dict[str, str] = {
    "camera": "camera_id",
    "cam": "camera_id",
    "timestamp": "captured_at",
    "captured": "captured_at",
    "datetime": "captured_at",
    "time": "captured_at",
    "date": "captured_at",
    "captured_local": "captured_at",
    "latitude": "lat",
    "longitude": "lon",
    "lng": "lon",
    "long": "lon",
    "class": "classes",
    "labels": "classes",
    "label": "classes",
    "source": "source_id",
    "consent": "consent_id",
    "region": "data_region",
    "tz": "timezone",
    "time_zone": "timezone",
    "serial_number": "serial",
}
_NOT_SETTABLE = {"provenance", "notes"}

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_STAMPS = (
    re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})[_T-]?(\d{2})(\d{2})(\d{2})(?!\d)"),
    re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})[T_ ](\d{2})[-:.](\d{2})[-:.](\d{2})(?!\d)"),
)
_YEAR = re.compile(r"^(19|20)\d{2}$")
_TWO_DIGITS = re.compile(r"^\d{2}$")


@dataclass(frozen=True)
class MetadataInputs:
    key: str
    sidecar: Mapping[str, Any] | None
    s3_metadata: Mapping[str, str]
    exif: ExifFields
    sidecar_error: str | None = None
    cell: str | None = None  # the cell the image landed in (its zone is the last resort); else home


class _Invalid(ValueError):
    """A value that cannot be used; the message says why."""


@dataclass
class _Layer:
    source: Provenance
    values: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


# --- public interface ---------------------------------------------------------------------------


def canonical_field(name: Any) -> str | None:
    """The ImageMetadata field a sidecar/metadata key names (aliases, ``-`` or ``_``), else None."""
    key = _canon(name)
    if key in _SETTABLE:
        return key
    return ALIASES.get(key)


def missing_required(meta: ImageMetadata, required: Sequence[str]) -> list[str]:
    """The required fields (aliases accepted, ``extra`` keys too) that ``meta`` does not carry."""
    missing: list[str] = []
    for name in required:
        canon = canonical_field(name) or _canon(name)
        if not meta.has(canon) and canon not in missing:
            missing.append(canon)
    return missing


def normalise(inputs: MetadataInputs, config: Config, now: datetime | None = None) -> ImageMetadata:
    """Merge and normalise every source of metadata of one image; never raises."""
    merger = _Merger(inputs, config, now or datetime.now(UTC))
    try:
        return merger.run()
    except Exception as exc:  # a bug must not stop the gate: keep what is known, say why
        merger.notes.append(f"metadata normalisation failed: {type(exc).__name__}: {_short(str(exc))}")
        return merger.salvage()


# --- merging ------------------------------------------------------------------------------------


class _Merger:
    def __init__(self, inputs: MetadataInputs, config: Config, now: datetime) -> None:
        self.inputs = inputs
        self.config = config
        self.now = now if now.tzinfo else now.replace(tzinfo=UTC)
        self.values: dict[str, Any] = {}
        self.provenance: dict[str, str] = {}
        self.extra: dict[str, str] = {}
        self.notes: list[str] = []

    # helpers

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def set(self, name: str, value: Any, source: Provenance) -> None:
        self.values[name] = value
        self.provenance[name] = source.value

    def resolve(self, name: str, layers: Sequence[_Layer], parse: Callable[[Any], Any]) -> Any:
        """The first value of ``name`` that parses, by precedence; notes for the ones dropped."""
        for layer in layers:
            if name not in layer.values:
                continue
            raw = layer.values[name]
            try:
                value = parse(raw)
            except Exception as exc:
                self.note(f"{name} {_show(raw)} from {layer.source.value} dropped: {_short(str(exc))}")
                continue
            if value is None or value == []:
                continue
            self.set(name, value, layer.source)
            return value
        return None

    def guarded(self, what: str, step: Callable[[], None]) -> None:
        try:
            step()
        except Exception as exc:
            self.note(f"{what} skipped: {type(exc).__name__}: {_short(str(exc))}")

    # the steps

    def run(self) -> ImageMetadata:
        self.notes.extend(self.inputs.exif.notes)
        if self.inputs.sidecar_error:
            self.note(f"sidecar dropped: {_short(str(self.inputs.sidecar_error), 200)}")
        self.sidecar = self.mapping_layer(self.inputs.sidecar, Provenance.sidecar)
        self.s3 = self.mapping_layer(self.inputs.s3_metadata, Provenance.s3_metadata)
        self.exif = self.exif_layer(self.inputs.exif)
        self.key_path = _Layer(Provenance.key_path)
        self.guarded("key-path conventions", lambda: self.read_key_path(self.inputs.key))
        self.registry = _Layer(Provenance.registry)

        self.guarded("camera_id", self.resolve_camera)
        self.guarded("source_id", self.resolve_source)
        self.guarded("registry", self.fill_registry)
        layers = (self.sidecar, self.s3, self.registry, self.exif, self.key_path)
        parsers: dict[str, Callable[[Any], Any]] = dict.fromkeys(_TEXT_FIELDS, _text)
        parsers.update(
            source_type=_source_type,
            classes=_names,
            pii=self.parse_pii,
            data_region=self.parse_region,
            orientation=_orientation,
        )
        for name, parse in parsers.items():
            if name in ("camera_id", "source_id"):
                continue
            self.guarded(name, partial(self.resolve, name, layers, parse))
        self.guarded("position", lambda: self.resolve_position(layers))
        self.guarded("captured_at", lambda: self.resolve_time(layers))
        self.guarded("shift", lambda: self.resolve_shift(layers))
        self.guarded("extra", lambda: self.merge_extra(layers))
        return self.build()

    def build(self) -> ImageMetadata:
        values = {k: v for k, v in self.values.items() if not k.startswith("_")}
        values.update(extra=self.extra, provenance=self.provenance, notes=self.notes)
        return ImageMetadata.model_validate(values)

    def salvage(self) -> ImageMetadata:
        try:
            return self.build()
        except Exception:
            return ImageMetadata.model_validate({"notes": self.notes})

    def mapping_layer(self, data: Any, source: Provenance) -> _Layer:
        layer = _Layer(source)
        if data is None:
            return layer
        if not isinstance(data, Mapping):
            self.note(f"{source.value} dropped: expected an object, got {type(data).__name__}")
            return layer
        try:
            items = list(data.items())
        except Exception as exc:
            self.note(f"{source.value} dropped: {type(exc).__name__}")
            return layer
        # canonical names first, so that ``camera_id`` wins over ``camera`` in the same source
        items.sort(key=lambda kv: 0 if _canon(kv[0]) in _SETTABLE else 1)
        for key, value in items:
            self.add_to_layer(layer, key, value)
        return layer

    def add_to_layer(self, layer: _Layer, key: Any, value: Any) -> None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return
        name = _canon(key)
        target = canonical_field(name)
        if name in _NOT_SETTABLE:
            self.note(f"{name} from {layer.source.value} ignored: it is computed, not given")
            return
        if name == "extra" and isinstance(value, Mapping):
            for k, v in list(value.items()):
                if v is not None and _canon(k) not in layer.extra:
                    layer.extra[_canon(k)] = v
            return
        if target is None:
            if name and name not in layer.extra:
                layer.extra[name] = value
            return
        if target in layer.values:
            if layer.values[target] != value:
                self.note(
                    f"{target} from {layer.source.value}: {_show(key)} {_show(value)} ignored, "
                    f"{_show(layer.values[target])} given first"
                )
            return
        layer.values[target] = value

    def exif_layer(self, exif: ExifFields) -> _Layer:
        layer = _Layer(Provenance.exif)
        for name in ("make", "model", "serial", "orientation", "lat", "lon"):
            value = getattr(exif, name, None)
            if value is not None:
                layer.values[name] = value
        if exif.datetime_original:
            layer.values["captured_at"] = _ExifTime(
                exif.datetime_original, exif.offset, exif.subsec, exif.offset_tag
            )
        return layer

    def read_key_path(self, key: str) -> None:
        layer = self.key_path
        parts = [p for p in str(key).split("/") if p]
        if not parts:
            return
        dirs, filename = parts[:-1], parts[-1]
        day: str | None = None
        i = 0
        while i < len(dirs):
            seg = dirs[i]
            if "=" in seg:
                k, v = seg.split("=", 1)
                self.add_to_layer(layer, k, v)
            elif seg in self.config.cameras:
                layer.values.setdefault("camera_id", seg)
            elif seg in self.config.sources:
                layer.values.setdefault("source_id", seg)
            elif _ISO_DATE.match(seg) and _valid_date(seg) and day is None:
                day = seg
            elif (
                day is None
                and i + 2 < len(dirs)
                and _YEAR.match(seg)
                and _TWO_DIGITS.match(dirs[i + 1])
                and _TWO_DIGITS.match(dirs[i + 2])
                and _valid_date(f"{seg}-{dirs[i + 1]}-{dirs[i + 2]}")
            ):
                day = f"{seg}-{dirs[i + 1]}-{dirs[i + 2]}"
                i += 2
            i += 1
        stem = filename.rsplit(".", 1)[0]
        stamp = _filename_stamp(stem)
        if stamp is not None:
            layer.values.setdefault("captured_at", stamp)
            if day is not None and not stamp.startswith(day):
                self.note(
                    f"key path: date folder {day} and file name stamp {stamp} disagree; using the stamp"
                )
        elif day is not None:
            layer.values.setdefault("captured_at", day)

    def resolve_camera(self) -> None:
        camera = self.resolve("camera_id", (self.sidecar, self.s3), _text)
        if camera is None:
            camera = self.camera_by_serial()
        if camera is None:
            camera = self.resolve("camera_id", (self.key_path,), _text)
        if camera is None:
            camera = _derived_camera_id(self.inputs.exif)
            if camera is not None:
                self.set("camera_id", camera, Provenance.derived)
                self.note(f"camera_id {camera} derived from EXIF make/model/serial")
        elif camera not in self.config.cameras and self.config.cameras:
            self.note(f"camera_id {camera} is not a registered camera; no registry defaults")

    def camera_by_serial(self) -> str | None:
        serial = self.inputs.exif.serial
        if not serial:
            return None
        make = (self.inputs.exif.make or "").casefold()
        matches = [
            name
            for name, cam in self.config.cameras.items()
            if cam.serial
            and cam.serial.strip().casefold() == serial.casefold()
            and (not cam.make or not make or cam.make.casefold() == make)
        ]
        if len(matches) != 1:
            return None
        self.set("camera_id", matches[0], Provenance.registry)
        self.note(f"camera_id {matches[0]} identified by its registered serial (EXIF {serial})")
        return matches[0]

    def resolve_source(self) -> None:
        camera = self.config.cameras.get(self.values.get("camera_id") or "")
        via_registry = _Layer(Provenance.registry, {"source_id": camera.source} if camera else {})
        self.resolve("source_id", (self.sidecar, self.s3, via_registry, self.key_path), _text)

    def fill_registry(self) -> None:
        values = self.registry.values
        camera = self.config.cameras.get(self.values.get("camera_id") or "")
        if camera is not None:
            for name in ("site", "make", "model", "serial", "timezone"):
                if getattr(camera, name) is not None:
                    values[name] = getattr(camera, name)
            if camera.lat is not None and camera.lon is not None:
                values["lat"], values["lon"] = camera.lat, camera.lon
            if camera.cell:
                values["data_region"] = camera.cell
        source = self.config.sources.get(self.values.get("source_id") or "")
        if source is not None:
            values["source_type"] = source.source_type.value
            if source.cell:
                values.setdefault("data_region", source.cell)

    def parse_pii(self, value: Any) -> list[str]:
        names = _names(value)
        kept: list[str] = []
        for name in names:
            flag = name.strip().lower()
            if flag in ("none", "no", "false"):
                continue
            if flag in PersonalData.__members__:
                if flag not in kept:
                    kept.append(flag)
            else:
                allowed = ", ".join(PersonalData.__members__)
                self.note(f"pii {_show(name)} dropped: not one of {allowed}")
        return kept

    def parse_region(self, value: Any) -> str | None:
        text = _text(value)
        if text is None:
            return None
        cells = self.config.cells
        if text in cells:
            return text
        if text.lower() in cells:
            return text.lower()
        cell = self.config.cell_of_region(text.lower())
        if cell is not None:
            return cell
        self.note(f"data_region {_show(text)} is not a configured cell ({', '.join(cells)}); kept as given")
        return text

    def resolve_position(self, layers: Sequence[_Layer]) -> None:
        for layer in layers:
            has_lat, has_lon = "lat" in layer.values, "lon" in layer.values
            if not (has_lat or has_lon):
                continue
            where = layer.source.value
            if not (has_lat and has_lon):
                given = "lat" if has_lat else "lon"
                self.note(f"{given} {_show(layer.values[given])} from {where} dropped: no matching pair")
                continue
            raw_lat, raw_lon = layer.values["lat"], layer.values["lon"]
            try:
                lat = _coordinate(raw_lat, 90.0)
                lon = _coordinate(raw_lon, 180.0)
                if lat == 0 and lon == 0:
                    raise _Invalid("0,0 is null island (an unset receiver), not a position")
            except Exception as exc:
                self.note(
                    f"lat/lon {_show(raw_lat)},{_show(raw_lon)} from {where} dropped: {_short(str(exc))}"
                )
                continue
            self.set("lat", lat, layer.source)
            self.set("lon", lon, layer.source)
            return

    def resolve_time(self, layers: Sequence[_Layer]) -> None:
        stated_layers = [lay for lay in layers if lay.source not in (Provenance.exif, Provenance.registry)]
        stated_name = self.resolve("timezone", stated_layers, _zone)
        stated = ct.Zone(stated_name, self.provenance["timezone"]) if stated_name else None
        camera = self.config.cameras.get(self.values.get("camera_id") or "")
        if stated is None and camera is not None and camera.timezone:
            self.set("timezone", camera.timezone, Provenance.registry)  # also when no time is known
        when: _When | None = None
        when_source: Provenance | None = None
        raw: Any = None
        for layer in layers:
            if "captured_at" not in layer.values:
                continue
            raw = layer.values["captured_at"]
            shown = _show(raw.text if isinstance(raw, _ExifTime) else raw)
            try:
                when = _parse_time(raw)
                self.check_range(when)
            except Exception as exc:
                self.note(f"captured_at {shown} from {layer.source.value} dropped: {_short(str(exc))}")
                when = None
                continue
            when_source = layer.source
            break
        if when is None or when_source is None:
            return
        exif_clock = raw if isinstance(raw, _ExifTime) else None
        found = ct.resolve(when, when_source.value, exif_clock, self.time_evidence(stated, exif_clock))
        if found is None:  # no zone at all, not even the cell's: keep the wall clock only
            self.set("captured_local", when.value.replace(tzinfo=None).isoformat(), when_source)
            self.note(f"captured_at {when.value.isoformat()} has no time zone; captured_at left unset")
            self.values["_date_only"] = when.date_only
            return
        for text in found.notes:
            self.note(text)
        if when.date_only:
            self.note(
                f"captured_at from {when_source.value} is a date without a time; "
                "set to local midnight, no shift derived"
            )
        self.set("captured_at", found.utc, when_source)
        self.set("captured_local", found.local.isoformat(), when_source)
        if "timezone" not in self.values or self.values["timezone"] != found.zone:
            self.values["timezone"] = found.zone
        self.provenance["timezone"] = found.zone_source
        self.set("time_rule", str(found.rule), Provenance(found.zone_source))
        if found.assumed:
            self.set("timezone_assumed", True, Provenance.derived)
        self.values["_date_only"] = when.date_only

    def time_evidence(self, stated: ct.Zone | None, exif_clock: _ExifTime | None) -> ct.Evidence:
        camera = self.config.cameras.get(self.values.get("camera_id") or "")
        source = self.config.sources.get(self.values.get("source_id") or "")
        cell_name = self.inputs.cell if self.inputs.cell in self.config.cells else self.config.home_cell
        cell = self.config.cells.get(cell_name or "")
        gps_utc = None
        if exif_clock is not None and self.inputs.exif.gps_datetime:
            try:
                gps_utc = datetime.fromisoformat(self.inputs.exif.gps_datetime)
            except ValueError:
                gps_utc = None
        position = None
        where = self.provenance.get("lat")
        if self.values.get("lat") is not None and where not in (None, Provenance.registry.value):
            position = (self.values["lat"], self.values["lon"])
        return ct.Evidence(
            stated=stated,
            gps_utc=gps_utc,
            position=position,
            position_source=where or Provenance.exif.value,
            camera=camera.timezone if camera else None,
            source=source.timezone if source else None,
            cell=cell.timezone if cell else None,
            cell_name=cell_name or "",
        )

    def check_range(self, when: _When) -> None:
        value = when.value
        if not when.aware:  # compare wall time; the one-day tolerance covers any offset
            value = value.replace(tzinfo=UTC)
        if value < EARLIEST_CAPTURE:
            raise _Invalid(f"before {EARLIEST_CAPTURE.year}")
        if value > self.now + FUTURE_TOLERANCE:
            raise _Invalid("more than one day in the future")

    def resolve_shift(self, layers: Sequence[_Layer]) -> None:
        if self.resolve("shift", layers, _shift) is not None:
            return
        local = self.values.get("captured_local")
        if not local or self.values.get("_date_only"):
            return
        hour = datetime.fromisoformat(local).hour
        self.set(
            "shift",
            "day" if 6 <= hour < 14 else "evening" if 14 <= hour < 22 else "night",
            Provenance.derived,
        )

    def merge_extra(self, layers: Sequence[_Layer]) -> None:
        for layer in layers:
            for key, raw in layer.extra.items():
                if not key or key in self.extra:
                    continue
                try:
                    value = _extra_value(raw)
                except Exception as exc:
                    self.note(f"extra {_show(key)} {_show(raw)} from {layer.source.value} dropped: {exc}")
                    continue
                if value is None:
                    continue
                self.extra[key] = value
                self.provenance[key] = layer.source.value


# --- value parsers: return the normalised value, None when empty, raise when invalid ------------


def _canon(key: Any) -> str:
    text = key if isinstance(key, str) else str(key)
    return "_".join(text.strip().lower().replace("-", "_").split())


def _show(value: Any, limit: int = 60) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Invalid(f"expected text, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise _Invalid("not a finite number")
    text = " ".join(str(value).split())
    if not text:
        return None
    if any(not c.isprintable() for c in text):
        raise _Invalid("holds control characters")
    if len(text) > MAX_TEXT:
        raise _Invalid(f"longer than {MAX_TEXT} characters")
    return text


def _names(value: Any) -> list[str]:
    """A list of names, or a comma-separated string of them; stripped, empty and repeats dropped."""
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise _Invalid(f"expected a list or a comma-separated string, got {type(value).__name__}")
    names: list[str] = []
    for item in items:
        name = _text(item)
        if name and name not in names:
            names.append(name)
    return names


def _source_type(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    key = text.lower().replace("-", "_").replace(" ", "_")
    if key not in SourceType.__members__:
        raise _Invalid(f"not one of {', '.join(SourceType.__members__)}")
    return key


def _shift(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    if text.lower() not in SHIFTS:
        raise _Invalid(f"not one of {', '.join(SHIFTS)}")
    return text.lower()


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise _Invalid("expected a number, got bool")
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError as exc:
            raise _Invalid("not a number") from exc
    elif isinstance(value, int | float):
        number = float(value)
    else:
        raise _Invalid(f"expected a number, got {type(value).__name__}")
    if not math.isfinite(number):
        raise _Invalid("not a finite number")
    return number


def _coordinate(value: Any, limit: float) -> float:
    number = _number(value)
    if not -limit <= number <= limit:
        raise _Invalid(f"out of range (±{limit:g})")
    return number


def _orientation(value: Any) -> int:
    number = _number(value)
    if number != int(number) or not 1 <= number <= 8:
        raise _Invalid("not an EXIF orientation 1..8")
    return int(number)


def _zone(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    if text.upper() in ("Z", "UTC", "GMT", "+00:00", "-00:00"):
        return "UTC"
    offset = normalise_offset(text)
    if offset is not None:
        return offset
    if _tzinfo(text) is None:
        raise _Invalid("not an IANA time zone or a +HH:MM offset")
    return text


def _valid_date(text: str) -> bool:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return False
    return 1990 <= day.year <= 2100


def _filename_stamp(stem: str) -> str | None:
    for pattern in _STAMPS:
        for m in pattern.finditer(stem):
            try:
                stamp = datetime(*(int(g) for g in m.groups()))  # type: ignore[arg-type]
            except ValueError:
                continue
            if 1990 <= stamp.year <= 2100:
                return stamp.isoformat()
    return None


def _extra_value(value: Any) -> str | None:
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise _Invalid("not a finite number")
        text = str(value)
    else:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False, default=str)
    if not text:
        return None
    if len(text) > MAX_EXTRA:
        raise _Invalid(f"longer than {MAX_EXTRA} characters")
    return text


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")


def _derived_camera_id(exif: ExifFields) -> str | None:
    """``exif-<make>-<model>-<serial>`` when EXIF has make and model, or a serial."""
    make, model, serial = (_slug(v) if v else "" for v in (exif.make, exif.model, exif.serial))
    if not ((make and model) or serial):
        return None
    if make and model.startswith(make + "-"):
        model = model[len(make) + 1 :]  # "Canon" + "Canon EOS 5D" -> canon-eos-5d
    elif make and model == make:
        model = ""
    slug = "-".join(p for p in ("exif", make, model, serial) if p)
    return slug[:MAX_TEXT]
