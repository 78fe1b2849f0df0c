"""Gate throughput: the whole gate in-process against a naive pipeline and against the floor.

- lenslog: read the file, then ``gate.inspect`` (sniff, size, draft decode, working copy, quality,
  EXIF, metadata, sha256, pHash);
- naive: read, full Pillow decode, ``ImageOps.exif_transpose``, ``imagehash.phash`` and
  ``imagehash.dhash``, Pillow EXIF, sha256, brightness statistics: what a first script does;
- floor: read, sha256, and a JPEG draft decode to the same scale as the gate (a full decode for
  PNG and BMP, which have no reduced decode): nothing the gate does can be cheaper than this.

Pipelines are interleaved image by image and in rotating order, so a noisy neighbour on the
machine slows all three alike, and each figure is the best of ``repeat`` runs (as ``timeit``
advises: the minimum is the run least disturbed by anything else).
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.images import Item


def bench_config() -> Any:
    """The default config with the byte limit raised: 24 MP camera JPEGs exceed the 6 MB default."""
    from lenslog.config import load_config

    config = load_config()
    return config.model_copy(
        update={"defaults": config.defaults.model_copy(update={"max_bytes": 512_000_000})}
    )


def lenslog_gate(config: Any) -> Callable[[Path], Any]:
    from lenslog.domain import gate

    def run(path: Path) -> Any:
        data = path.read_bytes()
        return gate.inspect(gate.GateInput(key=f"cam-01/{path.name}", data=data), config)

    return run


def naive(path: Path) -> Any:
    import imagehash
    from PIL import Image, ImageOps, ImageStat

    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    img = Image.open(io.BytesIO(data))
    img.load()
    exif = img.getexif()
    fields = {tag: exif.get(tag) for tag in (0x010F, 0x0110, 0x0112, 0x0132)}
    fields.update(exif.get_ifd(0x8769))
    fields.update(exif.get_ifd(0x8825))
    upright = ImageOps.exif_transpose(img)
    grey = upright.convert("L")
    stat = ImageStat.Stat(grey)
    return digest, fields, imagehash.phash(upright), imagehash.dhash(upright), stat.mean, stat.stddev


def floor(path: Path) -> Any:
    from PIL import Image

    from lenslog.domain.decode import draft_request

    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    img = Image.open(io.BytesIO(data))
    if img.format == "JPEG":
        img.draft("RGB", draft_request(*img.size))
    img.load()
    return digest, img.size


@dataclass
class GateTimes:
    per_image: dict[str, dict[str, float]]  # image name -> pipeline -> best ms
    formats: dict[str, str]  # image name -> JPEG | PNG | BMP
    megapixels: dict[str, float]

    def mean(self, pipeline: str, fmt: str) -> float | None:
        xs = [t[pipeline] for n, t in self.per_image.items() if self.formats[n] == fmt]
        return sum(xs) / len(xs) if xs else None

    def total(self, pipeline: str, fmt: str) -> float:
        return sum(t[pipeline] for n, t in self.per_image.items() if self.formats[n] == fmt)


def measure(items: Sequence[Item], repeat: int = 5, log: Callable[[str], None] = print) -> GateTimes:
    from PIL import Image

    from lenslog.domain.decode import sniff

    pipelines: dict[str, Callable[[Path], Any]] = {
        "lenslog": lenslog_gate(bench_config()),
        "naive": naive,
        "floor": floor,
    }
    names = list(pipelines)
    formats: dict[str, str] = {}
    megapixels: dict[str, float] = {}
    usable = []
    for item in items:
        fmt = sniff(item.path.read_bytes()[:32])
        if fmt not in ("JPEG", "PNG", "BMP"):
            continue
        with Image.open(item.path) as img:
            megapixels[item.name] = img.size[0] * img.size[1] / 1e6
        formats[item.name] = fmt
        usable.append(item)
    best: dict[str, dict[str, float]] = {i.name: dict.fromkeys(names, float("inf")) for i in usable}
    for fn in pipelines.values():  # warm: imports, caches, first-use costs are the cold-start figure
        fn(usable[0].path)
    for rep in range(repeat):
        for k, item in enumerate(usable):
            order = names[(rep + k) % 3 :] + names[: (rep + k) % 3]
            for name in order:
                start = time.perf_counter()
                pipelines[name](item.path)
                elapsed = (time.perf_counter() - start) * 1000
                best[item.name][name] = min(best[item.name][name], elapsed)
        log(f"  gate: run {rep + 1}/{repeat} done")
    return GateTimes(per_image=best, formats=formats, megapixels=megapixels)
