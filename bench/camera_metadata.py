"""Metadata of real camera photos: the gate's reading against exiftool's, field by field.

python -m bench.camera_metadata                 # fetch the public sample sets, measure, print
python -m bench.camera_metadata --images DIR    # add your own photos (any number of --images)

The photos are the camera files that public packages ship as test data, fetched with the
ordinary registry clients into a cache folder (``$LENSLOG_BENCH_CACHE``, default
``~/.cache/lenslog-bench``):

- the Pillow sdist of the installed version (``Tests/images``: Canon, Nikon, Apple, Google, Fujifilm,
  Samsung, Nintendo, Xiaomi... JPEG and MPO files), via ``pip download``;
- the piexif 1.1.3 sdist (``tests/images``: Canon, Casio, Olympus, Panasonic, Pentax, Ricoh,
  Sigma, Sony), via ``pip download``;
- Debian's ``libimage-exiftool-perl`` source package (``t/images``: one file per maker, ~30 makers),
  ``libexif`` (``test/testdata``: maker-note variants) and ``exiv2`` (``test/data``: camera files
  and the malformed files of its bug reports), via ``apt-get source`` when apt has a ``deb-src``
  entry; each is skipped with a message otherwise.

Each file goes through the real gate (``gate.inspect``, no ``--meta``: only what the file says),
then its decision's metadata is compared with ``exiftool -json -n`` (the reference; Debian's
``libimage-exiftool-perl``). Fields and their reference:

- make, model: EXIF IFD0 Make, Model (whitespace collapsed);
- capture time (local): the first real date of DateTimeOriginal, CreateDate, ModifyDate, to the
  second, against ``captured_local``;
- UTC time, for files with an offset tag or GPS date and time stamps: the date minus the offset
  (exact to the second), else GPSDateTime (within ``GPS_TOLERANCE_S``: a GPS stamp is the time of
  the last fix, seconds to a minute or two before the shot), against ``captured_at``;
- GPS: Composite GPSLatitude/GPSLongitude (signed), within 1e-5 degrees, when exiftool has a
  non-zero pair.

Targets (issue 17): capture time (local) and make/model/GPS for >= 98% of the files that hold
them; UTC time for every file with an offset or GPS stamps.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

EXTENSIONS = {".jpg", ".jpeg", ".png", ".mpo", ".tif", ".tiff", ".bmp"}
# what exiftool must call a file for it to count: image files (a .jpg that is an exiv2 sidecar or
# a fuzzer's byte soup is not a photo, and the gate refuses it unknown_format unread)
FILE_TYPES = {"JPEG", "PNG", "MPO", "TIFF", "BMP"}
PIEXIF = "piexif==1.1.3"
GPS_TOLERANCE_S = 300
POSITION_TOLERANCE = 1e-5
TARGETS = {"time_local": 0.98, "make": 0.98, "model": 0.98, "gps": 0.98, "time_utc": 1.0}
MAX_MEMBER_BYTES = 64 * 1024 * 1024


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def cache_dir() -> Path:
    explicit = os.environ.get("LENSLOG_BENCH_CACHE")
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lenslog-bench"


# --- fetching the sample sets -------------------------------------------------------------------


def _pip_sdist(requirement: str, dest: Path) -> Path | None:
    dest.mkdir(parents=True, exist_ok=True)
    name = requirement.split("==")[0].lower()
    found = [p for p in dest.iterdir() if p.name.lower().startswith(name) and p.suffix in (".gz", ".zip")]
    if found:
        return found[0]
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"]
    cmd += ["--no-deps", "--no-binary", ":all:", requirement, "-d", str(dest)]
    if subprocess.run(cmd, capture_output=True, timeout=900).returncode != 0:
        return None
    found = [p for p in dest.iterdir() if p.name.lower().startswith(name) and p.suffix in (".gz", ".zip")]
    return found[0] if found else None


def _apt_source(package: str, dest: Path) -> Path | None:
    dest.mkdir(parents=True, exist_ok=True)
    found = sorted(dest.glob("*.orig.tar.*"))
    if not found and shutil.which("apt-get"):
        subprocess.run(
            ["apt-get", "source", "--download-only", "-qq", package],
            cwd=dest,
            capture_output=True,
            timeout=900,
        )
        found = sorted(dest.glob("*.orig.tar.*"))
    return found[0] if found else None


def _extract(archive: Path, inside: str, target: Path) -> Path | None:
    """The image files under ``inside`` (a folder of the archive), flat into ``target``."""
    if target.is_dir():
        return target
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".extract-"))
    try:
        for name, read in _members(archive):
            path = PurePosixPath(name)
            if path.suffix.lower() not in EXTENSIONS or f"/{inside}/" not in f"/{name}":
                continue
            data = read()
            if data is not None:
                (tmp / path.name).write_bytes(data)
        tmp.rename(target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
    return target if target.is_dir() else None


def _members(archive: Path) -> Iterable[tuple[str, Callable[[], bytes | None]]]:
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                if not info.is_dir() and info.file_size <= MAX_MEMBER_BYTES:
                    yield info.filename, lambda info=info: z.read(info)
        return
    with tarfile.open(archive) as t:
        for member in t:
            if member.isfile() and member.size <= MAX_MEMBER_BYTES:

                def read(member: tarfile.TarInfo = member) -> bytes | None:
                    f = t.extractfile(member)
                    return f.read() if f else None

                yield member.name, read


def sample_sets(cache: Path | None = None) -> dict[str, Path]:
    """Every sample set that could be fetched, by name; the ones that could not are logged."""
    from PIL import __version__ as pillow

    cache = cache or cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    plan: list[tuple[str, Callable[[Path], Path | None], str]] = [
        (f"pillow-{pillow}", lambda d: _pip_sdist(f"pillow=={pillow}", d), "Tests/images"),
        ("piexif-1.1.3", lambda d: _pip_sdist(PIEXIF, d), "tests/images"),
        ("exiftool", lambda d: _apt_source("libimage-exiftool-perl", d), "t/images"),
        ("libexif", lambda d: _apt_source("libexif", d), "test/testdata"),
        ("exiv2", lambda d: _apt_source("exiv2", d), "test/data"),
    ]
    for name, fetch, inside in plan:
        where = cache / name
        archive = fetch(where / "download")
        folder = _extract(archive, inside, where / "images") if archive else None
        if folder is None:
            log(f"camera metadata: {name} could not be fetched; skipped")
        else:
            out[name] = folder
    return out


# --- the reference reader -----------------------------------------------------------------------

EXIFTOOL_TAGS = [
    "-File:FileType",
    "-IFD0:Make",
    "-IFD0:Model",
    "-IFD0:ModifyDate",
    "-ExifIFD:DateTimeOriginal",
    "-ExifIFD:CreateDate",
    "-ExifIFD:OffsetTimeOriginal",
    "-ExifIFD:OffsetTimeDigitized",
    "-ExifIFD:OffsetTime",
    "-ExifIFD:SubSecTimeOriginal",
    "-GPS:GPSDateStamp",
    "-GPS:GPSTimeStamp",
    "-Composite:GPSLatitude",
    "-Composite:GPSLongitude",
]


def exiftool(paths: list[Path]) -> dict[str, dict[str, Any]]:
    """``exiftool -json -n -G1`` over every file in one process, keyed by path."""
    with tempfile.NamedTemporaryFile("w", suffix=".args", delete=False) as args:
        args.write("\n".join(str(p) for p in paths))
    try:
        proc = subprocess.run(
            ["exiftool", "-json", "-n", "-G1", "-q", "-q", *EXIFTOOL_TAGS, "-@", args.name],
            capture_output=True,
            timeout=1200,
        )
    finally:
        os.unlink(args.name)
    rows = json.loads(proc.stdout or b"[]")
    return {row["SourceFile"]: row for row in rows}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    if set(text) <= {"?"}:
        return None  # exiftool's rendering of bytes that are no text (e.g. a Make of b"\x8c")
    return text or None


def _date(value: Any, real: bool = True) -> datetime | None:
    """An EXIF date; with ``real``, only a possible capture time (1990 to tomorrow, the gate's
    plausibility rule): a camera that writes 2099 has no capture time."""
    from lenslog.domain.exif import parse_exif_datetime

    text = _text(value)
    when = parse_exif_datetime(text) if text else None
    if real and when is not None and not (datetime(1990, 1, 1) <= when <= datetime.now() + timedelta(days=1)):
        return None
    return when


def _offset(value: Any) -> timedelta | None:
    from lenslog.domain.exif import normalise_offset

    text = normalise_offset(_text(value) or "")
    if text is None:
        return None
    sign = -1 if text[0] == "-" else 1
    return sign * timedelta(hours=int(text[1:3]), minutes=int(text[4:6]))


@dataclass(frozen=True)
class Reference:
    make: str | None
    model: str | None
    local: datetime | None
    utc: datetime | None
    utc_exact: bool
    lat: float | None
    lon: float | None


def reference(row: dict[str, Any]) -> Reference:
    local = next(
        (
            d
            for d in map(
                _date,
                (row.get(f) for f in ("ExifIFD:DateTimeOriginal", "ExifIFD:CreateDate", "IFD0:ModifyDate")),
            )
            if d
        ),
        None,
    )
    offset = next(
        (
            o
            for o in map(
                _offset,
                (
                    row.get(f"ExifIFD:{t}")
                    for t in ("OffsetTimeOriginal", "OffsetTimeDigitized", "OffsetTime")
                ),
            )
            if o is not None
        ),
        None,
    )
    utc, exact = None, False
    if local is not None and offset is not None:
        utc, exact = (local - offset).replace(tzinfo=UTC, microsecond=0), True
    elif local is not None:
        day, stamp = _text(row.get("GPS:GPSDateStamp")), row.get("GPS:GPSTimeStamp")
        gps_day = _date(f"{day} 00:00:00", real=False) if day else None
        if gps_day is not None and isinstance(stamp, int | float | str):
            try:
                h, m, s = (
                    (float(x) for x in str(stamp).split(":"))
                    if isinstance(stamp, str)
                    else (0, 0, float(stamp))
                )
                utc = (gps_day + timedelta(hours=h, minutes=m, seconds=s)).replace(tzinfo=UTC)
            except ValueError:
                utc = None
    lat, lon = row.get("Composite:GPSLatitude"), row.get("Composite:GPSLongitude")
    if (
        not isinstance(lat, int | float)
        or not isinstance(lon, int | float)
        or (lat == 0 and lon == 0)
        or not (-90 <= lat <= 90 and -180 <= lon <= 180)
    ):
        lat = lon = None
    return Reference(_text(row.get("IFD0:Make")), _text(row.get("IFD0:Model")), local, utc, exact, lat, lon)


# --- the measurement ----------------------------------------------------------------------------


@dataclass
class Tally:
    held: int = 0
    matched: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, ok: bool, name: str, detail: str) -> None:
        self.held += 1
        if ok:
            self.matched += 1
        elif len(self.misses) < 12:
            self.misses.append(f"{name}: {detail}")

    @property
    def share(self) -> float | None:
        return self.matched / self.held if self.held else None


def measure(extra: Iterable[Path] = (), log: Callable[[str], None] = log) -> dict[str, Any]:
    """Fetch (or find in the cache) the sample sets, run the gate on every file, compare."""
    from lenslog.config import load_config
    from lenslog.domain import gate

    if shutil.which("exiftool") is None:
        raise RuntimeError("exiftool is not installed (apt-get install libimage-exiftool-perl)")
    sets = sample_sets()
    folders = {**sets, **{f"dir:{p.name}": p for p in extra}}
    paths = sorted(
        p for d in folders.values() for p in d.rglob("*") if p.is_file() and p.suffix.lower() in EXTENSIONS
    )
    log(f"camera metadata: {len(paths)} files from {', '.join(folders)}")
    refs = exiftool(paths)
    config = load_config()
    tallies = {k: Tally() for k in ("make", "model", "time_local", "time_utc", "gps")}
    statuses: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    makers: set[str] = set()
    camera_files = 0
    for path in paths:
        row = refs.get(str(path))
        if row is None:
            continue
        if row.get("File:FileType") not in FILE_TYPES:
            continue
        ref = reference(row)
        if not any((ref.make, ref.model, ref.local, ref.lat is not None)):
            continue  # no camera metadata at all: nothing to compare
        camera_files += 1
        if ref.make:
            makers.add(ref.make.split()[0].casefold().rstrip(",."))
        inspection = gate.inspect(
            gate.GateInput(key=f"uploads/{path.name}", data=path.read_bytes(), cell=config.home_cell), config
        )
        md = inspection.metadata
        status = gate.verdict(inspection.refusals)
        statuses[f"{status}" + (f" ({inspection.refusals[0].reason})" if inspection.refusals else "")] += 1
        if md.time_rule:
            rules[md.time_rule] += 1
        name = f"{path.parent.parent.name}/{path.name}"
        if ref.make:
            tallies["make"].add(md.make == ref.make, name, f"{md.make!r} != {ref.make!r}")
        if ref.model:
            tallies["model"].add(md.model == ref.model, name, f"{md.model!r} != {ref.model!r}")
        if ref.local:
            got = (md.captured_local or "")[:19]
            want = ref.local.replace(microsecond=0).isoformat()
            tallies["time_local"].add(got == want, name, f"{got or None} != {want}")
        if ref.utc:
            got_utc = md.captured_at.replace(microsecond=0) if md.captured_at else None
            tolerance = 0 if ref.utc_exact else GPS_TOLERANCE_S
            ok = got_utc is not None and abs((got_utc - ref.utc).total_seconds()) <= tolerance
            tallies["time_utc"].add(ok, name, f"{got_utc} != {ref.utc} (+-{tolerance}s)")
        if ref.lat is not None and ref.lon is not None:
            ok = (
                md.lat is not None
                and md.lon is not None
                and abs(md.lat - ref.lat) <= POSITION_TOLERANCE
                and abs(md.lon - ref.lon) <= POSITION_TOLERANCE
            )
            tallies["gps"].add(ok, name, f"{md.lat},{md.lon} != {ref.lat},{ref.lon}")
    fields = {
        k: {"held": t.held, "matched": t.matched, "share": t.share, "target": TARGETS[k], "misses": t.misses}
        for k, t in tallies.items()
    }
    return {
        "files": len(paths),
        "camera_files": camera_files,
        "makers": len(makers),
        "sets": {k: str(v) for k, v in folders.items()},
        "fields": fields,
        "statuses": dict(statuses.most_common()),
        "time_rules": dict(rules.most_common()),
        "on_target": all(f["share"] is None or f["share"] >= f["target"] for f in fields.values()),
    }


def table(r: dict[str, Any]) -> str:
    lines = [
        f"camera metadata: {r['camera_files']} camera files (of {r['files']}), {r['makers']} makers",
        f"{'field':<22}{'files':>7}{'match':>7}{'share':>9}  target",
    ]
    for name, f in r["fields"].items():
        share = "-" if f["share"] is None else f"{f['share']:.1%}"
        lines.append(f"{name:<22}{f['held']:>7}{f['matched']:>7}{share:>9}  >={f['target']:.0%}")
    lines.append("time rules: " + ", ".join(f"{k} {v}" for k, v in r["time_rules"].items()))
    lines.append("decisions: " + ", ".join(f"{k} {v}" for k, v in r["statuses"].items()))
    for name, f in r["fields"].items():
        for miss in f["misses"]:
            lines.append(f"  miss {name}: {miss}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.camera_metadata")
    parser.add_argument("--images", type=Path, action="append", default=[], help="more photos (a folder)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    result = measure(args.images)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str))
    print(table(result))
    return 0 if result["on_target"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
