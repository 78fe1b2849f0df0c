"""Figures that need a fresh process: the handler's cold start and the gate's peak memory.

Cold start: a moto server (the embedded AWS) runs in the parent; a child process imports
``functions/ingest/handler.py`` (timed), then handles one SQS event per image, as Lambda would:
the first image after the import, then warm ones (distinct images of the same size).
Memory: a child decodes a 50 MP JPEG through the gate and reports ``ru_maxrss``; another child
offers a decompression bomb (a PNG header claiming 100 000 x 100 000 pixels) and reports how much
its peak grew.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.images import CACHE, photo

ROOT = Path(__file__).resolve().parents[1]


def _child(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.process", *args],
        cwd=ROOT,
        env=_environment({**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _environment(env: dict[str, str]) -> dict[str, str]:
    """An empty value unsets a variable (Python reads PYTHONDONTWRITEBYTECODE="" as unset too,
    but not every tool does)."""
    return {k: v for k, v in env.items() if v != ""}


# --- cold start ---------------------------------------------------------------------------------


def import_function(name: str) -> tuple[Any, float]:
    """Import ``functions/<name>/handler.py`` as Lambda does; the module and the milliseconds."""
    import importlib.util

    start = time.perf_counter()
    spec = importlib.util.spec_from_file_location(f"{name}_handler", ROOT / "functions" / name / "handler.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, (time.perf_counter() - start) * 1000


def _photos(n: int, start: int = 0) -> list[bytes]:
    """n distinct 12 MP camera JPEGs (different scenes, so none is a near duplicate of another
    and every one takes the path of a new image), cached under ``bench/.cache/coldstart``."""
    from bench.images import camera_exif

    folder = CACHE.parent / "coldstart"
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for seed in range(1000 + start, 1000 + start + n):
        path = folder / f"photo-12mp-{seed}.jpg"
        if not path.is_file():
            photo(seed, (4000, 3000)).save(path, "JPEG", quality=90, exif=camera_exif(seed))
        out.append(path.read_bytes())
    return out


def cold_start(runs: int = 5, warm: int = 5) -> dict[str, Any]:
    """Median over ``runs`` fresh processes, each: import the handler, then the first image and
    ``warm`` more. Byte code as the layers ship it (compiled for the runtime by the bundler): a
    prefix cache filled by one unmeasured run first. One more run without any byte code shows
    what a layer without it would cost."""
    import logging
    import statistics
    from collections import Counter

    from lenslog.adapters.dynamo import DynamoLedger
    from lenslog.config import load_config
    from lenslog.local.aws import EmbeddedAws, provision
    from lenslog.local.worker import sqs_event

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    config = load_config()
    pycache = CACHE.parent / "pycache"
    with EmbeddedAws() as aws, tempfile.TemporaryDirectory() as empty:
        stack = provision(config, aws.endpoint_url, prefix="bench")
        cell = "eu"
        res = stack.cells[cell]
        s3, sqs = stack.client("s3", cell), stack.client("sqs", cell)
        url = stack.queue_urls[cell]
        sqs.purge_queue(QueueUrl=url)
        time.sleep(0.2)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

        uploaded: list[tuple[str, str]] = []

        def events(run: int) -> list[dict[str, Any]]:
            bodies = _photos(warm + 1, start=run * (warm + 1))
            for i, body in enumerate(bodies):
                key = f"cam-01/2026-03-02/run{run}-{i}.jpg"
                put = s3.put_object(Bucket=res.landing_bucket, Key=key, Body=body)
                uploaded.append((key, put["VersionId"]))
            out: list[dict[str, Any]] = []
            while len(out) < len(bodies):
                msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
                for m in msgs.get("Messages", []):
                    if "TestEvent" not in m["Body"]:
                        out.append(sqs_event([m], arn, res.region))
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
            return out

        env = {
            **stack.settings(cell).to_env(),
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        shipped = {**env, "PYTHONPYCACHEPREFIX": str(pycache), "PYTHONDONTWRITEBYTECODE": ""}
        source_only = {**env, "PYTHONPYCACHEPREFIX": empty, "PYTHONDONTWRITEBYTECODE": "1"}
        _run_child(events(0), shipped)  # fills the byte-code cache; not measured
        measured = [_run_child(events(run), shipped) for run in range(1, runs + 1)]
        without = _run_child(events(runs + 1), source_only)
        ledger = DynamoLedger(stack.client("dynamodb", cell), res.table, cell)
        decided = [ledger.get_decision(res.landing_bucket, key, version) for key, version in uploaded]
        statuses = Counter((d or {}).get("status") for d in decided)
    # a fair comparison: the first image and the warm ones all take the path of a new image
    assert statuses == {"accepted": len(uploaded)}, statuses
    result: dict[str, Any] = {
        key: statistics.median(r[key] for r in measured) for key in ("import_ms", "first_ms", "warm_ms")
    }
    result["first_vs_warm"] = statistics.median(r["first_ms"] / r["warm_ms"] for r in measured)
    result["modules_at_import"] = measured[0]["modules_at_import"]
    result["runs"] = measured
    result["without_bytecode"] = without
    return result


def _run_child(events: list[dict[str, Any]], env: dict[str, str]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(events, f)
    try:
        return _child(["coldstart", f.name], env)
    finally:
        os.unlink(f.name)


def _coldstart_child(events_path: str) -> dict[str, Any]:
    import statistics

    module, import_ms = import_function("ingest")
    heavy = ("numpy", "PIL", "botocore", "pydantic", "aws_lambda_powertools", "aws_xray_sdk")
    at_import = sorted(m for m in heavy if m in sys.modules)
    from lenslog.local.context import LambdaContext  # standard library only

    events = json.loads(Path(events_path).read_text())
    times = []
    for i, event in enumerate(events):
        t = time.perf_counter()
        result = module.handler(event, LambdaContext(aws_request_id=f"bench-{i}"))
        times.append((time.perf_counter() - t) * 1000)
        assert not result.get("batchItemFailures"), result
    return {
        "import_ms": import_ms,
        "first_ms": times[0],
        "warm_ms": statistics.median(times[1:]),
        "modules_at_import": at_import,
    }


# --- memory ---------------------------------------------------------------------------------------


def fifty_megapixel_jpeg() -> Path:
    path = CACHE / "photo-50mp.jpg"
    if not path.is_file():
        from bench.images import camera_exif

        photo(50, (8660, 5774)).save(path, "JPEG", quality=90, exif=camera_exif(50))
    return path


def bomb_png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def memory() -> dict[str, Any]:
    big = _child(["rss", str(fifty_megapixel_jpeg())])
    with tempfile.NamedTemporaryFile(suffix=".png", delete=False) as f:
        f.write(bomb_png())
    try:
        bomb = _child(["rss", f.name])
    finally:
        os.unlink(f.name)
    return {
        "peak_rss_mb_50mp": big["peak_mb"],
        "baseline_rss_mb": big["baseline_mb"],
        "jpeg_50mp": big,
        "bomb": bomb,
        "bomb_refused": bomb["reasons"] == ["decompression_bomb"],
        "bomb_rss_growth_mb": bomb["peak_mb"] - bomb["baseline_mb"],
    }


def _rss_child(path: str) -> dict[str, Any]:
    import resource

    from bench.gate import bench_config
    from lenslog.domain import gate

    config = bench_config()
    # import everything the gate uses, so the baseline is the interpreter and its libraries
    import numpy  # noqa: F401
    from PIL import Image, JpegImagePlugin, PngImagePlugin  # noqa: F401

    data = Path(path).read_bytes()
    baseline = _peak_mb(resource)
    ins = gate.inspect(gate.GateInput(key=f"cam-01/{Path(path).name}", data=data), config)
    peak = _peak_mb(resource)
    return {
        "baseline_mb": round(baseline, 1),
        "peak_mb": round(peak, 1),
        "file_mb": round(len(data) / 1e6, 1),
        "size": [ins.info.width, ins.info.height],
        "reasons": [str(r.reason) for r in ins.refusals if str(r.reason) != "metadata_incomplete"],
    }


def _peak_mb(resource: Any) -> float:
    """This process's peak resident set. Linux carries ``ru_maxrss`` over from the parent across
    fork and exec, so a child of a large parent would report the parent's peak; the kernel's
    per-address-space high-water mark (VmHWM) starts afresh at exec. Elsewhere, ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / scale


if __name__ == "__main__":
    kind, arg = sys.argv[1], sys.argv[2]
    out = _coldstart_child(arg) if kind == "coldstart" else _rss_child(arg)
    print(json.dumps(out))
