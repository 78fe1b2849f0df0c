"""The local audit API (``lenslog local``): the embedded AWS on loopback, the ingest worker, and the
same resolver behind the HTTP adapter. A presigned upload goes all the way through the gate. (The
schemathesis run against this API, with records behind it, is ``test_audit_api_contract.py``.)"""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest
import requests

from lenslog import runtime
from lenslog.api.app import app, openapi_document
from lenslog.config import load_config
from lenslog.local.api import serve_api
from lenslog.local.aws import EmbeddedAws, provision
from lenslog.local.worker import Worker
from tests.images import jpeg

pytestmark = pytest.mark.xdist_group("embedded-aws")

DOCS_OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


@pytest.fixture(scope="module")
def local():
    saved = dict(os.environ)  # the worker exports the stack's settings (endpoint URL) as Lambda would
    runtime.client.cache_clear()
    runtime.audit_service.cache_clear()
    with EmbeddedAws() as aws:
        stack = provision(load_config(), aws.endpoint_url)
        worker = Worker(stack)
        worker.drain()
        api = serve_api(stack, port=0)
        try:
            yield stack, worker, api
        finally:
            api.shutdown()
    os.environ.clear()
    os.environ.update(saved)
    runtime.client.cache_clear()
    runtime.audit_service.cache_clear()


def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def post_form(ticket, body: bytes, **changes: str):
    """A browser-style upload: the ticket's fields (with ``changes``), then the file, last."""
    fields = {**ticket["fields"], **changes}
    name = fields["key"].rsplit("/", 1)[-1]
    return requests.post(
        ticket["url"], data=fields, files={"file": (name, body, fields["Content-Type"])}, timeout=30
    )


def _ticket(api, **request) -> dict:
    request = {
        "camera_id": "cam-02",
        "filename": "dock-8.jpg",
        "captured_at": "2026-11-18T06:40:00Z",
        **request,
    }
    status, body = http(
        "POST", api.url + "/uploads", json.dumps(request).encode(), {"Content-Type": "application/json"}
    )
    assert status == 201, body
    return json.loads(body)


def _landing(stack) -> list[str]:
    s3, bucket = stack.client("s3", "eu"), stack.cells["eu"].landing_bucket
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="uploads/").get("Contents", [])]


def test_the_embedded_s3_refuses_a_body_over_the_sources_byte_limit(local):
    stack, _, api = local
    ticket = _ticket(api, filename="too-big.jpg")
    assert ticket["max_bytes"] == 6_000_000
    response = post_form(ticket, jpeg(8, (640, 480)) + b"\0" * 6_000_000)
    assert response.status_code == 400 and "<Code>EntityTooLarge</Code>" in response.text
    assert "<MaxSizeAllowed>6000000</MaxSizeAllowed>" in response.text
    assert ticket["key"] not in _landing(stack)


def test_the_embedded_s3_refuses_a_key_outside_the_prefix_or_changed_metadata(local):
    stack, _, api = local
    ticket = _ticket(api, filename="moved.jpg")
    image = jpeg(9, (640, 480))
    for changes in (
        {"key": "uploads/depot-live/cam-01/2026-11-18/moved.jpg"},  # another camera's prefix
        {"key": "moved.jpg"},
        {"x-amz-meta-camera-id": "cam-01"},
        {"x-amz-meta-data-region": "us"},  # a field the policy does not name
    ):
        response = post_form(ticket, image, **changes)
        assert response.status_code == 403 and "<Code>AccessDenied</Code>" in response.text, changes
    assert not any(key.endswith("moved.jpg") for key in _landing(stack))
    response = post_form(ticket, image)  # the same ticket, as issued
    assert response.status_code == 204
    assert ticket["key"] in _landing(stack)


def test_the_checked_in_openapi_document_is_in_step_with_the_routes():
    assert DOCS_OPENAPI.read_text(encoding="utf-8") == openapi_document(app()), "run `make openapi`"


def test_the_local_api_listens_on_loopback_and_answers_json(local):
    _, _, api = local
    assert api.url.startswith("http://127.0.0.1:")
    status, body = http("GET", api.url + "/images?limit=5")
    assert status == 200 and json.loads(body) == {"next_cursor": None, "items": []}
    status, body = http("GET", api.url + "/openapi.json")
    assert status == 200 and json.loads(body)["info"]["title"] == "lenslog audit API"


def test_a_presigned_upload_lands_passes_the_gate_and_is_found_by_camera(local):
    _, worker, api = local
    request = {"camera_id": "cam-02", "filename": "dock-7.jpg", "captured_at": "2026-11-19T06:30:00Z"}
    status, body = http(
        "POST", api.url + "/uploads", json.dumps(request).encode(), {"Content-Type": "application/json"}
    )
    assert status == 201, body
    ticket = json.loads(body)
    assert "x-amz-meta-uploaded-by" not in ticket["fields"]  # no identity locally
    image = jpeg(7, (640, 480))
    response = post_form(ticket, image)
    assert response.status_code == 204, response.text
    worker.drain(stall=60)

    status, body = http("GET", api.url + "/images?camera_id=cam-02&from=2026-11-19&to=2026-11-19")
    items = json.loads(body)["items"]
    assert status == 200 and len(items) == 1
    status, body = http("GET", api.url + f"/images/{items[0]['image_id']}")
    detail = json.loads(body)
    assert detail["sightings"][0]["key"] == "uploads/depot-live/cam-02/2026-11-19/dock-7.jpg"
    assert detail["metadata"]["provenance"]["camera_id"] == "s3_metadata"
    assert detail["metadata"]["captured_at"] == "2026-11-19T06:30:00Z"
    assert detail["metadata"]["source_id"] == "depot-live"
