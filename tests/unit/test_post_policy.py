"""S3's POST policy rules as the embedded AWS applies them (lenslog.local.post_policy), on policies
that botocore's own ``generate_presigned_post`` writes."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from lenslog.local.post_policy import check

BUCKET = "lenslog-eu-landing"
PREFIX = "uploads/depot-live/cam-01/2026-11-20/"
BOUND = {"Content-Type": "image/jpeg", "x-amz-meta-camera-id": "cam-01", "x-amz-meta-source-id": "depot-live"}


@pytest.fixture(scope="module")
def ticket() -> dict[str, str]:
    s3 = boto3.client(
        "s3", region_name="eu-central-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret"
    )
    post = s3.generate_presigned_post(
        Bucket=BUCKET,
        Key=PREFIX + "${filename}",
        Fields=dict(BOUND),
        Conditions=[["content-length-range", 1, 1000], *({k: v} for k, v in BOUND.items())],
        ExpiresIn=900,
    )
    return {**post["fields"], "key": PREFIX + "dock-0001.jpg"}


def test_a_form_within_its_policy_is_taken(ticket):
    assert check(ticket, 1000, BUCKET) is None
    assert check({**ticket, "key": PREFIX + "other.jpg"}, 1, BUCKET) is None  # any key under the prefix


def test_a_body_over_the_range_is_entity_too_large_and_an_empty_one_too_small(ticket):
    refusal = check(ticket, 1001, BUCKET)
    assert refusal is not None and (refusal.status, refusal.code) == (400, "EntityTooLarge")
    assert "<MaxSizeAllowed>1000</MaxSizeAllowed>" in refusal.xml()
    refusal = check(ticket, 0, BUCKET)
    assert refusal is not None and refusal.code == "EntityTooSmall"


def test_a_key_outside_the_prefix_fails_its_condition(ticket):
    for key in ("uploads/depot-live/cam-02/2026-11-20/a.jpg", "a.jpg", "uploads/depot-live/"):
        refusal = check({**ticket, "key": key}, 10, BUCKET)
        assert refusal is not None and (refusal.status, refusal.code) == (403, "AccessDenied"), key
        assert '["starts-with", "$key", "uploads/depot-live/cam-01/2026-11-20/"]' in refusal.message


def test_a_changed_missing_or_unnamed_field_is_refused(ticket):
    changed = check({**ticket, "x-amz-meta-camera-id": "cam-02"}, 10, BUCKET)
    assert changed is not None and "x-amz-meta-camera-id" in changed.message
    missing = check({k: v for k, v in ticket.items() if k != "Content-Type"}, 10, BUCKET)
    assert missing is not None and missing.code == "AccessDenied"
    extra = check({**ticket, "x-amz-meta-data-region": "us"}, 10, BUCKET)
    assert extra is not None and extra.message.endswith("Extra input fields: x-amz-meta-data-region")
    assert check({**ticket, "x-ignore-note": "fine"}, 10, BUCKET) is None
    assert check(ticket, 10, "lenslog-us-landing") is not None  # the policy names its bucket


def test_an_expired_policy_is_refused(ticket):
    later = datetime.now(UTC) + timedelta(seconds=901)
    refusal = check(ticket, 10, BUCKET, now=later)
    assert refusal is not None and refusal.message.endswith("Policy expired.")


def test_field_names_match_without_case_and_values_exactly(ticket):
    assert (
        check({k.upper() if k.startswith("x-amz-meta") else k: v for k, v in ticket.items()}, 10, BUCKET)
        is None
    )
    assert check({**ticket, "Content-Type": "IMAGE/JPEG"}, 10, BUCKET) is not None


@pytest.mark.parametrize(
    "policy",
    [
        "not base64!",
        base64.b64encode(b"[1, 2]").decode(),
        base64.b64encode(json.dumps({"expiration": "soon", "conditions": []}).encode()).decode(),
        base64.b64encode(
            json.dumps({"expiration": "2099-01-01T00:00:00Z", "conditions": [["nope"]]}).encode()
        ).decode(),
        "A" * 40_000,
    ],
)
def test_a_malformed_policy_is_an_invalid_policy_document(ticket, policy):
    refusal = check({**ticket, "policy": policy}, 10, BUCKET)
    assert refusal is not None and (refusal.status, refusal.code) == (400, "InvalidPolicyDocument")


def test_a_form_without_a_policy_is_left_to_moto():
    assert check({"key": "a.jpg"}, 10, BUCKET) is None
