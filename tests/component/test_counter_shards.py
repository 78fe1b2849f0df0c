"""Sharded aggregate counters: every (day, dimension, value) is spread over the configured shards by
the image id, each decision counted exactly once in one shard, and every reader sums the shards."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

import pytest

from lenslog.adapters.audit import TableReader
from lenslog.adapters.dynamo import DynamoLedger, counter_shard, counter_sk, shard_key_of
from lenslog.domain.aggregates import Increment, dataset_increments, intake_increments
from lenslog.domain.models import Decision, ImageMetadata, Status
from lenslog.ports import AlreadyDecided

DAY = "2026-03-02"


def _decision(i: int, camera: str = "cam-01") -> Decision:
    return Decision(
        key=f"{camera}/{i}.jpg",
        bucket="landing",
        cell="eu",
        status=Status.accepted,
        version_id="v1",
        image_id=f"{i:064x}",
        split="train",
        metadata=ImageMetadata(camera_id=camera, captured_at=datetime(2026, 3, 2, 10, tzinfo=UTC)),
        decided_at=datetime(2026, 3, 2, 10, tzinfo=UTC),
    )


def _commit(ledger: DynamoLedger, d: Decision) -> None:
    ledger.commit(decision=d, increments=[*dataset_increments(d), *intake_increments(d)], claim_image=True)


def _shard_counts(ddb, table: str, dimension: str, value: str) -> dict[str, int]:
    items = ddb.scan(TableName=table)["Items"]
    return {
        i["SK"]["S"]: int(i["count"]["N"])
        for i in items
        if i["PK"]["S"].startswith("AGG#")
        and i.get("dimension", {}).get("S") == dimension
        and i["value"]["S"] == value
    }


@pytest.fixture
def ledger(stack) -> DynamoLedger:
    res = stack.cells["eu"]
    return DynamoLedger(stack.client("dynamodb", "eu"), res.table, "eu", shards=4)


def test_one_days_images_spread_over_the_shards_and_the_report_reads_their_sum(ledger, stack):
    for i in range(40):
        _commit(ledger, _decision(i))
    shards = _shard_counts(ledger.client, ledger.table, "images", "all")
    expected = Counter(counter_shard(f"{i:064x}", 4) for i in range(40))
    assert len(shards) == len(expected) > 1  # several items, none holding every image
    assert sorted(shards.values()) == sorted(expected.values())
    assert max(shards.values()) < 40
    rows = [r for r in ledger.aggregates([DAY]) if r["dimension"] == "images"]
    assert rows == [{"day": DAY, "dimension": "images", "value": "all", "count": 40}]
    reader = TableReader(ledger.client, ledger.table, "eu")
    by_camera = reader.aggregates([DAY], ["camera"])
    assert by_camera == [{"day": DAY, "dimension": "camera", "value": "cam-01", "count": 40}]


def test_a_replayed_decision_is_refused_and_leaves_every_shard_as_it_was(ledger):
    d = _decision(7)
    _commit(ledger, d)
    before = _shard_counts(ledger.client, ledger.table, "decision", "accepted")
    with pytest.raises(AlreadyDecided):
        _commit(ledger, d)
    assert _shard_counts(ledger.client, ledger.table, "decision", "accepted") == before
    shard = counter_shard(shard_key_of(d), 4)
    assert before == {counter_sk("decision", "accepted", shard): 1}


def test_an_erasure_lowers_the_shard_that_counted_the_image_and_deletes_it_at_zero(ledger):
    keep, erase = _decision(1), _decision(2)
    assert counter_shard(shard_key_of(keep), 4) != counter_shard(shard_key_of(erase), 4)
    _commit(ledger, keep)
    _commit(ledger, erase)
    deleted = ledger.bump(dataset_increments(erase, sign=-1), shard_key=shard_key_of(erase))
    assert deleted == len(dataset_increments(erase))
    assert _shard_counts(ledger.client, ledger.table, "images", "all") == {
        counter_sk("images", "all", counter_shard(shard_key_of(keep), 4)): 1
    }
    assert {(r["dimension"], r["value"]): r["count"] for r in ledger.aggregates([DAY])}[
        ("images", "all")
    ] == 1


def test_a_decrement_in_another_shard_keeps_the_sum_and_the_sweep_removes_what_counts_nothing(stack):
    res = stack.cells["eu"]
    ddb = stack.client("dynamodb", "eu")
    before = DynamoLedger(ddb, res.table, "eu", shards=1)  # counted before the shards were raised
    d = _decision(3)
    _commit(before, d)
    after = DynamoLedger(ddb, res.table, "eu", shards=8)
    assert counter_shard(shard_key_of(d), 8) != 0
    after.bump(dataset_increments(d, sign=-1), shard_key=shard_key_of(d))
    shards = _shard_counts(ddb, res.table, "images", "all")
    assert sorted(shards.values()) == [-1, 1]  # a shard below zero is kept: the sum stays right
    assert {(r["dimension"], r["value"]): r["count"] for r in after.aggregates([DAY])}[("images", "all")] == 0
    removed = after.sweep_counters([DAY], lambda dim, value: False)
    assert removed >= 2
    assert _shard_counts(ddb, res.table, "images", "all") == {}
    # the intake counters still count the decision: the sweep left them
    assert {(r["dimension"], r["value"]): r["count"] for r in after.aggregates([DAY])}[
        ("decision", "accepted")
    ] == 1


def test_the_sweep_deletes_every_shard_of_an_erased_cameras_counters(ledger):
    for i in range(12):
        _commit(ledger, _decision(i, camera="cam-09"))
    assert len(_shard_counts(ledger.client, ledger.table, "camera", "cam-09")) > 1
    ledger.sweep_counters([DAY], lambda dim, value: dim == "camera" and value == "cam-09")
    assert _shard_counts(ledger.client, ledger.table, "camera", "cam-09") == {}
    assert ledger.aggregates([DAY])  # the other dimensions stay


def test_an_anonymous_count_lands_in_some_shard_and_sums(ledger):
    for _ in range(20):
        ledger.bump([Increment(day=date(2026, 3, 2), dimension="relocated_out", value="us")])
    rows = [r for r in ledger.aggregates([DAY]) if r["dimension"] == "relocated_out"]
    assert rows == [{"day": DAY, "dimension": "relocated_out", "value": "us", "count": 20}]


def test_the_report_sums_the_shards_and_counts_the_items_it_read(ledger, config):
    from lenslog.services.report import ReportService

    for i in range(30):
        _commit(ledger, _decision(i))
    items = sum(1 for _ in ledger.counter_items([DAY]))
    outcome = ReportService(config=config, ledgers={"eu": ledger}).build(period_end=date(2026, 3, 7))
    assert outcome.report.totals.dataset_images == 30
    assert outcome.items_read == outcome.report.items_read == items
    assert items > len(ledger.aggregates([DAY]))  # several shards a counter
