"""The report's renderings: versioned JSON, self-contained HTML, CSV tables, and the email's MIME tree."""

from __future__ import annotations

import csv
import email
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from email import policy

import pytest
from PIL import Image

from lenslog.audit import (
    SCHEMA_VERSION,
    Report,
    build_report,
    render_csv,
    render_email,
    render_eml,
    render_html,
    render_json,
)
from lenslog.audit.charts import report_charts
from lenslog.audit.synthetic import counts_from_decisions, synthetic_counts
from lenslog.config import parse_config
from lenslog.domain.models import Decision, ImageMetadata, Status

END = date(2025, 6, 8)
CONFIG = parse_config({"cells": {"eu": {"region": "eu-central-1"}, "us": {"region": "us-east-1"}}})
GENERATED = datetime(2025, 6, 9, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def busy() -> Report:
    counts = synthetic_counts(images=3000, period_end=END, days=35)
    return build_report(counts, [], CONFIG, period_end=END, generated_at=GENERATED)


@pytest.fixture(scope="module")
def empty() -> Report:
    return build_report({}, [], CONFIG, period_end=END, generated_at=GENERATED)


@pytest.fixture(scope="module")
def hostile() -> Report:
    """Values that must be escaped wherever they are shown."""
    cam = '<script>alert("x")</script>'
    decisions = [
        Decision(
            key=f"{cam}/{i}.jpg",
            bucket="landing",
            cell="eu",
            status=Status.accepted,
            split="train",
            metadata=ImageMetadata(
                camera_id=cam,
                captured_at=datetime(2025, 6, 8 - i % 7, 9, tzinfo=UTC),
                source_type="staged",
                classes=["a&b"],
            ),
            decided_at=datetime(2025, 6, 8 - i % 7, 9, tzinfo=UTC),
        )
        for i in range(7)
    ]
    counts = counts_from_decisions(decisions)
    return build_report(counts, decisions, CONFIG, period_end=END, generated_at=GENERATED)


def test_report_json_carries_its_schema_version_and_round_trips(busy):
    data = json.loads(render_json(busy))
    assert data["schema_version"] == SCHEMA_VERSION
    assert re.fullmatch(r"\d+\.\d+", data["schema_version"])
    assert Report.model_validate(data) == busy


@pytest.mark.parametrize("name", ["busy", "empty", "hostile"])
def test_report_html_is_self_contained(name, request):
    html = render_html(request.getfixturevalue(name))
    refs = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']*)', html, flags=re.I)
    assert refs, "the charts are embedded as images"
    assert all(r.startswith("data:image/png;base64,") for r in refs)
    assert not re.search(r"https?://", html)
    assert not re.search(r"<(script|link|iframe)\b", html, flags=re.I)
    assert "@import" not in html and "url(" not in html


def test_report_html_embeds_every_chart(busy):
    html = render_html(busy)
    assert html.count("data:image/png;base64,") == len(report_charts(busy)) == 5
    for title in ("Checklist", "Recommendations", "Coverage", "Drift", "The last 200 images"):
        assert f">{title}<" in html


def test_values_from_metadata_are_escaped_in_html_and_email(hostile):
    assert "<script>" not in render_html(hostile)
    assert "&lt;script&gt;" in render_html(hostile)
    msg = render_email(hostile, sender="a@example.com", recipients=["b@example.com"])
    html_part = msg.get_body(("html",))
    assert "<script>" not in html_part.get_content()


def test_charts_are_valid_pngs_even_without_data(busy, empty):
    for rep in (busy, empty):
        for chart in report_charts(rep):
            img = Image.open(io.BytesIO(chart.png))
            assert img.format == "PNG"
            assert img.width == chart.width * 2


def test_csv_tables_parse_and_match_the_report(busy):
    files = render_csv(busy)
    expected = {"checklist.csv", "coverage.csv", "cameras.csv", "camera_day.csv", "drift.csv"}
    assert expected <= set(files)
    checklist = list(csv.DictReader(io.StringIO(files["checklist.csv"])))
    assert [r["id"] for r in checklist] == [c.id for c in busy.checklist]
    assert [r["status"] for r in checklist] == [c.status.value for c in busy.checklist]
    heat = list(csv.reader(io.StringIO(files["camera_day.csv"])))
    assert len(heat[0]) == 1 + 35 and len(heat) == 1 + len(busy.coverage.camera_day.rows)


def test_csv_of_an_empty_report_has_headers_only(empty):
    files = render_csv(empty)
    assert files["cameras.csv"].splitlines() == [files["cameras.csv"].splitlines()[0]]


