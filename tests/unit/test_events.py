import json

import pytest

from lenslog.domain.events import MalformedEvent, objects_in_message


def s3_record(key: str, *, event: str = "ObjectCreated:Put", version: str | None = "v1") -> dict:
    obj = {"key": key, "size": 1234, "eTag": "abc123", "sequencer": "0055AED6DCD90281E5"}
    if version:
        obj["versionId"] = version
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "eu-central-1",
        "eventTime": "2026-11-20T10:00:00.000Z",
        "eventName": event,
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": "landing"}, "object": obj},
    }


def test_keys_are_url_decoded_with_plus_as_space_and_utf8():
    body = json.dumps({"Records": [s3_record("cam-01/2026-11-20/Z%C3%BCrich+Yard%2Fa.jpg")]})
    [ref] = objects_in_message(body)
    assert ref.key == "cam-01/2026-11-20/Zürich Yard/a.jpg"
    assert (ref.bucket, ref.version_id, ref.etag, ref.size) == ("landing", "v1", "abc123", 1234)


def test_the_s3_test_event_names_no_object():
    body = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "landing"})
    assert objects_in_message(body) == []


def test_only_object_created_events_name_objects():
    body = json.dumps({"Records": [s3_record("a.jpg", event="ObjectRemoved:Delete"), s3_record("b.jpg")]})
    assert [r.key for r in objects_in_message(body)] == ["b.jpg"]


def test_an_event_names_the_version_or_else_the_etag_the_decision_is_keyed_on():
    [a] = objects_in_message(json.dumps({"Records": [s3_record("a.jpg")]}))
    [b] = objects_in_message(json.dumps({"Records": [s3_record("a.jpg", version=None)]}))
    assert (a.bucket, a.key, a.version_id) == ("landing", "a.jpg", "v1")
    assert (b.version_id, b.etag) == (None, "abc123")


def test_sidecars_are_recognised_by_suffix():
    [ref] = objects_in_message(json.dumps({"Records": [s3_record("a.jpg.json")]}))
    assert ref.is_sidecar


@pytest.mark.parametrize("body", ["not json", "[1,2]", json.dumps({"foo": 1})])
def test_malformed_messages_raise_a_clear_error(body):
    with pytest.raises(MalformedEvent):
        objects_in_message(body)
