"""Benchmark: the weekly report over synthetic aggregates of 100k images.

Run: ``.venv/bin/python bench/report_bench.py [--images N] [--days D]``. It prints the number of
aggregate items read and the time to build the report and to render each output. The synthetic
counts are made first and not timed: in production they are read from the cells' tables, one item
per cell x day x dimension x value.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

from lenslog.audit import build_report, render_csv, render_email, render_html, render_json
from lenslog.audit.synthetic import synthetic_counts
from lenslog.config import load_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--cameras-per-cell", type=int, default=6)
    args = parser.parse_args()
    config = load_config()
    end = date(2025, 6, 8)

    t0 = time.perf_counter()
    counts = synthetic_counts(
        images=args.images, period_end=end, days=args.days, cameras_per_cell=args.cameras_per_cell
    )
    made = time.perf_counter() - t0
    items = sum(len(v) for v in counts.values())
    print(
        f"synthetic aggregates: {args.images:,} images over {args.days} days, {len(counts)} cells, "
        f"{items:,} aggregate items (made in {made:.2f} s, not timed below)"
    )

    timings: list[tuple[str, float]] = []
    t = time.perf_counter()
    report = build_report(counts, [], config, period_end=end)
    timings.append(("build_report", time.perf_counter() - t))
    sizes = {}
    for name, fn in (
        ("render_json", lambda: render_json(report)),
        ("render_html", lambda: render_html(report).encode()),
        ("render_csv", lambda: "".join(render_csv(report).values()).encode()),
        (
            "render_email",
            lambda: render_email(
                report, sender=config.report.sender, recipients=config.report.recipients
            ).as_bytes(),
        ),
    ):
        t = time.perf_counter()
        sizes[name] = len(fn())
        timings.append((name, time.perf_counter() - t))
    print(f"items read by the report: {report.items_read:,}")
    print(f"verdict: {report.verdict.value}; {report.headline}")
    for name, seconds in timings:
        size = f"  ({sizes[name] / 1024:,.0f} KiB)" if name in sizes else ""
        print(f"  {name:<14} {seconds * 1000:8.1f} ms{size}")
    print(f"total: {sum(s for _, s in timings):.3f} s")


if __name__ == "__main__":
    main()