def _parse(report: Report) -> email.message.EmailMessage:
    raw = render_eml(report, sender="lenslog@example.com", recipients=["a@example.com", "b@example.com"])
    return email.message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def test_email_subject_names_the_period_and_the_verdict(busy, empty):
    msg = _parse(busy)
    assert "2025-06-02 to 2025-06-08" in msg["Subject"]
    assert busy.verdict.value.upper() in msg["Subject"]
    assert msg["To"] == "a@example.com, b@example.com"
    assert msg["From"] == "lenslog@example.com"
    assert "FAIL" in _parse(empty)["Subject"]


def test_email_is_mixed_with_an_html_body_whose_cid_images_exist_and_csv_attachments(busy):
    msg = _parse(busy)
    assert msg.get_content_type() == "multipart/mixed"
    body, *attachments = msg.iter_parts()
    assert body.get_content_type() == "multipart/alternative"
    plain, related = body.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html, *images = related.iter_parts()
    assert html.get_content_type() == "text/html"
    referenced = set(re.findall(r'src="cid:([^"]+)"', html.get_content()))
    attached = {img["Content-ID"].strip().strip("<>") for img in images}
    assert referenced == attached and len(attached) == 5
    for img in images:
        assert img.get_content_type() == "image/png"
        assert img.get_content().startswith(b"\x89PNG\r\n\x1a\n")
        assert img.get_content_disposition() == "inline"
    assert "Checklist" in html.get_content()
    assert attachments and all(a.get_content_type() == "text/csv" for a in attachments)
    names = [a.get_filename() for a in attachments]
    assert f"{busy.report_id}-checklist.csv" in names
    checklist = next(a for a in attachments if a.get_filename().endswith("-checklist.csv"))
    assert checklist.get_content().splitlines()[0].startswith("id,title,status")


def test_an_empty_report_still_makes_a_complete_email(empty):
    msg = _parse(empty)
    html = msg.get_body(("html",)).get_content()
    assert "Checklist" in html
    assert len(list(msg.get_body(("related",)).iter_parts())) == 1 + 5


def test_the_camera_day_heatmap_draws_at_most_30_cameras_but_the_csv_keeps_them_all():
    day0 = datetime(2025, 4, 9, tzinfo=UTC)
    decisions = [
        Decision(
            key=f"k{i}",
            bucket="b",
            cell="eu",
            status=Status.accepted,
            metadata=ImageMetadata(camera_id=f"cam-{i % 40:02d}", captured_at=day0 + timedelta(days=i % 60)),
            decided_at=day0,
        )
        for i in range(400)
    ]
    rep = build_report(counts_from_decisions(decisions), [], CONFIG, period_end=END)
    first_30 = [d for d in decisions if d.metadata.camera_id < "cam-30"]
    few = build_report(counts_from_decisions(first_30), [], CONFIG, period_end=END)
    assert len(rep.coverage.camera_day.rows) == 40
    assert len(render_csv(rep)["camera_day.csv"].splitlines()) == 41
    height = Image.open(io.BytesIO(report_charts(rep)[0].png)).height
    height_30 = Image.open(io.BytesIO(report_charts(few)[0].png)).height
    assert len(few.coverage.camera_day.rows) == 30
    assert height - height_30 == 2 * 14  # only the "first 30 of 40 rows" note is added


def test_refusals_per_camera_and_capture_time_rules_are_in_the_html_and_the_csv():
    at = datetime(2025, 6, 6, 9, tzinfo=UTC)
    decisions = [
        Decision(
            key=f"k{i}.jpg",
            bucket="landing",
            cell="eu",
            status=Status.accepted if i < 4 else Status.rejected,
            reasons=[] if i < 4 else ["too_small"],
            split="train" if i < 4 else None,
            metadata=ImageMetadata(
                camera_id="exif-nikon-d800" if i >= 4 else "cam-01",
                captured_at=at,
                captured_local="2025-06-06T11:00:00",
                time_rule="cell_zone_assumed" if i < 1 else "gps_zone",
            ),
            decided_at=at,
        )
        for i in range(6)
    ]
    rep = build_report(
        counts_from_decisions(decisions), decisions, CONFIG, period_end=END, generated_at=GENERATED
    )
    html = render_html(rep)
    assert "Refused this week, per camera" in html and "exif-nikon-d800" in html
    assert "Capture time rule" in html and "cell_zone_assumed" in html
    files = render_csv(rep)
    rows = list(csv.reader(io.StringIO(files["refused_by_camera.csv"])))
    assert rows == [["camera", "decided", "rejected", "quarantined"], ["exif-nikon-d800", "2", "2", "0"]]
    coverage = list(csv.reader(io.StringIO(files["coverage.csv"])))
    assert ["time_rule", "gps_zone", "3", "0.75"] in coverage
    assert json.loads(render_json(rep))["totals"]["zone_assumed"] == 1
