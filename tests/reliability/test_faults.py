"""Throttling and 5xx at every AWS call on the ingest path: the batch item fails, succeeds on
retry, and the end state is the one a fault-free run gives; a fault that never clears sends the
message to the DLQ with its object still in landing, and ``lenslog redrive`` replays it.

Faults are HTTP responses returned from botocore's ``before-send`` event (see
``tests/reliability/support.py``), so botocore parses them and runs its standard retries (the
runtime's ``max_attempts: 5`` retries, 6 sends) before our code sees the error; a fault of 6 sends
fails exactly one call.
Backoff sleeps are skipped, nothing else of the retry logic is.
"""

from __future__ import annotations

import pytest

from lenslog.cli import main
from tests.images import jpeg
from tests.reliability.support import (
    META,
    FaultInjector,
    fresh_stack,
    no_retry_backoff,
    reconcile,
    snapshot,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("faults")]

GOOD = jpeg(201)
LATE = jpeg(202)
TRUNCATED = jpeg(203)[:5000]
SIDECAR = b'{"camera_id": "cam-01", "captured_at": "2026-11-18T09:15:00+01:00"}'

# Every call the ingest function makes for these uploads (an accepted image, an exact duplicate,
# a rejected one that gets a reason document, an image cured by a late sidecar).
PATH_CALLS = [
    ("s3", "HeadObject"),
    ("s3", "GetObject"),
    ("s3", "CopyObject"),
    ("s3", "PutObject"),
    ("s3", "DeleteObject"),
    ("dynamodb", "GetItem"),
    ("dynamodb", "TransactWriteItems"),
]
FAULT_COUNT: list[int] = []


def _scenario(cell, versions: dict[str, str]) -> None:
    for key, body, meta in (
        ("f/good.jpg", GOOD, META),
        ("f/trunc.jpg", TRUNCATED, META),
        ("f/late.jpg", LATE, {}),
    ):
        versions[cell.put(key, body, meta)["VersionId"]] = f"<{key}>"


def _later(cell, versions: dict[str, str]) -> None:
    """Uploaded once the first ones are decided, so which copy is the original does not depend on
    which event a fault delayed."""
    versions[cell.put("f/late.jpg.json", SIDECAR)["VersionId"]] = "<f/late.jpg.json>"
    versions[cell.put("f/copy.jpg", GOOD, META)["VersionId"]] = "<f/copy.jpg>"


def _run(config, monkeypatch, faults=()) -> tuple:
    with fresh_stack(config) as cell:
        no_retry_backoff(monkeypatch)
        sqs = cell.stack.client("sqs", "eu")
        sqs.set_queue_attributes(QueueUrl=cell.stack.queue_urls["eu"], Attributes={"VisibilityTimeout": "1"})
        injector = FaultInjector(cell.stack)
        versions: dict[str, str] = {}
        _scenario(cell, versions)
        added = [injector.add(service, op, kind) for service, op, kind in faults]
        cell.drain()
        _later(cell, versions)
        cell.drain()
        injector.clear()
        return snapshot(cell).normalised(versions), reconcile(cell.stack), cell.worker.failures, added


@pytest.fixture(scope="module")
def fault_free(request):
    from lenslog.config import load_config

    mp = pytest.MonkeyPatch()
    try:
        return _run(load_config(), mp)
    finally:
        mp.undo()


@pytest.mark.parametrize("kind", ["throttle", "5xx"])
@pytest.mark.parametrize(("service", "operation"), PATH_CALLS)
def test_a_failing_call_fails_the_batch_item_which_succeeds_on_retry(
    config, monkeypatch, fault_free, service, operation, kind
):
    expected, _, clean_failures, _ = fault_free
    state, report, failures, [fault] = _run(config, monkeypatch, [(service, operation, kind)])
    assert clean_failures == 0
    assert fault.injected == 6, f"{service}.{operation} did not fail a whole call on the path"
    assert failures >= 1  # the item failed at least once ...
    assert state.objects == expected.objects  # ... and the retry finished it, as if nothing happened
    assert state.items == expected.items
    assert report.orphans == [] and report.pending == []
    FAULT_COUNT.append(fault.injected)


def test_a_persistent_fault_sends_the_message_to_the_dlq_with_its_object_in_landing_and_redrive_replays_it(
    config, monkeypatch, capsys
):
    with fresh_stack(config) as cell:
        no_retry_backoff(monkeypatch)
        sqs = cell.stack.client("sqs", "eu")
        queue, dlq = cell.stack.queue_urls["eu"], cell.stack.dlq_urls["eu"]
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={"VisibilityTimeout": "0"})
        cell.put("ok.jpg", jpeg(204), META)
        cell.put("poison/x.jpg", jpeg(205), META)
        injector = FaultInjector(cell.stack)
        fault = injector.add("s3", "GetObject", "5xx", calls=None, match="poison")
        cell.drain()

        receives = config.dlq_max_receive_count
        assert fault.injected == injector.attempts("s3") * receives  # every send of every receive
        assert cell.landing() == ["poison/x.jpg"]  # never deleted before a committed decision
        assert len(cell.curated()) == 1  # the other object was not held up
        dead = sqs.receive_message(QueueUrl=dlq, VisibilityTimeout=0)["Messages"]
        assert len(dead) == 1 and "poison" in dead[0]["Body"]

        assert main(["verify"]) == 0  # stuck, not lost: pending in landing is not an orphan
        out = capsys.readouterr().out
        assert "poison/x.jpg" in out and "undecided" in out

        injector.clear()
        assert main(["redrive", "--cell", "eu", "--method", "copy"]) == 0
        assert "1 of 1 DLQ messages moved" in capsys.readouterr().out
        cell.drain()
        assert cell.landing() == [] and len(cell.curated()) == 2
        assert (
            sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])[
                "Attributes"
            ]["ApproximateNumberOfMessages"]
            == "0"
        )
        assert main(["verify"]) == 0
        assert "orphans: none" in capsys.readouterr().out
