"""The snapshot function: each invocation writes parts until its time is nearly up, saves the
continuation and hands the rest to its next invocation, until the snapshot is complete."""

from __future__ import annotations

from lenslog import runtime
from lenslog.local.context import LambdaContext
from lenslog.local.worker import load_function
from lenslog.services import snapshots
from tests.component.labelled import ingest_labelled_set


def test_a_build_runs_as_a_chain_of_invocations_each_stopping_before_its_time_is_up(eu, stack, monkeypatch):
    ingest_labelled_set(eu)
    monkeypatch.setattr(snapshots, "PART_LINES", 3)
    for k, v in stack.settings("eu").to_env().items():
        monkeypatch.setenv(k, v)
    handed: list[str] = []
    monkeypatch.setattr(runtime, "snapshot_continuation", lambda settings: handed.append)
    handler = load_function("snapshot").handler
    record = runtime.snapshot_service(stack.settings("eu")).start(name="big")

    almost_out = LambdaContext(function_name="lenslog-snapshot", remaining_ms=1_000)  # < the margin
    answers = [handler({"snapshot_id": record.snapshot_id}, almost_out)]
    while handed:
        answers.append(handler({"snapshot_id": handed.pop()}, almost_out))

    assert [a["status"] for a in answers] == ["building", "building", "complete"]
    assert [a["parts"] for a in answers] == [1, 2, 3]
    done = runtime.snapshot_service(stack.settings("eu")).get(record.snapshot_id)
    assert done.status == "complete" and done.images == 8 and done.continuation is None
    whole = snapshots.SnapshotService(
        "eu", done_store(stack), runtime.snapshot_service(stack.settings("eu")).records, done.config_version
    ).create()
    assert whole.content_hash == done.content_hash  # the same as in one go


def done_store(stack):
    return runtime.snapshot_service(stack.settings("eu")).store


def test_an_invocation_with_time_to_spare_finishes_the_build_and_hands_nothing_on(eu, stack, monkeypatch):
    ingest_labelled_set(eu)
    for k, v in stack.settings("eu").to_env().items():
        monkeypatch.setenv(k, v)
    handed: list[str] = []
    monkeypatch.setattr(runtime, "snapshot_continuation", lambda settings: handed.append)
    record = runtime.snapshot_service(stack.settings("eu")).start()
    answer = load_function("snapshot").handler(
        {"snapshot_id": record.snapshot_id},
        LambdaContext(function_name="lenslog-snapshot", remaining_ms=900_000),
    )
    assert answer == {"snapshot_id": record.snapshot_id, "status": "complete", "parts": 1} and handed == []
