"""What the functions log for a real upload names no camera, object key or image: the ingest
function (S3 event → SQS → handler, as Lambda delivers it), the report function and the audit API
function (a request whose query string names the camera)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

from lenslog.local.context import LambdaContext
from lenslog.local.worker import lambda_environment, load_function
from tests.component.api_events import rest_event
from tests.images import jpeg

CAMERA = "log-cam-secret"
DAY = (datetime.now(UTC) - timedelta(days=1)).date()
KEY = f"{CAMERA}/{DAY}T09-30-00.jpg"


def logged(caplog) -> str:
    """Every log record of the run, message and structured fields (Powertools' ``extra``)."""
    return "\n".join(
        json.dumps({k: str(v) for k, v in r.__dict__.items()}) + r.getMessage() for r in caplog.records
    )


def test_no_function_logs_a_camera_id_an_object_key_or_an_image_id(eu, stack, caplog):
    caplog.set_level(logging.INFO)  # the level the functions run at (infra: the Lambda factory)
    put = eu.put(KEY, jpeg(41), {"camera-id": CAMERA, "captured-at": f"{DAY}T09:30:00Z"})
    eu.drain()
    decision = eu.decision(KEY, put)
    assert decision["status"] == "accepted"
    env = stack.settings("eu").to_env()
    with lambda_environment(env):
        load_function("audit_report").handler({"period_end": DAY.isoformat()}, LambdaContext())
        api = load_function("audit_api").handler
        for event in (
            rest_event("GET", "/cameras", query={"cell": "eu"}),
            rest_event("GET", "/images", query={"cell": "eu", "camera_id": CAMERA}),
            rest_event("GET", f"/cameras/{CAMERA}", query={"cell": "eu"}),
        ):
            assert api(event, LambdaContext())["statusCode"] < 500

    text = logged(caplog)
    assert "decided" in text  # the ingest function did log its decision
    for secret in (CAMERA, KEY, decision["image_id"], decision["stored"]["key"]):
        assert secret not in text, secret
