"""The audit API as a person waits on it: cold start and warm latency per route, with the DynamoDB
requests each call makes, on a cell holding 10,000 records.

The table is populated with direct batch writes of real record items (image records and their
decisions, as the ledger writes them, captured and decided over the last 14 days) and the counters
the gate would have bumped for them (through the ledger's own commit), not through the slow ingest.
The DynamoDB is the embedded moto server on loopback, so milliseconds are the emulator's; the
requests per call are the real handler's (counted with a botocore ``before-call.dynamodb`` hook on
the clients the audit service uses), and they are what DynamoDB bills and what its latency scales with.
moto answers an index query by walking every item of the table, so its milliseconds grow with the
table (DynamoDB's do not): read the latencies as this emulator's, the request counts as the API's.

- cold start: a fresh process imports ``functions/audit_api/handler.py`` (timed), then answers its
  first request (timed), then the same request again (warm): the median of five processes;
- warm: every route asked ``--calls`` times in this process (the aggregate routes fewer), p50/p99.

python -m bench.api_latency [--records 10000] [--calls 100]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CELL = "eu"
DAYS = 14


def _decision(i: int, today: date) -> Any:
    from lenslog.domain.models import Decision, ImageMetadata, Status

    rng = random.Random(i)
    day = today - timedelta(days=i % DAYS)
    when = datetime.combine(day, datetime.min.time(), UTC) + timedelta(seconds=(i * 7919) % 86_400)
    image_id = f"{rng.getrandbits(256):064x}"
    status = Status.rejected if i % 10 == 9 else Status.accepted
    meta = ImageMetadata.model_validate(
        {
            "camera_id": f"cam-0{1 + i % 3}",
            "captured_at": when.isoformat(),
            "source_type": "production_live",
            "classes": ["pallet"] if i % 2 else ["forklift"],
        }
    )
    return Decision(
        key=f"cam-0{1 + i % 3}/{day.isoformat()}/{i}.jpg",
        bucket="seed",
        cell=CELL,
        status=status,
        reasons=["too_small"] if status == Status.rejected else [],
        image_id=image_id,
        cluster_id=image_id,
        split="train",
        data_region=CELL,
        metadata=meta,
        decided_at=when,
        version_id=f"v{i}",
    )


def populate(stack: Any, records: int, log: Any) -> dict[str, Any]:
    """``records`` image records with their decisions (batch writes of the ledger's own items),
    the counters they would have bumped, and one report. Returns ids the routes are asked about."""
    from lenslog.adapters.dynamo import DynamoLedger, decision_item, image_item
    from lenslog.adapters.reports import ReportStore
    from lenslog.domain.aggregates import Increment, dataset_increments, intake_increments

    res = stack.cells[CELL]
    ddb = stack.client("dynamodb", CELL)
    today = datetime.now(UTC).date()
    start = time.perf_counter()
    batch: list[dict[str, Any]] = []
    merged: Counter[tuple[date, str, str]] = Counter()
    first = None
    for i in range(records):
        d = _decision(i, today)
        first = first or d
        items = [decision_item(d)] + ([image_item(d)] if d.status == "accepted" else [])
        batch += [{"PutRequest": {"Item": item}} for item in items]
        for inc in dataset_increments(d) + intake_increments(d):
            merged[(inc.day, inc.dimension, inc.value)] += inc.delta
        if len(batch) >= 24 or i == records - 1:
            ddb.batch_write_item(RequestItems={res.table: batch})
            batch = []
    ledger = DynamoLedger(ddb, res.table, CELL)
    keys = list(merged)
    for k in range(0, len(keys), 90):  # through the ledger's own commit, as the gate bumps them
        chunk = [
            Increment(day=a, dimension=b, value=c, delta=merged[(a, b, c)]) for a, b, c in keys[k : k + 90]
        ]
        ledger.commit(decision=_decision(10**7 + k, today - timedelta(days=400)), increments=chunk)
    store = ReportStore(stack.client("s3"), stack.reports_bucket, ddb, res.table)
    end = today - timedelta(days=today.weekday() + 1)
    store.put_report(
        f"weekly-{end}", end.isoformat(), {"report.json": b"{}"}, period_start=end - timedelta(days=6)
    )
    log(f"  api: {records} records and {len(keys)} counters written in {time.perf_counter() - start:.0f} s")
    assert first is not None
    return {"image_id": first.image_id, "report_id": f"weekly-{end}"}


def routes(ids: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(name, path with query, JSON body) of every route, as a client asks them."""
    upload = {"camera_id": "cam-01", "filename": "dock-0001.jpg", "captured_at": "2026-11-20T07:00:00Z"}
    return [
        ("GET /images", "/images?limit=50", None),
        ("GET /images?camera_id", "/images?camera_id=cam-01&limit=50", None),
        ("GET /images?class (filter)", "/images?class=pallet&limit=50", None),
        ("GET /images/{id}", f"/images/{ids['image_id']}", None),
        ("GET /images/{id}/duplicates", f"/images/{ids['image_id']}/duplicates", None),
        ("GET /decisions", "/decisions?limit=50", None),
        ("GET /decisions?status (filter)", "/decisions?status=rejected&limit=50", None),
        ("GET /cameras", "/cameras", None),
        ("GET /cameras/{id}", "/cameras/cam-01", None),
        ("GET /coverage", "/coverage", None),
        ("GET /coverage?dimension", "/coverage?dimension=camera", None),
        ("GET /reports", "/reports", None),
        ("GET /reports/{id}", f"/reports/{ids['report_id']}", None),
        ("POST /uploads", "/uploads", upload),
    ]


def _event(path: str, body: dict[str, Any] | None) -> dict[str, Any]:
    from lenslog.local.api import proxy_event

    headers = {"Accept": "application/json"} | ({"Content-Type": "application/json"} if body else {})
    return proxy_event("POST" if body else "GET", path, headers, json.dumps(body).encode() if body else None)


def _counter(settings: Any) -> Counter[str]:
    from lenslog import runtime

    counts: Counter[str] = Counter()

    def hook(model: Any, **_: Any) -> None:
        counts[model.name] += 1

    home = runtime.config_of(settings).home_cell
    regions = {runtime.resources_of(settings).region, runtime.resources_of(settings, home).region}
    for region in regions:
        runtime.client("dynamodb", region, settings.endpoint_url).meta.events.register(
            "before-call.dynamodb", hook
        )
    return counts


def warm(stack: Any, ids: dict[str, Any], calls: int, log: Any, only: str = "") -> dict[str, Any]:
    from lenslog import runtime
    from lenslog.api.app import resolve
    from lenslog.local.context import LambdaContext

    settings = stack.settings(CELL)
    runtime.audit_service.cache_clear()
    service = runtime.audit_service(settings, open_uploads=True)
    counts = _counter(settings)
    out: dict[str, Any] = {}
    for name, path, body in routes(ids):
        if only and not any(word in name for word in only.split(",")):
            continue
        n = max(5, calls // 4) if "/cameras" in name or "/coverage" in name else calls
        times, requests, statuses = [], [], Counter()
        for i in range(n + 1):
            event = _event(path, body)
            before = sum(counts.values())
            t = time.perf_counter()
            result = resolve(event, LambdaContext(aws_request_id=f"warm-{i}"), service)
            elapsed = (time.perf_counter() - t) * 1000
            if i == 0:
                continue  # the route's first call (its models' validators are built lazily)
            times.append(elapsed)
            requests.append(sum(counts.values()) - before)
            statuses[result["statusCode"]] += 1
        assert set(statuses) <= {200, 201}, (name, statuses)
        times.sort()
        out[name] = {
            "calls": n,
            "p50_ms": statistics.median(times),
            "p99_ms": times[min(len(times) - 1, round(0.99 * (len(times) - 1)))],
            "ddb_requests_per_call": statistics.mean(requests),
        }
        v = out[name]
        log(f"  api: {name}: p50 {v['p50_ms']:.1f} ms, {v['ddb_requests_per_call']:.1f} requests")
    return out


def cold(stack: Any, runs: int = 5) -> dict[str, Any]:
    env = {
        **os.environ,
        **stack.settings(CELL).to_env(),
        "PYTHONPATH": str(ROOT),
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    measured = []
    for _ in range(runs + 1):  # the first fills the byte-code cache (as the layers ship it): not measured
        out = subprocess.run(
            [sys.executable, "-m", "bench.api_latency", "--cold-child"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        measured.append(json.loads(out.stdout.strip().splitlines()[-1]))
    measured = measured[1:]
    result = {k: statistics.median(r[k] for r in measured) for k in ("import_ms", "first_ms", "warm_ms")}
    result["cold_start_ms"] = statistics.median(r["import_ms"] + r["first_ms"] for r in measured)
    result["first_requests"] = measured[0]["first_requests"]
    result["runs"] = measured
    return result


def _cold_child() -> dict[str, Any]:
    """In a fresh process: import the handler, then the first request and a warm one."""
    from bench.process import import_function

    module, import_ms = import_function("audit_api")
    from lenslog.local.context import LambdaContext
    from lenslog.settings import Settings

    settings = Settings.from_env()
    event = _event("/images?camera_id=cam-01&limit=50", None)
    t = time.perf_counter()
    result = module.handler(event, LambdaContext(aws_request_id="cold"))
    first_ms = (time.perf_counter() - t) * 1000
    assert result["statusCode"] == 200, result
    counts = _counter(settings)
    t = time.perf_counter()
    module.handler(_event("/images?camera_id=cam-01&limit=50", None), LambdaContext(aws_request_id="warm"))
    warm_ms = (time.perf_counter() - t) * 1000
    return {
        "import_ms": import_ms,
        "first_ms": first_ms,
        "warm_ms": warm_ms,
        "first_requests": sum(counts.values()),
    }


def measure(
    records: int = 10_000, calls: int = 100, log: Any = print, only: str = "", cold_start: bool = True
) -> dict[str, Any]:
    from bench.scale import lean_moto_transactions
    from lenslog import runtime
    from lenslog.config import load_config
    from lenslog.local.aws import EmbeddedAws, provision

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    runtime.client.cache_clear()
    runtime._session.cache_clear()
    with lean_moto_transactions(), EmbeddedAws() as aws:
        stack = provision(load_config(), aws.endpoint_url, prefix="bench")
        ids = populate(stack, records, log)
        c = None
        if cold_start:
            log("  api: cold start (fresh processes)")
            c = cold(stack)
        w = warm(stack, ids, calls, log, only)
    runtime.client.cache_clear()
    runtime.audit_service.cache_clear()
    runtime._session.cache_clear()
    return {"records": records, "cold_start": c, "routes": w}


def table(r: dict[str, Any]) -> str:
    c = r["cold_start"]
    lines = [f"audit API on {r['records']:,} records (DynamoDB: the embedded moto server)"]
    if c:
        lines.append(
            f"cold start: import {c['import_ms']:.0f} ms + first request {c['first_ms']:.0f} ms"
            f" = {c['cold_start_ms']:.0f} ms (warm: {c['warm_ms']:.0f} ms)"
        )
    lines += [
        "",
        f"{'route':34} {'calls':>5} {'p50 ms':>8} {'p99 ms':>8} {'DynamoDB req/call':>18}",
    ]
    for name, v in r["routes"].items():
        lines.append(
            f"{name:34} {v['calls']:>5} {v['p50_ms']:>8.1f} {v['p99_ms']:>8.1f}"
            f" {v['ddb_requests_per_call']:>18.1f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.api_latency")
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--routes", default="", help="only routes whose name has one of these words")
    parser.add_argument("--no-cold-start", action="store_true")
    parser.add_argument("--cold-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    if args.cold_child:
        print(json.dumps(_cold_child()))
        return 0
    r = measure(
        args.records,
        args.calls,
        log=lambda s: print(s, file=sys.stderr, flush=True),
        only=args.routes,
        cold_start=not args.no_cold_start,
    )
    print(table(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
