"""``make bench``: every figure in one run, one table on stdout, ``bench/results.json`` on disk.

python -m bench.run                    # the built-in image set, everything
python -m bench.run --images DIR       # the gate figures on your own photos
python -m bench.run --quick            # fewer repeats, no 100k corpus, 200 uploads

The camera-metadata figures (bench/camera_metadata.py: the gate's metadata of public real camera
photos against exiftool's) are part of every run; with --images the folder is added to them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results.json"
TARGETS = {
    "gate_vs_naive": (">=", 5.0),
    "gate_vs_floor": ("<=", 1.3),
    "cleanvision_speedup": (">=", 15.0),
    "handler_import_ms": ("<=", 300.0),
    "peak_rss_mb_50mp": ("<=", 300.0),
}
# Figures printed and stored as information, with no target (the reason is in the decision log):
# the first image after a cold start of the ingest function against a warm one (the <= 2x target
# was retired on 2026-12-06; a cold start delays a queue, not a person).
INFORMATION = ("first_vs_warm",)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench")
    parser.add_argument("--images", type=Path, help="a folder of your own images (gate figures only)")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--uploads", type=int, default=1000)
    parser.add_argument("--local-batches", type=int, default=4)
    parser.add_argument("--local-per-batch", type=int, default=2500)
    parser.add_argument("--corpus", default="1000,10000,100000", help="corpus sizes for requests per image")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat, args.uploads, args.corpus = 3, 200, "1000,10000"
        args.local_batches, args.local_per_batch = 2, 200

    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    import warnings

    warnings.filterwarnings("ignore", message="No application metrics to publish")
    from bench import api_latency, camera_metadata, gate, images, peer, process, scale

    items = images.from_folder(args.images) if args.images else images.built_in()
    log(f"bench: {len(items)} images")
    r: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "images": "built-in" if not args.images else str(args.images),
    }
    t = gate.measure(items, repeat=args.repeat, log=log)
    r["gate_ms"] = {
        fmt: {p: t.mean(p, fmt) for p in ("lenslog", "naive", "floor")}
        for fmt in ("JPEG", "PNG", "BMP")
        if t.mean("lenslog", fmt) is not None
    }
    r["gate_per_image_ms"] = t.per_image
    main_fmt = "JPEG" if "JPEG" in r["gate_ms"] else next(iter(r["gate_ms"]))
    r["gate_vs_naive"] = t.total("naive", main_fmt) / t.total("lenslog", main_fmt)
    r["gate_vs_floor"] = t.total("lenslog", main_fmt) / t.total("floor", main_fmt)
    r["gate_ratios_by_format"] = {
        fmt: {
            "vs_naive": t.total("naive", fmt) / t.total("lenslog", fmt),
            "vs_floor": t.total("lenslog", fmt) / t.total("floor", fmt),
        }
        for fmt in r["gate_ms"]
    }
    log("bench: CleanVision")
    try:
        p = peer.compare(items, gate.bench_config(), log=log)
        r["peer"] = p
        r["cleanvision_speedup"] = p["cleanvision_speedup"]
    except ImportError:
        log("bench: cleanvision is not installed (pip install -e '.[bench]'); peer figures skipped")
        r["cleanvision_speedup"] = None
    log("bench: camera metadata against exiftool")
    try:
        cm = camera_metadata.measure([args.images] if args.images else [], log=log)
        r["camera_metadata"] = cm
        r["camera_metadata_on_target"] = cm["on_target"]
    except (RuntimeError, OSError) as exc:
        log(f"bench: camera metadata skipped: {exc}")
    if not args.images:
        log("bench: cold start")
        c = process.cold_start()
        r["cold_start"] = c
        r["handler_import_ms"], r["first_vs_warm"] = c["import_ms"], c["first_vs_warm"]
        log("bench: memory")
        m = process.memory()
        r["memory"] = m
        r["peak_rss_mb_50mp"] = m["peak_rss_mb_50mp"]
        log("bench: DynamoDB requests per image")
        sizes = tuple(int(x) for x in args.corpus.split(","))
        d = scale.requests_per_image(sizes, log=log)
        r["ddb"] = d
        r["ddb_requests_per_image"] = {k: v["requests_per_image"] for k, v in d.items()}
        log("bench: report cost")
        r["report_items_read"] = scale.report_cost(log=log)
        log("bench: local pipeline")
        r["local_pipeline"] = scale.local_pipeline(args.uploads, log=log)
        r["local_images_per_s"] = r["local_pipeline"]["images_per_s"]
        log("bench: audit API latency")
        r["api"] = api_latency.measure(calls=50 if args.quick else 100, log=log)
        r["api_cold_start_ms"] = r["api"]["cold_start"]["cold_start_ms"]
        log("bench: the embedded default at size (lenslog local + lenslog ingest, subprocesses)")
        from bench import local_scale

        r["local_scale"] = local_scale.run(args.local_batches, args.local_per_batch, log=log)
    r["on_target"] = {k: _ok(k, r.get(k)) for k in TARGETS if r.get(k) is not None}
    r["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    try:  # bench/neardup.py writes its figures under "neardup": keep them
        previous = json.loads(RESULTS.read_text())
        if "neardup" in previous:
            r["neardup"] = previous["neardup"]
    except (OSError, ValueError):
        pass
    RESULTS.write_text(json.dumps(r, indent=1, default=str))
    print(table(r))
    if "local_scale" in r:
        from bench import local_scale

        print()
        print(local_scale.report(r["local_scale"]))
    return 0


def _ok(key: str, value: float | None) -> bool:
    if value is None:
        return False
    op, target = TARGETS[key]
    return value >= target if op == ">=" else value <= target


def _f(v: Any, unit: str = "", digits: int = 1) -> str:
    return "-" if v is None else f"{v:.{digits}f}{unit}"


def table(r: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str, str, str, str]] = []
    for fmt, ms in r["gate_ms"].items():
        ratios = r["gate_ratios_by_format"][fmt]
        rows.append(
            (
                f"gate, {fmt} (ms/image)",
                _f(ms["lenslog"]),
                _f(ms["naive"]) + " naive",
                _f(ms["floor"]) + " floor",
                f"{ratios['vs_naive']:.1f}x naive, {ratios['vs_floor']:.2f}x floor",
                ">=5x, <=1.3x" if fmt == "JPEG" else "",
            )
        )
    p = r.get("peer")
    if p:
        rows.append(
            (
                "peer: CleanVision (ms/image)",
                _f(p["lenslog_ms_per_image"]),
                "",
                _f(p["cleanvision_ms_per_image"]) + " CV",
                f"{p['cleanvision_speedup']:.1f}x faster",
                ">=15x",
            )
        )
        rows.append(
            (
                "  files CleanVision skipped/aborted on",
                "0",
                "",
                f"{len(p['cleanvision_skipped'])} skipped, run aborted by {len(p['cleanvision_aborted_on'])}",
                f"{len(p['disagreements'])} disagreements",
                "",
            )
        )
    if "cold_start" in r:
        c = r["cold_start"]
        rows.append(("cold start: import handler (ms)", _f(c["import_ms"]), "", "", "", "<=300"))
        w = c["without_bytecode"]  # one run; the shipped figures are medians of five
        for label, first, warm, ratio, target in (
            ("cold start: first / warm image (ms)", c["first_ms"], c["warm_ms"], c["first_vs_warm"], "info"),
            (
                "  same, layers without byte code (ms)",
                w["first_ms"],
                w["warm_ms"],
                w["first_ms"] / w["warm_ms"],
                "",
            ),
        ):
            rows.append(
                (label, _f(first, digits=0), "", _f(warm, digits=0) + " warm", f"{ratio:.2f}x", target)
            )
        m = r["memory"]
        rows.append(("peak RSS, 50 MP JPEG (MB)", _f(m["peak_rss_mb_50mp"]), "", "", "", "<=300"))
        rows.append(
            (
                "decompression bomb (RSS growth MB)",
                _f(m["bomb_rss_growth_mb"]),
                "",
                "",
                "refused" if m["bomb_refused"] else "NOT refused",
                "refused unallocated",
            )
        )
        for n, v in r["ddb_requests_per_image"].items():
            rows.append((f"DynamoDB requests/image, {int(n):,} indexed", _f(v), "", "", "", "constant"))
        for v in r["report_items_read"].values():
            rows.append(
                (
                    f"report: items read, {v['images']:,} images x {v['days']} d",
                    str(v["items_read"]),
                    "",
                    "",
                    f"{v['requests']} queries",
                    "~ days x dims",
                )
            )
        lp = r["local_pipeline"]
        rows.append(
            (f"local pipeline, {lp['uploads']} uploads (img/s)", _f(lp["images_per_s"]), "", "", "", "")
        )
    cm = r.get("camera_metadata")
    if cm:
        for name, f in cm["fields"].items():
            rows.append(
                (
                    f"camera metadata: {name} ({cm['camera_files']} files, {cm['makers']} makers)",
                    "-" if f["share"] is None else f"{f['share']:.1%}",
                    "",
                    "exiftool",
                    f"{f['matched']}/{f['held']}",
                    f">={f['target']:.0%}",
                )
            )
    a = r.get("api")
    if a:
        c = a["cold_start"]
        rows.append(
            (
                "audit API cold start: import + first (ms)",
                _f(c["cold_start_ms"], digits=0),
                "",
                "",
                f"{c['import_ms']:.0f} + {c['first_ms']:.0f}",
                "",
            )
        )
        for name, v in a["routes"].items():
            rows.append(
                (
                    f"  {name}: p50 / p99 (ms)",
                    _f(v["p50_ms"]),
                    _f(v["p99_ms"]) + " p99",
                    "",
                    f"{v['ddb_requests_per_call']:.1f} DynamoDB req",
                    "",
                )
            )
    head = ("figure", "lenslog", "baseline", "floor / peer", "ratio", "target")
    widths = [max(len(str(x[i])) for x in [head, *rows]) for i in range(6)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [head, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    on_target = dict(r["on_target"])
    if "camera_metadata_on_target" in r:
        on_target["camera_metadata"] = r["camera_metadata_on_target"]
    flags = ", ".join(f"{k} {'ok' if v else 'MISSED'}" for k, v in on_target.items())
    info = ", ".join(f"{k} {r[k]:.2f}" for k in INFORMATION if isinstance(r.get(k), int | float))
    return "\n".join(
        [*lines, "", f"on target: {flags}", *([f"information, no target: {info}"] if info else [])]
    )


if __name__ == "__main__":
    raise SystemExit(main())
