"""S3 event notifications as delivered through SQS, into the objects they name.

An SQS message body is an S3 notification: ``{"Records": [...]}``, or ``{"Event": "s3:TestEvent"}``
when the notification is first configured (skipped). Keys arrive URL-encoded with ``+`` for spaces.
Only ``ObjectCreated:*`` events name objects to ingest; a multipart upload may yield two events
for one object, which the ledger's conditional decision on bucket + key + version/etag makes
harmless.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from pydantic import ValidationError

from lenslog.domain.models import ObjectRef


class MalformedEvent(ValueError):
    """The message is not an S3 notification; it cannot succeed on retry."""


def objects_in_message(body: str | dict[str, Any]) -> list[ObjectRef]:
    try:
        payload = json.loads(body) if isinstance(body, str) else body
    except json.JSONDecodeError as exc:
        raise MalformedEvent(f"message body is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise MalformedEvent("message body is not a JSON object")
    if payload.get("Event") == "s3:TestEvent":
        return []
    records = payload.get("Records")
    if not isinstance(records, list):
        raise MalformedEvent("message has no Records list")
    refs: list[ObjectRef] = []
    for rec in records:
        if not isinstance(rec, dict) or not str(rec.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        refs.append(_object_ref(rec))
    return refs


def _object_ref(rec: dict[str, Any]) -> ObjectRef:
    """One ObjectCreated record into an ObjectRef; any other shape is a MalformedEvent, never a
    TypeError or a validation error, so that the caller can tell a bad message from a failure."""
    s3 = _dict(rec.get("s3"))
    bucket = _dict(s3.get("bucket")).get("name")
    obj = _dict(s3.get("object"))
    key = obj.get("key")
    if not isinstance(bucket, str) or not bucket or not isinstance(key, str) or not key:
        raise MalformedEvent("S3 record without bucket name or object key")
    try:
        return ObjectRef(
            bucket=bucket,
            key=unquote_plus(key),
            size=obj.get("size"),
            etag=(obj.get("eTag") or obj.get("etag") or None),
            version_id=obj.get("versionId") or None,
            region=rec.get("awsRegion"),
            event_time=rec.get("eventTime"),
            sequencer=obj.get("sequencer"),
        )
    except ValidationError as exc:
        raise MalformedEvent(f"S3 record with invalid fields: {exc.error_count()} error(s)") from exc


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
