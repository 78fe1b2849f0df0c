"""The audit API as a contract: schemathesis (every phase, stateful included) against the local API
with real records behind it — the embedded AWS, images decided by the real ingest worker, a stored
report — finds no failure and raises no warning, with a fixed seed. ``make fuzz-api`` runs the same
with more examples and a random seed (``LENSLOG_FUZZ_EXAMPLES``, ``LENSLOG_FUZZ_SEED=random``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lenslog import runtime
from lenslog.adapters.reports import ReportStore
from lenslog.config import load_config
from lenslog.local.api import serve_api
from lenslog.local.aws import EmbeddedAws, provision
from lenslog.local.worker import Worker
from tests.images import encode, jpeg, scene

pytestmark = [pytest.mark.xdist_group("embedded-aws"), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
_seed = os.environ.get("LENSLOG_FUZZ_SEED", "20261202")
SEED = None if _seed == "random" else int(_seed)
EXAMPLES = int(os.environ.get("LENSLOG_FUZZ_EXAMPLES", "200"))


def ingest(stack, worker: Worker) -> None:
    """Twelve uploads to the home cell, captured over the last days so that the default windows
    see them: two cameras, an exact duplicate, a resized copy, a truncated file."""
    s3, bucket = stack.client("s3", "eu"), stack.cells["eu"].landing_bucket
    now = datetime.now(UTC).replace(microsecond=0)

    def put(key: str, body: bytes, camera: str, days_ago: int, **meta: str) -> None:
        when = (now - timedelta(days=days_ago, hours=days_ago)).isoformat().replace("+00:00", "Z")
        s3.put_object(
            Bucket=bucket, Key=key, Body=body, Metadata={"camera-id": camera, "captured-at": when, **meta}
        )

    bodies = [jpeg(100 + i) for i in range(8)]
    for i, body in enumerate(bodies):
        put(f"depot/{i}.jpg", body, "cam-01" if i % 2 else "cam-02", i, classes="pallet")
    worker.drain(stall=120)
    put("depot/again/0.jpg", bodies[0], "cam-02", 0)  # exact duplicate
    put("depot/small/1.jpg", encode(scene(101).resize((560, 420))), "cam-01", 1)  # near duplicate
    put("depot/2-frame.jpg", jpeg(120), "stage-01", 2)
    broken = jpeg(121)
    put("depot/broken.jpg", broken[: len(broken) // 2], "cam-02", 3)
    worker.drain(stall=120)


@pytest.fixture(scope="module")
def api_url():
    saved = dict(os.environ)
    runtime.client.cache_clear()
    runtime.audit_service.cache_clear()
    with EmbeddedAws() as aws:
        stack = provision(load_config(), aws.endpoint_url)
        worker = Worker(stack)
        worker.drain()
        ingest(stack, worker)
        store = ReportStore(
            stack.client("s3"), stack.reports_bucket, stack.client("dynamodb"), stack.cells["eu"].table
        )
        for end in ("2026-11-22", "2026-11-29"):
            store.put_report(
                f"weekly-{end}",
                end,
                {"report.json": json.dumps({"period_end": end}).encode()},
                period_start=(datetime.fromisoformat(end) - timedelta(days=6)).date(),
            )
        api = serve_api(stack, port=0)
        try:
            yield api.url
        finally:
            api.shutdown()
    os.environ.clear()
    os.environ.update(saved)
    runtime.client.cache_clear()
    runtime.audit_service.cache_clear()


def run_schemathesis(url: str, report: Path, seed: int | None, examples: int) -> subprocess.CompletedProcess:
    cli = Path(sys.executable).with_name("schemathesis")
    args = [str(cli), "--no-color", "--config-file", str(CONFIG), "run", str(ROOT / "docs" / "openapi.json")]
    args += ["--url", url, "--max-examples", str(examples), "--phases", "examples,coverage,fuzzing,stateful"]
    args += ["--report", "json", "--report-json-path", str(report)]
    if seed is not None:
        args += ["--seed", str(seed)]
    return subprocess.run(args, capture_output=True, text=True, timeout=900, cwd=report.parent)


def test_schemathesis_finds_no_failure_and_no_warning_in_any_phase(api_url, tmp_path):
    report = tmp_path / "schemathesis.json"
    done = run_schemathesis(api_url, report, SEED, EXAMPLES)
    out = done.stdout[-20000:]
    assert report.exists(), out + done.stderr[-5000:]
    result = json.loads(report.read_text())
    print(
        f"schemathesis: seed {result['seed']}, {result['test_cases']['generated']} cases, "
        f"{result['running_time']:.0f} s"
    )
    assert result["failures"] == [] and result["errors"] == [], out
    assert {k: v for k, v in result["warnings"].items() if v} == {}, out
    assert {p: v["status"] for p, v in result["phases"].items()} == dict.fromkeys(
        ("examples", "coverage", "fuzzing", "stateful"), "success"
    ), out
    assert result["operations"]["tested"] == result["operations"]["selected"] >= 11
    assert done.returncode == 0, out
