"""report.html rendered by a real headless Chromium (Debian's ``chromium`` package): it must show."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from lenslog.audit import build_report, render_html
from lenslog.audit.synthetic import synthetic_counts
from lenslog.config import parse_config

pytestmark = pytest.mark.slow


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def test_report_html_renders_non_blank_in_headless_chromium(tmp_path: Path):
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    config = parse_config({"cells": {"eu": {"region": "eu-central-1"}}})
    end = date(2025, 6, 8)
    counts = synthetic_counts(images=2000, period_end=end, cells=("eu",))
    report = build_report(counts, [], config, period_end=end)
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=1200,1800",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    img = Image.open(shot).convert("RGB")
    assert img.size == (1200, 1800)
    stat = ImageStat.Stat(img.convert("L"))
    assert stat.stddev[0] > 20, "the page rendered as a flat colour"
    colours = img.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 200, "text, badges and charts bring many colours"
    # the heatmap's dark blue cells are drawn: they only come from the embedded PNG charts
    blue = sum(n for n, (r, g, b) in colours if b > 150 and r < 80 and g < 120)
    assert blue > 1000
