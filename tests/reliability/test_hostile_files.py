"""Hostile files: Pillow's own test corpus (hundreds of real, odd and broken images) and crafted
files (truncated, empty, bombs, huge metadata, wrong extensions, other formats named .jpg,
polyglots). Every file gets a decision with a reason, nothing raises, bombs are refused before a
pixel is allocated, and Pillow is never asked to open a format outside the allow-list."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lenslog.domain import gate
from lenslog.domain.models import Reason, Status
from tests.corpus import pillow_test_images
from tests.images import jpeg
from tests.reliability.hostile import crafted
from tests.reliability.support import META

ALLOWED = {"JPEG", "PNG", "BMP"}
CRAFTED = crafted()


@pytest.fixture
def pillow_opens(monkeypatch):
    """Record every ``Image.open`` call's ``formats`` and every plugin factory Pillow runs."""
    from PIL import EpsImagePlugin, Image

    Image.init()
    calls: list[tuple[str, ...] | None] = []
    plugins: list[str] = []
    real_open = Image.open

    def recording_open(fp, mode="r", formats=None):
        calls.append(tuple(formats) if formats is not None else None)
        return real_open(fp, mode, formats)

    monkeypatch.setattr(Image, "open", recording_open)
    for fmt, (factory, accept) in list(Image.OPEN.items()):

        def recording_factory(*args, __fmt=fmt, __factory=factory, **kwargs):
            plugins.append(__fmt)
            return __factory(*args, **kwargs)

        monkeypatch.setitem(Image.OPEN, fmt, (recording_factory, accept))

    def no_eps(*args, **kwargs):
        raise AssertionError("the EPS plugin (Ghostscript) must never run")

    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "_open", no_eps)
    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", no_eps)
    yield calls, plugins
    assert all(c is not None and set(c) <= ALLOWED for c in calls), calls
    assert set(plugins) <= ALLOWED | {"MPO"}, plugins  # MPO is JPEG's own multi-picture variant


def _inspect(name: str, data: bytes, config, metadata=META) -> gate.Inspection:
    return gate.inspect(gate.GateInput(key=name, data=data, s3_metadata=metadata), config)


@pytest.mark.parametrize("hostile", CRAFTED, ids=[h.name for h in CRAFTED])
def test_each_crafted_file_gets_the_decision_it_deserves(config, pillow_opens, hostile):
    result = _inspect(hostile.name, hostile.data, config)
    status = gate.verdict(result.refusals)
    reasons = [str(r.reason) for r in result.refusals]
    assert (status, reasons[:1]) == (hostile.status, [hostile.reason] if hostile.reason else [])
    assert all(r.detail for r in result.refusals)  # every reason says why
    if status is Status.accepted:
        assert result.hashes and result.hashes.phash and result.quality is not None


def test_other_formats_never_reach_pillow(config, pillow_opens):
    calls, plugins = pillow_opens
    for h in CRAFTED:
        if h.reason in ("format_not_allowed", "unknown_format"):
            _inspect(h.name, h.data, config)
    assert calls == [] and plugins == []  # refused from the magic bytes alone


def _pillow_files() -> list[Path]:
    root = pillow_test_images()
    if root is None:
        pytest.skip("Pillow's test images could not be fetched (offline?)")
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.mark.slow
@pytest.mark.parametrize("min_side", [256, 1], ids=["default-policy", "no-minimum-size"])
def test_every_file_of_pillows_test_corpus_gets_a_decision_with_a_reason(config, pillow_opens, min_side):
    """With the default policy most are too small; without a minimum size every decodable one is
    decoded, measured, hashed and read for EXIF: the paths where odd files hurt."""
    policy = config.defaults.model_copy(update={"min_width": min_side, "min_height": min_side})
    config = config.model_copy(update={"defaults": policy})
    files = _pillow_files()
    statuses: dict[str, int] = {}
    for path in files:
        result = _inspect(path.name, path.read_bytes(), config)
        status = gate.verdict(result.refusals)
        statuses[status] = statuses.get(status, 0) + 1
        for r in result.refusals:
            assert isinstance(r.reason, Reason) and r.detail, (path.name, r)
        if status is Status.accepted:
            assert result.hashes and result.hashes.phash and result.quality is not None, path.name
    assert len(files) > 500
    assert statuses.get(Status.accepted, 0) > (50 if min_side == 1 else 0)


PEAK_SCRIPT = textwrap.dedent(
    """
    import resource, sys
    from pathlib import Path
    from lenslog.config import load_config
    from lenslog.domain import gate

    def peak_kb():
        # VmHWM is this process's own peak; ru_maxrss survives exec and may be the parent's.
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    config = load_config()
    meta = {"camera-id": "cam-01", "captured-at": "2026-11-18T10:00:00Z"}
    files = [Path(p).read_bytes() for p in sys.argv[1:]]
    warm = gate.inspect(gate.GateInput(key="warm.jpg", data=files[0], s3_metadata=meta), config)
    before = peak_kb()
    reasons = []
    for data in files[1:]:
        r = gate.inspect(gate.GateInput(key="x.jpg", data=data, s3_metadata=meta), config)
        reasons.append(r.refusals[0].reason.value if r.refusals else "accepted")
    after = peak_kb()
    print((after - before) // 1024, *reasons)
    """
)


def _peak_growth_mb(tmp_path: Path, bodies: list[bytes]) -> tuple[int, list[str]]:
    paths = []
    for i, body in enumerate(bodies):
        p = tmp_path / f"{i}.bin"
        p.write_bytes(body)
        paths.append(str(p))
    out = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, *paths], capture_output=True, text=True, timeout=120, check=True
    ).stdout.split()
    return int(out[0]), out[1:]


@pytest.mark.slow
def test_decompression_bombs_are_refused_before_their_pixels_are_allocated(tmp_path):
    bombs = [h.data for h in CRAFTED if h.bomb]
    growth, reasons = _peak_growth_mb(tmp_path, [jpeg(1), *bombs])
    assert reasons == ["decompression_bomb"] * len(bombs)
    assert growth < 32, f"peak memory grew by {growth} MB on files that declare gigapixels"


@pytest.mark.slow
def test_the_peak_memory_measurement_does_see_a_real_decode(tmp_path):
    """The control of the test above: a genuine 40-megapixel PNG raises the peak by > 100 MB."""
    from tests.reliability.hostile import png_bomb

    growth, reasons = _peak_growth_mb(
        tmp_path, [jpeg(1), png_bomb(8000, 5000, rows=5000, bit_depth=8, colour=2)]
    )
    assert reasons == ["accepted"]
    assert growth > 100
