"""Hostile files through the real pipeline (S3 -> SQS -> the ingest handler under moto): every
object is decided, and one bad file never affects another in its batch."""

from __future__ import annotations

import json

import pytest

from lenslog.local.worker import LambdaContext, lambda_environment, load_function, sqs_event
from tests.corpus import pillow_test_images
from tests.images import jpeg
from tests.reliability.hostile import crafted
from tests.reliability.support import META, reconcile

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hostile-pipeline")]

SAMPLE_EVERY = 25  # one Pillow corpus file in 25 goes through the pipeline too (~40 files)


def test_every_hostile_file_uploaded_is_decided_with_its_reason_and_nothing_is_left_over(eu):
    uploads = {f"hostile/{h.name}": (h, eu.put(f"hostile/{h.name}", h.data, META)) for h in crafted()}
    root = pillow_test_images()
    sample = sorted(p for p in root.rglob("*") if p.is_file())[::SAMPLE_EVERY] if root else []
    pillow = {f"pillow/{p.name}": eu.put(f"pillow/{p.name}", p.read_bytes(), META) for p in sample}
    eu.drain()

    assert eu.worker.failures == 0  # no record ever failed: every file is a decision, not an error
    for key, (h, put) in uploads.items():
        d = eu.decision(key, put)
        assert d is not None, key
        assert (d["status"], d["reasons"][:1]) == (h.status, [h.reason] if h.reason else []), key
    for key, put in pillow.items():
        d = eu.decision(key, put)
        assert d is not None and (d["status"] == "accepted" or d["reasons"]), key
    assert eu.landing() == []
    report = reconcile(eu.stack)
    assert report.orphans == [] and report.pending == []


def test_in_one_sqs_batch_every_good_file_is_decided_normally_whatever_the_bad_ones_do(eu, stack):
    hostile = {h.name: h for h in crafted()}
    bad = ["bomb-65500.jpg", "eps.jpg", "trunc-50.jpg", "zero-byte.jpg", "icc-bomb.png"]
    for name in bad:
        eu.put(f"batch/{name}", hostile[name].data, META)
    good = {f"batch/good-{i}.jpg": eu.put(f"batch/good-{i}.jpg", jpeg(400 + i), META) for i in range(5)}
    sqs = stack.client("sqs", "eu")
    messages = sqs.receive_message(QueueUrl=stack.queue_urls["eu"], MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 10
    garbage = {
        "MessageId": "garbage",
        "ReceiptHandle": "rh",
        "Body": json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "s3": "x"}]}),
    }
    with lambda_environment(stack.settings("eu").to_env()):
        result = load_function("ingest").handler(
            sqs_event(
                [*messages[:5], garbage, *messages[5:]],
                "arn:aws:sqs:eu-central-1:123456789012:q",
                "eu-central-1",
            ),
            LambdaContext(),
        )
    assert result == {"batchItemFailures": [{"itemIdentifier": "garbage"}]}  # only the non-event fails
    for key, put in good.items():
        assert eu.decision(key, put)["status"] == "accepted", key
    assert eu.landing() == []
