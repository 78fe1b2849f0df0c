"""The audit engine over aggregate counts: the checklist's edges, coverage gaps, drift, the recent
sample, and inputs that are empty, from one camera or without classes."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from lenslog.audit import build_report
from lenslog.audit.models import CheckStatus, Verdict
from lenslog.audit.synthetic import counts_from_decisions
from lenslog.config import parse_config
from lenslog.domain.aggregates import AggregateCount
from lenslog.domain.models import Decision, ImageMetadata, Quality, Status

END = date(2025, 6, 8)  # a Sunday; the period is 2025-06-02 .. 2025-06-08
CONFIG = parse_config({"cells": {"eu": {"region": "eu-central-1"}, "us": {"region": "us-east-1"}}})

_seq = iter(range(10**9))


def decision(
    *,
    camera: str | None = "cam-01",
    day: date = END,
    hour: int = 12,
    source_type: str | None = "production_live",
    classes: tuple[str, ...] = (),
    status: Status = Status.accepted,
    split: str | None = "train",
    timed: bool = True,
    located: bool = True,
    cell: str = "eu",
    reasons: tuple[str, ...] = (),
    brightness: float | None = None,
    flags: tuple[str, ...] = (),
) -> Decision:
    n = next(_seq)
    at = datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)
    md = ImageMetadata(
        camera_id=camera,
        captured_at=at if timed else None,
        captured_local=at.replace(tzinfo=None).isoformat() if timed else None,
        source_type=source_type,
        classes=list(classes),
        lat=52.5 if located else None,
        lon=13.4 if located else None,
    )
    quality = None
    if brightness is not None:
        quality = Quality(
            brightness=brightness,
            brightness_p05=0,
            brightness_p95=255,
            contrast=1,
            sharpness=1,
            entropy=5,
            colourfulness=1,
            noise=1,
            aspect_ratio=1.5,
            flags=list(flags),
        )
    return Decision(
        key=f"{camera or 'x'}/{n}.jpg",
        bucket="landing",
        cell=cell,
        status=status,
        reasons=list(reasons),
        image_id=f"{n:064x}",
        split=split if status in (Status.accepted, Status.near_duplicate) else None,
        metadata=md,
        quality=quality,
        decided_at=at,
    )


def spread(n: int, **kw) -> list[Decision]:
    """``n`` images over the 7 days of the period, round robin."""
    return [decision(day=END - timedelta(days=i % 7), **kw) for i in range(n)]


def report(decisions, recent=(), config=CONFIG, period_end=END):
    return build_report(counts_from_decisions(decisions), list(recent), config, period_end=period_end)


def healthy(cameras=("cam-01", "cam-02", "cam-03"), per_camera=70, labelled=True) -> list[Decision]:
    out = []
    for cam in cameras:
        for i in range(per_camera):
            st = "production_live" if i % 10 < 7 else ("staged" if i % 10 < 9 else "public")
            out.append(
                decision(
                    camera=cam,
                    day=END - timedelta(days=i % 7),
                    hour=(i * 5) % 24,
                    source_type=st,
                    classes=(("person" if i % 2 else "forklift",) if labelled else ()),
                )
            )
    return out


def check(rep, check_id):
    return next(c for c in rep.checklist if c.id == check_id)


def test_a_healthy_dataset_passes_every_check():
    rep = report(healthy())
    assert [c.status for c in rep.checklist] == [CheckStatus.passed] * len(rep.checklist)
    assert rep.verdict in (Verdict.passed, Verdict.watch)


@pytest.mark.parametrize(
    ("production", "staged", "status"), [(2, 2, "pass"), (1, 1, "pass"), (49, 51, "fail")]
)
def test_production_share_passes_at_exactly_half(production, staged, status):
    ds = spread(production, source_type="production_archive") + spread(staged, source_type="staged")
    item = check(report(ds), "production_share")
    assert item.status == status
    assert item.value == pytest.approx(production / (production + staged))


def test_images_without_a_source_type_count_against_the_production_share():
    ds = spread(1, source_type="production_live") + spread(1, source_type=None)
    assert check(report(ds), "production_share").value == pytest.approx(0.5)


@pytest.mark.parametrize(("cameras", "status"), [(2, "fail"), (3, "pass"), (4, "pass")])
def test_three_cameras_is_the_minimum(cameras, status):
    ds = [decision(camera=f"cam-{i}") for i in range(cameras)]
    item = check(report(ds), "cameras")
    assert item.status == status
    assert item.value == cameras


@pytest.mark.parametrize(("days", "status"), [(6, "fail"), (7, "pass")])
def test_seven_capture_days_is_the_minimum(days, status):
    ds = [decision(day=END - timedelta(days=i)) for i in range(days)]
    item = check(report(ds), "capture_days")
    assert item.status == status
    assert item.value == days


def test_seven_days_pass_but_the_report_asks_for_a_month():
    rep = report([decision(day=END - timedelta(days=i)) for i in range(7)])
    assert any(r.ref == "check:capture_days" and r.severity == "info" for r in rep.recommendations)


def test_one_image_without_a_timestamp_fails_camera_and_time():
    rep = report([*spread(9), decision(timed=False)])
    item = check(rep, "camera_time")
    assert item.status == "fail"
    assert item.value == pytest.approx(0.9)
    assert "1 images lack" in item.detail


@pytest.mark.parametrize(
    ("small", "large", "status"),
    [(50, 100, "pass"), (49, 98, "fail"), (50, 101, "fail"), (60, 60, "pass")],
)
def test_class_balance_needs_half_of_the_largest_and_fifty_images(small, large, status):
    ds = spread(small, classes=("pallet",)) + spread(large, classes=("person",))
    item = check(report(ds), "class_balance")
    assert item.status == status
    assert item.value == pytest.approx(small / large)


def test_no_classes_is_not_applicable_rather_than_a_failure():
    rep = report(healthy(labelled=False))
    item = check(rep, "class_balance")
    assert item.status == CheckStatus.not_applicable
    assert "no image carries a class label" in item.detail
    assert not any(r.ref == "check:class_balance" for r in rep.recommendations)
    assert rep.verdict != Verdict.failed


def test_synthetic_counts_as_staged_and_web_as_public_in_the_blend():
    ds = (
        spread(70, source_type="production_live")
        + spread(20, source_type="synthetic")
        + spread(10, source_type="web")
    )
    rep = report(ds)
    assert rep.source_blend == pytest.approx({"production": 0.7, "staged": 0.2, "public": 0.1})
    assert check(rep, "source_blend").status == "pass"


def test_a_blend_off_target_by_more_than_ten_points_fails_and_names_the_short_group():
    ds = spread(95, source_type="production_live") + spread(5, source_type="public")
    rep = report(ds)
    assert check(rep, "source_blend").status == "fail"
    rec = next(r for r in rep.recommendations if r.ref == "check:source_blend")
    assert "staged (0% vs 20%)" in rec.text


def test_images_without_a_split_fail_the_split_check():
    rep = report([*spread(5), decision(split=None)])
    assert check(rep, "splits").status == "fail"
    assert "1 images have no split" in check(rep, "splits").detail


def test_duplicate_rate_is_reported_from_intake_decisions():
    ds = [
        *spread(6),
        *spread(2, status=Status.duplicate),
        *spread(2, status=Status.rejected, reasons=("too_small",)),
    ]
    rep = report(ds)
    assert rep.totals.duplicate_rate == pytest.approx(0.2)
    assert check(rep, "duplicates").value == pytest.approx(0.2)
    assert rep.totals.refusals == 2
    assert rep.totals.reasons == {"too_small": 2}


def test_totals_agree_with_the_decisions_they_were_built_from():
    ds = (
        healthy()
        + spread(3, status=Status.duplicate)
        + spread(2, status=Status.quarantined, reasons=("consent_missing",))
    )
    ds += [decision(day=END - timedelta(days=10))]  # before the period: in the dataset, not in the week
    rep = report(ds)
    in_week = [d for d in ds if d.decided_at.date() >= END - timedelta(days=6)]
    assert rep.totals.decisions == dict(Counter(str(d.status) for d in in_week))
    assert rep.totals.decisions_total == len(in_week)
    assert rep.totals.dataset_images == sum(1 for d in ds if d.status == Status.accepted)
    assert rep.totals.period_images == sum(1 for d in in_week if d.status == Status.accepted)


def test_empty_input_gives_a_failing_report_without_errors():
    for counts in ({}, {"eu": []}):
        rep = build_report(counts, [], CONFIG, period_end=END)
        assert rep.verdict == Verdict.failed
        assert rep.totals.dataset_images == 0
        assert rep.totals.duplicate_rate is None
        assert check(rep, "camera_time").status == CheckStatus.not_applicable
        assert check(rep, "class_balance").status == CheckStatus.not_applicable
        assert all(d.level == "no_data" for d in rep.drift.dimensions)
        assert rep.recent_audit.sample_size == 0
        assert any(r.ref == "drift:volume" for r in rep.recommendations)


def test_one_camera_fails_the_camera_check_and_says_so():
    rep = report(spread(100, classes=("person",)))
    assert check(rep, "cameras").status == "fail"
    rec = next(r for r in rep.recommendations if r.ref == "check:cameras")
    assert "1 (needs >= 3)" in rec.text
    assert rep.coverage.camera_day.rows == ["cam-01"]
    assert len(rep.coverage.cameras) == 1


def test_an_empty_week_after_a_busy_baseline_names_the_silent_cameras():
    base = [decision(camera=c, day=END - timedelta(days=10)) for c in ("cam-01", "cam-02", "cam-03")]
    rep = report(base)
    assert rep.totals.period_images == 0
    assert rep.drift.has_baseline
    assert rep.drift.silent_cameras == ["cam-01", "cam-02", "cam-03"]
    assert all(d.level == "no_data" for d in rep.drift.dimensions)
    volume = next(m for m in rep.drift.metrics if m.name == "volume")
    assert volume.level == "alert"
    assert any(
        "sent images in the previous 4 weeks but none this week" in r.text for r in rep.recommendations
    )
    assert rep.verdict != Verdict.passed


def test_a_shift_of_capture_hours_raises_a_drift_alert_and_names_the_moved_values():
    base = [decision(day=END - timedelta(days=8 + i % 20), hour=12) for i in range(80)]
    cur = [decision(day=END - timedelta(days=i % 7), hour=23) for i in range(20)]
    rep = report(base + cur)
    hour = next(d for d in rep.drift.dimensions if d.dimension == "hour")
    assert hour.level == "alert"
    assert hour.baseline_total == 80 and hour.current_total == 20
    assert "23: 0% -> 100%" in hour.top_changes
    assert hour.js == pytest.approx(1.0)
    camera = next(d for d in rep.drift.dimensions if d.dimension == "camera")
    assert camera.level == "ok"
    assert any(r.ref == "drift:hour" and r.severity == "action" for r in rep.recommendations)


def test_new_cameras_are_only_new_against_an_existing_baseline():
    assert report([decision(camera="cam-09")]).drift.new_cameras == []
    rep = report([decision(camera="cam-01", day=END - timedelta(days=9)), decision(camera="cam-09")])
    assert rep.drift.new_cameras == ["cam-09"]
    assert rep.drift.silent_cameras == ["cam-01"]


def test_a_camera_without_night_images_gets_a_plain_recommendation():
    ds = healthy() + [decision(camera="cam-04", day=END - timedelta(days=i), hour=10) for i in range(14)]
    rep = report(ds)
    texts = [r.text for r in rep.recommendations if r.ref == "gap:night"]
    assert texts == [
        "cam-04: no images between 18:00 and 06:00 in 35 days. Schedule night and dusk captures."
    ]
    cam = next(c for c in rep.coverage.cameras if c.camera == "cam-04")
    assert (cam.night_images, cam.hours_covered, cam.capture_days) == (0, 1, 14)


def test_under_represented_values_are_listed_against_an_even_spread():
    ds = spread(45, camera="cam-01") + spread(45, camera="cam-02") + spread(10, camera="cam-03")
    gaps = report(ds).coverage.under_represented
    assert [(g.dimension, g.value) for g in gaps] == [("camera", "cam-03")]
    assert gaps[0].share == pytest.approx(0.1)
    assert gaps[0].expected_share == pytest.approx(1 / 3)


def test_counts_after_the_period_are_ignored():
    ds = healthy()
    later = [decision(camera="cam-07", day=END + timedelta(days=1 + i)) for i in range(5)]
    assert report(ds + later).model_dump(exclude={"generated_at", "items_read"}) == report(ds).model_dump(
        exclude={"generated_at", "items_read"}
    )


def test_the_global_report_sums_cells_and_keeps_a_summary_per_cell():
    ds = spread(10, camera="eu-1") + spread(4, camera="us-1", cell="us")
    rep = report(ds)
    assert rep.scope == "global" and rep.cells == ["eu", "us"]
    assert rep.totals.dataset_images == 14
    assert [(c.cell, c.dataset_images) for c in rep.cell_summaries] == [("eu", 10), ("us", 4)]
    assert report(spread(3)).scope == "eu"


def test_items_read_counts_every_aggregate_item_given():
    counts = counts_from_decisions(healthy())
    given = sum(len(v) for v in counts.values())
    extra = AggregateCount(cell="eu", day=END + timedelta(days=3), dimension="images", value="all", count=1)
    rep = build_report({"eu": [*counts["eu"], extra]}, [], CONFIG, period_end=END)
    assert rep.items_read == given + 1


def test_the_recent_audit_reads_the_latest_200_decisions():
    old = [decision(timed=False, located=False, day=END - timedelta(days=3)) for _ in range(50)]
    new = [decision(located=i % 4 != 0, camera=None if i < 10 else "cam-01") for i in range(200)]
    audit = report([], recent=old + new).recent_audit
    assert audit.sample_size == 200
    assert audit.with_time == 200
    assert audit.with_camera == 190
    assert audit.with_location == 150
    # camera and location: i in 10..199 (190) minus i % 4 == 0 among them (12, 16, ..., 196: 47) = 143
    assert audit.with_all == 143
    assert len(audit.missing_examples) == 5


def test_the_recent_audit_reports_brightness_per_camera():
    recent = [
        decision(brightness=20, flags=("dark",)),
        decision(brightness=60),
        decision(camera="cam-02", brightness=240, flags=("overexposed",)),
    ]
    rows = {b.camera: b for b in report([], recent=recent).recent_audit.brightness_by_camera}
    assert rows["cam-01"].mean_brightness == pytest.approx(40.0)
    assert (rows["cam-01"].dark, rows["cam-02"].overexposed) == (1, 1)


def test_registered_cameras_of_the_reported_cells_that_never_sent_an_image_are_named():
    config = parse_config(
        {
            "cells": {"eu": {"region": "eu-central-1"}, "us": {"region": "us-east-1"}},
            "sources": {"live": {"cell": "eu"}, "yard": {"cell": "us"}},
            "cameras": {
                "cam-01": {"source": "live"},
                "cam-05": {"source": "live"},
                "us-1": {"source": "yard"},
            },
        }
    )
    rep = report(spread(3), config=config)
    assert rep.drift.unseen_registered_cameras == ["cam-05"]


def test_a_failing_report_has_one_action_per_failing_check():
    rep = report(spread(10, source_type="staged"))
    failing = {c.id for c in rep.checklist if c.status == "fail"}
    tied = {
        r.ref.removeprefix("check:")
        for r in rep.recommendations
        if r.ref.startswith("check:") and r.severity == "action"
    }
    assert failing == tied
    assert rep.verdict == Verdict.failed
    assert rep.subject.startswith("lenslog audit 2025-06-02 to 2025-06-08 (eu): FAIL")


def test_images_are_counted_per_capture_time_rule_and_assumed_zones_are_named():
    ds = spread(6)
    for i, d in enumerate(ds):
        d.metadata.time_rule = "cell_zone_assumed" if i < 2 else "exif_offset"
    rep = report(ds)
    assert rep.totals.time_rules == {"cell_zone_assumed": 2, "exif_offset": 4}
    assert rep.totals.zone_assumed == 2
    table = next(t for t in rep.coverage.tables if t.dimension == "time_rule")
    assert {r.value: r.count for r in table.rows} == {"cell_zone_assumed": 2, "exif_offset": 4}


def test_refusals_of_the_week_are_listed_per_camera_including_cameras_without_a_dataset_image():
    ds = [
        *spread(5, camera="cam-01"),
        *spread(2, camera="cam-01", status=Status.rejected, reasons=("too_small",)),
        *spread(3, camera="exif-canon-eos-r6", status=Status.rejected, reasons=("too_small",)),
        *spread(1, camera=None, status=Status.quarantined, reasons=("metadata_incomplete",)),
    ]
    rep = report(ds)
    rows = [(r.camera, r.decided, r.rejected, r.quarantined) for r in rep.coverage.refused_by_camera]
    assert rows == [("exif-canon-eos-r6", 3, 3, 0), ("cam-01", 7, 2, 0), ("unknown", 1, 0, 1)]
