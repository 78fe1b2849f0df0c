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
        env={**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# --- cold start ---------------------------------------------------------------------------------


def _variants(n: int) -> list[bytes]:
    """n distinct 12 MP camera JPEGs (the same photo with a different mark), same cost each."""
    import io

    from PIL import Image, ImageDraw

    from bench.images import camera_exif

    base = Image.open(CACHE / "photo-12mp.jpg").convert("RGB")
    out = []
    for i in range(n):
        img = base.copy()
        ImageDraw.Draw(img).rectangle([40 * i, 40, 40 * i + 30, 70], fill=(255, 0, i))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=90, exif=camera_exif(100 + i))
        out.append(buf.getvalue())
    return out


def cold_start(warm: int = 5) -> dict[str, Any]:
    import logging

    from lenslog.config import load_config
    from lenslog.local.aws import EmbeddedAws, provision
    from lenslog.local.worker import sqs_event

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    config = load_config()
    with EmbeddedAws() as aws:
        stack = provision(config, aws.endpoint_url, prefix="bench")
        cell = "eu"
        res = stack.cells[cell]
        s3, sqs = stack.client("s3", cell), stack.client("sqs", cell)
        url = stack.queue_urls[cell]
        sqs.purge_queue(QueueUrl=url)
        time.sleep(0.2)
        for i, body in enumerate(_variants(warm + 1)):
            s3.put_object(Bucket=res.landing_bucket, Key=f"cam-01/2026-03-02/frame-{i}.jpg", Body=body)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events = []
        while len(events) < warm + 1:
            msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=1).get(
                "Messages", []
            )
            for m in msgs:
                if "TestEvent" not in m["Body"]:
                    events.append(sqs_event([m], arn, res.region))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(events, f)
        env = {
            **stack.settings(cell).to_env(),
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        try:
            result = _child(["coldstart", f.name], env)
        finally:
            os.unlink(f.name)
    result["first_vs_warm"] = result["first_ms"] / result["warm_ms"]
    return result


def _coldstart_child(events_path: str) -> dict[str, Any]:
    import importlib.util
    import statistics

    start = time.perf_counter()
    spec = importlib.util.spec_from_file_location(
        "ingest_handler", ROOT / "functions" / "ingest" / "handler.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import_ms = (time.perf_counter() - start) * 1000
    from lenslog.local.worker import LambdaContext

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
        "modules_at_import": sorted(
            m
            for m in ("numpy", "PIL", "boto3", "pydantic", "aws_lambda_powertools", "aws_xray_sdk")
            if m in sys.modules
        ),
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
