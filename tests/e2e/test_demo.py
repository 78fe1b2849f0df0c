"""`lenslog demo`: the main job on the embedded default writes its four outputs, and they agree."""

from __future__ import annotations

import email
import json
from collections import Counter

import pytest

from lenslog.cli import main as cli

pytestmark = pytest.mark.xdist_group("embedded-aws")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo-out")
    assert cli(["demo", "--out", str(out)]) == 0
    decisions = [json.loads(line) for line in (out / "decisions.jsonl").read_text().splitlines()]
    return out, decisions


def test_demo_writes_its_four_outputs(demo):
    out, _decisions = demo
    for name in ("decisions.jsonl", "report.json", "report.html", "report.eml"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "report.html").read_text().lstrip().lower().startswith("<!doctype html")
    msg = email.message_from_bytes((out / "report.eml").read_bytes())
    assert msg["Subject"] and msg.is_multipart()


def test_every_decision_line_has_the_interface_fields(demo):
    _, decisions = demo
    required = {"key", "status", "reasons", "image_id", "duplicate_of", "cluster_id", "split",
                "data_region", "stored", "metadata", "quality", "hashes"}  # fmt: skip
    for d in decisions:
        assert required <= d.keys(), d["key"]
        assert "provenance" in d["metadata"]
        if d["stored"]:
            assert {"bucket", "key", "region"} <= d["stored"].keys()


def test_the_sample_set_shows_accepted_duplicate_and_refused_decisions(demo):
    _, decisions = demo
    statuses = Counter(d["status"] for d in decisions)
    assert statuses["accepted"] >= 30 and statuses["duplicate"] >= 1
    assert statuses["rejected"] + statuses["quarantined"] >= 4
    reasons = Counter(r for d in decisions for r in d["reasons"])
    assert {"truncated_image", "empty_object", "format_not_allowed", "too_small", "consent_missing"} <= set(
        reasons
    )
    assert any(d["relocated_from"] and d["data_region"] == "us" and d["stored"]["region"] == "us-east-1"
               for d in decisions)  # fmt: skip
    assert any(d.get("reevaluated") and d["status"] == "accepted" for d in decisions)  # the late sidecar


def test_the_report_counts_agree_with_the_decisions(demo):
    out, decisions = demo
    report = json.loads((out / "report.json").read_text())
    dataset = [d for d in decisions if d["status"] in ("accepted", "near_duplicate")]
    assert report["totals"]["dataset_images"] == len(dataset)
    period = report["period"]
    in_period = [d for d in decisions if period["start"] <= d["decided_at"][:10] <= period["end"]]
    assert report["totals"]["decisions_total"] == len(in_period)
    assert report["totals"]["decisions"] == dict(Counter(d["status"] for d in in_period))


def test_the_demo_report_carries_the_leakage_figures_of_its_near_duplicate_links(demo):
    out, decisions = demo
    report = json.loads((out / "report.json").read_text())
    links = [d for d in decisions if d["status"] == "near_duplicate"]
    leakage = report["leakage"]
    assert leakage["links_examined"] == len(links) > 0
    assert leakage["near_pairs"] >= len(links)  # each link is at least a pair with its match
    assert leakage["crossing_pairs"] == 0 and leakage["cluster_split_mismatches"] == 0
    assert sorted(leakage["checked_cells"]) == sorted(report["cells"]) and leakage["passed"]
    item = next(c for c in report["checklist"] if c["id"] == "leakage")
    assert item["status"] == "pass"
    page = (out / "report.html").read_text()
    assert 'id="leakage"' in page and "pairs crossing splits (must be 0)" in page
