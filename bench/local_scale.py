"""The embedded default at a user's size: batches of distinct 1-2 MP camera JPEGs through
``lenslog local`` + ``lenslog ingest``, both as subprocesses, exactly as a user runs them.

Printed per batch: wall time, images/s, the peak RSS of the ``lenslog local`` process so far
(sampled every 0.5 s), and the CPU time per image of that process (the embedded AWS and the API)
and of its workers: on two cores, their sum is what bounds the rate. The baseline, measured in the
same run on the same images: the gate alone, in this process (``lenslog.domain.gate.inspect`` on
the bytes, no AWS), in images/s, before every batch and after the last (each the best of 3
passes); the highest is the one the end-to-end rate is compared with.

The machine's own speed drifts within a run: the gate alone, the same code on the same images,
was 13% slower after the batches than before them in one run (34.8 and 30.1 images/s) and 5%
faster in another, more than the growth the linearity target is about. Each batch's time is
therefore also given at the machine speed of the first batch: its wall time times the gate's
rate around it (the mean of the measurements before and after it) over the gate's rate around
the first batch. Both ratios are printed; the target is judged on the adjusted one.

Targets (issue "the embedded default at a user's real size"): the last batch takes at most 1.2x
the first (at the same machine speed), peak RSS at most 1.5 GB, and the end-to-end rate is at
least 1/4 of the gate's.

Run alone: ``make bench-local`` (``python -m bench.local_scale [--batches 4 --per-batch 2500]``).
The images are generated once into ``bench/.cache/local_scale`` (distinct scenes, so each one
takes the path of a new image) and reused.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / ".cache" / "local_scale_v2"
SIZES = ((1280, 960), (1600, 1200), (1440, 1080), (1920, 1080))  # 1.2 to 2.1 MP
CAMERAS = 4


def _path(batch: int, i: int) -> Path:
    cam = f"cam-{1 + i % CAMERAS:02d}"
    day = 1 + (i // CAMERAS) % 28
    seconds = (i * 7919) % 86_400
    stamp = f"202603{day:02d}T{seconds // 3600:02d}{seconds // 60 % 60:02d}{seconds % 60:02d}"
    return CACHE / f"batch-{batch}" / cam / f"2026-03-{day:02d}" / f"{cam}_{stamp}_{i:05d}.jpg"


_TEXTURE: dict[tuple[int, int], Any] = {}


def frame(seed: int, size: tuple[int, int]) -> Any:
    """A distinct scene per seed (a random 8x6 colour field, upscaled: its own low frequencies, so
    its own pHash) with camera-like texture (a per-size noise tile at half resolution, shifted per
    seed): no quality flag, 0.2-0.3 bytes per pixel at quality 85. ~4x cheaper to make than
    ``bench.images.photo``, which 10,000 images need."""
    import numpy as np
    from PIL import Image

    w, h = size
    rng = np.random.default_rng(seed)
    field = rng.integers(0, 256, size=(6, 8, 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(field, "RGB").resize(size, Image.Resampling.BICUBIC), dtype=np.int16)
    if size not in _TEXTURE:
        noise = np.random.default_rng(w * h).standard_normal((h // 2 + 64, w // 2 + 64), dtype=np.float32)
        _TEXTURE[size] = (noise * 14).astype(np.int16)
    dx, dy = (int(v) for v in rng.integers(0, 64, 2))
    tex = _TEXTURE[size][dy : dy + h // 2, dx : dx + w // 2]
    tex = np.repeat(np.repeat(tex, 2, axis=0), 2, axis=1)[:h, :w]
    return Image.fromarray(np.clip(base + tex[..., None], 0, 255).astype(np.uint8), "RGB")


def _make(args: tuple[int, int]) -> None:
    batch, i = args
    path = _path(batch, i)
    if path.is_file():
        return
    from bench.images import camera_exif

    seed = 100_000 + batch * 10_000 + i
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    frame(seed, SIZES[seed % len(SIZES)]).save(tmp, "JPEG", quality=85, exif=camera_exif(seed))
    tmp.rename(path)


def ensure_images(batches: int, per_batch: int, log: Any = print) -> list[Path]:
    jobs = [(b, i) for b in range(batches) for i in range(per_batch)]
    missing = [j for j in jobs if not _path(*j).is_file()]
    if missing:
        log(f"  local scale: generating {len(missing)} images (cached in {CACHE.relative_to(ROOT)})")
        with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            list(pool.map(_make, missing, chunksize=32))
    return [CACHE / f"batch-{b}" for b in range(batches)]


def gate_rate(folder: Path, sample: int = 300, repeats: int = 3) -> tuple[float, float]:
    """Images/s of the gate alone on the first ``sample`` images of ``folder`` (same process), the
    best of ``repeats`` passes: single passes here varied by 10% from run to run, and the best one
    is the baseline least flattering to the end-to-end ratio. Also the CPU time the process used
    per second of that pass: 1.0 when the gate keeps to its one thread (a BLAS library spinning
    its threads after a call showed as 2.0 here)."""
    from lenslog.config import load_config
    from lenslog.domain import gate

    config = load_config()
    files = sorted(folder.rglob("*.jpg"))[:sample]
    blobs = [(f.relative_to(folder).as_posix(), f.read_bytes()) for f in files]
    gate.inspect(gate.GateInput(key=blobs[0][0], data=blobs[0][1]), config)  # warm
    best, cpu_per_wall = 0.0, 0.0
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        for key, data in blobs:
            gate.inspect(gate.GateInput(key=key, data=data), config)
        wall = time.perf_counter() - start
        if len(blobs) / wall > best:
            best, cpu_per_wall = len(blobs) / wall, (time.process_time() - cpu) / wall
    return best, cpu_per_wall


class RssSampler:
    """Peak RSS of a process and its children, sampled in a thread."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        import psutil

        self.proc = psutil.Process(pid)
        self.peak = 0
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _rss(self) -> int:
        import psutil

        total = 0
        for p in [self.proc, *self.proc.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += p.memory_info().rss
        return total

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) so far of the process itself (the embedded AWS and the API)
        and of its children together (the workers)."""
        import psutil

        def of(p: Any) -> float:
            with contextlib.suppress(psutil.Error):
                t = p.cpu_times()
                return float(t.user + t.system)
            return 0.0

        return {"local": of(self.proc), "workers": sum(of(c) for c in self.proc.children(recursive=True))}

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self._rss())
            except Exception:  # the process ended
                return
            self._stop.wait(self.every)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _lenslog() -> list[str]:
    return [sys.executable, "-m", "lenslog.cli"]


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    env.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    return env


def _start_local(log: Any) -> tuple[subprocess.Popen[str], str]:
    from lenslog.local.aws import free_port

    port, api_port = free_port(), free_port()
    proc = subprocess.Popen(
        [*_lenslog(), "local", "--port", str(port), "--api-port", str(api_port)],
        cwd=ROOT,
        env=_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("lenslog local exited before it was ready")
        if line.startswith("upload with"):
            url = re.search(r"--endpoint-url (\S+)", line)
            assert url is not None
            log(f"  local scale: lenslog local ready at {url.group(1)}")
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep the pipe drained
            return proc, url.group(1)
    raise RuntimeError("lenslog local did not come up within 120 s")


def run(batches: int = 4, per_batch: int = 2500, log: Any = print) -> dict[str, Any]:
    folders = ensure_images(batches, per_batch, log)
    speeds: list[float] = []  # the gate alone before each batch and after the last (images/s)
    gate_cpu: list[float] = []

    def calibrate(when: str) -> None:
        ips, cpu = gate_rate(folders[0])
        speeds.append(ips)
        gate_cpu.append(round(cpu, 2))
        log(f"  local scale: the gate alone {when}: {ips:.1f} images/s, {cpu:.2f} s of CPU per second")

    proc, url = _start_local(log)
    rss = RssSampler(proc.pid)
    times: list[float] = []
    cpu_ms: list[dict[str, float]] = []
    statuses: Counter[str] = Counter()
    undecided = 0
    try:
        for b, folder in enumerate(folders):
            calibrate(f"before batch {b + 1}")
            start, cpu_before = time.perf_counter(), rss.cpu_seconds()
            out = subprocess.run(
                [
                    *_lenslog(),
                    "ingest",
                    str(folder),
                    "--endpoint-url",
                    url,
                    "--json",
                    "--stall-timeout",
                    "300",
                ],
                cwd=ROOT,
                env=_environment(),
                capture_output=True,
                text=True,
                check=False,
            )
            elapsed = time.perf_counter() - start
            cpu_after = rss.cpu_seconds()
            cpu_ms.append({k: round((cpu_after[k] - cpu_before[k]) * 1000 / per_batch, 1) for k in cpu_after})
            lines = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
            statuses.update(d["status"] for d in lines)
            undecided += per_batch - len(lines)
            times.append(elapsed)
            log(
                f"  local scale: batch {b + 1}/{batches}: {len(lines)}/{per_batch} decided in {elapsed:.0f} s"
                " "
                f"({per_batch / elapsed:.1f} images/s), peak RSS of lenslog local {rss.peak / 1e6:.0f} MB,"
                f" CPU ms per image: embedded AWS {cpu_ms[-1]['local']}, workers {cpu_ms[-1]['workers']}"
                + (
                    f", exit {out.returncode}: {out.stderr.strip().splitlines()[-1:]}"
                    if out.returncode
                    else ""
                )
            )
    finally:
        rss.stop()
        proc.terminate()
        proc.wait(timeout=60)
    calibrate("after the batches")
    adjusted = at_first_speed(times, speeds)
    total = sum(times)
    result = {
        "batches_s": [round(t, 1) for t in times],
        "batches_at_first_speed_s": [round(t, 1) for t in adjusted],
        "last_vs_first": adjusted[-1] / adjusted[0],  # at the machine speed of the first batch
        "last_vs_first_wall": times[-1] / times[0],  # as measured, the machine's drift included
        "peak_rss_mb": rss.peak / 1e6,
        "images_per_s": batches * per_batch / total,
        "gate_images_per_s": max(speeds),  # the highest measurement: the least flattering ratio
        "gate_images_per_s_by_batch": [round(g, 1) for g in speeds],  # before each batch, after the last
        "gate_cpu_per_wall_by_batch": gate_cpu,
        "cpu_ms_per_image": cpu_ms,  # per batch: the local process (embedded AWS, API) and its workers
        "per_batch": per_batch,
        "statuses": dict(statuses),
        "undecided": undecided,
    }
    result["vs_gate"] = result["images_per_s"] / result["gate_images_per_s"]
    return result


def at_first_speed(times: list[float], speeds: list[float]) -> list[float]:
    """Each batch's wall time at the machine speed of the first batch: ``speeds`` are the gate's
    rates before each batch and after the last (one more than ``times``); a batch runs at the mean
    of the two around it. A batch run while the machine was 10% slower counts 10% shorter."""
    if len(speeds) != len(times) + 1:
        raise ValueError(f"{len(times)} batches need {len(times) + 1} speed measurements, not {len(speeds)}")
    around = [(a + b) / 2 for a, b in itertools.pairwise(speeds)]
    return [t * s / around[0] for t, s in zip(times, around, strict=True)]


TARGETS = {"last_vs_first": ("<=", 1.2), "peak_rss_mb": ("<=", 1500.0), "vs_gate": (">=", 0.25)}


def on_target(r: dict[str, Any]) -> dict[str, bool]:
    return {k: (r[k] <= t if op == "<=" else r[k] >= t) for k, (op, t) in TARGETS.items()}


def report(r: dict[str, Any]) -> str:
    ok = on_target(r)
    rows = [
        ("batches (s)", ", ".join(f"{t:.0f}" for t in r["batches_s"]), ""),
        ("gate alone by batch", ", ".join(f"{g:.1f}" for g in r["gate_images_per_s_by_batch"]), "images/s"),
        ("batches at first speed", ", ".join(f"{t:.0f}" for t in r["batches_at_first_speed_s"]), "s"),
        (
            "last batch / first",
            f"{r['last_vs_first']:.2f}x",
            f"<= 1.2x {'ok' if ok['last_vs_first'] else 'MISSED'}"
            f" ({r['last_vs_first_wall']:.2f}x by the wall)",
        ),
        (
            "peak RSS of lenslog local",
            f"{r['peak_rss_mb']:.0f} MB",
            f"<= 1500 {'ok' if ok['peak_rss_mb'] else 'MISSED'}",
        ),
        ("end to end (images/s)", f"{r['images_per_s']:.1f}", ""),
        ("gate alone (images/s)", f"{r['gate_images_per_s']:.1f}", ""),
        ("end to end / gate", f"{r['vs_gate']:.2f}", f">= 0.25 {'ok' if ok['vs_gate'] else 'MISSED'}"),
        (
            "decisions",
            ", ".join(f"{k} {v}" for k, v in sorted(r["statuses"].items())),
            f"undecided {r['undecided']}",
        ),
    ]
    w = max(len(a) for a, _, _ in rows) + 2
    return "\n".join(f"{a:<{w}}{b:<24} {c}".rstrip() for a, b, c in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.local_scale")
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--per-batch", type=int, default=2500)
    args = parser.parse_args(argv)
    from bench.run import RESULTS

    r = run(args.batches, args.per_batch, log=lambda s: print(s, file=sys.stderr, flush=True))
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    results["local_scale"] = r
    RESULTS.write_text(json.dumps(results, indent=1, default=str))
    print(report(r))
    return 0 if all(on_target(r).values()) else 1


if __name__ == "__main__":
    sys.exit(main())
