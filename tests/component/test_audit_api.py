"""The audit-api function under moto: real records made by the real ingest pipeline, every route
asked through API Gateway REST proxy events."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from lenslog import runtime
from lenslog.adapters.reports import ReportStore
from lenslog.domain.models import Decision, Status
from lenslog.local.worker import LambdaContext, load_function
from lenslog.settings import Settings
from tests.component.api_events import CALLER, rest_event
from tests.images import camera_jpeg, jpeg

CAM1 = {"camera-id": "cam-01", "captured-at": "2026-11-18T08:15:00Z", "classes": "pallet"}
CAM1_LATER = {"camera-id": "cam-01", "captured-at": "2026-11-18T21:40:00Z"}
CAM2 = {"camera-id": "cam-02", "captured-at": "2026-11-19T10:30:00Z"}


def today() -> str:
    return datetime.now(UTC).date().isoformat()


class Api:
    """Calls the real handler with proxy events; answers (status, json body)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.handler = load_function("audit_api").handler

    def call(self, method: str, path: str, query=None, body=None, user_arn: str | None = CALLER):
        result = self.handler(rest_event(method, path, query, body, user_arn), LambdaContext())
        text = result["body"]
        return result["statusCode"], (json.loads(text) if text else None)

    def get(self, path: str, **query: str):
        return self.call("GET", path, {k.rstrip("_"): str(v) for k, v in query.items()} or None)


@pytest.fixture
def api_env(stack, monkeypatch):
    def use(settings: Settings) -> Api:
        for k, v in settings.to_env().items():
            monkeypatch.setenv(k, v)
        runtime.audit_service.cache_clear()
        return Api(settings)

    yield use
    runtime.audit_service.cache_clear()


@pytest.fixture
def api(api_env, stack) -> Api:
    return api_env(stack.settings("eu"))


@pytest.fixture
def corpus(eu) -> dict[str, Any]:
    """Four uploads to the eu cell: two cam-01 images (one with a class), one cam-02 image, an
    exact duplicate of the first, and a truncated JPEG."""
    first = jpeg(1, (640, 480))
    puts = {
        "a": eu.put("depot/a.jpg", first, CAM1),
        "b": eu.put("depot/b.jpg", jpeg(2, (640, 480)), CAM1_LATER),
        "c": eu.put("hamburg/c.jpg", jpeg(3, (640, 480)), CAM2),
    }
    eu.drain()
    puts["dup"] = eu.put("depot/again/a.jpg", first, CAM1)
    trunc = jpeg(4, (640, 480))
    puts["bad"] = eu.put("depot/bad.jpg", trunc[: len(trunc) // 2], CAM1)
    eu.drain()
    decisions = {k: eu.decision(key, puts[k]) for k, key in [
        ("a", "depot/a.jpg"), ("b", "depot/b.jpg"), ("c", "hamburg/c.jpg"),
        ("dup", "depot/again/a.jpg"), ("bad", "depot/bad.jpg"),
    ]}  # fmt: skip
    assert [decisions[k]["status"] for k in ("a", "b", "c", "dup", "bad")] == [
        "accepted", "accepted", "accepted", "duplicate", "rejected",
    ]  # fmt: skip
    return decisions


# images ----------------------------------------------------------------------------------------------
def test_an_image_answers_with_metadata_provenance_hashes_storage_and_every_sighting(api, corpus):
    a = corpus["a"]
    status, body = api.get(f"/images/{a['image_id']}")
    assert status == 200
    assert body["recorded"] is True and body["status"] == "accepted"
    assert body["metadata"]["camera_id"] == "cam-01"
    assert body["metadata"]["provenance"]["camera_id"] == "s3_metadata"
    assert body["metadata"]["provenance"]["site"] == "registry"
    assert body["hashes"]["sha256"] == a["image_id"] and body["hashes"]["phash"]
    assert body["stored"] == a["stored"] and body["split"] == a["split"]
    assert body["cluster"] == {"cluster_id": a["image_id"], "root": a["image_id"], "size": 1}
    sightings = {(s["key"], s["status"], s["original"]) for s in body["sightings"]}
    assert sightings == {("depot/a.jpg", "accepted", True), ("depot/again/a.jpg", "duplicate", False)}
    assert {d["status"] for d in body["decisions"]} == {"accepted", "duplicate"}
    assert body["download_url"] is None


def test_presign_true_adds_a_download_url_that_returns_the_curated_bytes(api, corpus, eu):
    a = corpus["a"]
    status, body = api.get(f"/images/{a['image_id']}", presign="true")
    assert status == 200 and body["download_expires_in"] > 0
    got = requests.get(body["download_url"], timeout=10)
    expected = eu.s3.get_object(Bucket=a["stored"]["bucket"], Key=a["stored"]["key"])["Body"].read()
    assert got.status_code == 200 and got.content == expected


def test_an_image_known_only_from_a_refused_upload_is_answered_from_its_decision(api, corpus):
    bad = corpus["bad"]
    status, body = api.get(f"/images/{bad['image_id']}")
    assert status == 200
    assert body["recorded"] is False and body["status"] == "rejected"
    assert body["decisions"][0]["reasons"] == ["truncated_image"]
    assert body["stored"]["bucket"].endswith("-quarantine")


def test_an_unknown_image_is_404_and_a_malformed_id_is_422_naming_it(api, corpus):
    status, body = api.get("/images/" + "0" * 64)
    assert status == 404 and body["error"] == "not_found"
    status, body = api.get("/images/not-a-sha256")
    assert status == 422 and body["fields"][0]["field"] == "image_id"


def test_images_by_camera_come_in_capture_order_within_the_time_range(api, corpus):
    status, body = api.get("/images", camera_id="cam-01")
    assert status == 200
    assert [i["image_id"] for i in body["items"]] == [corpus["a"]["image_id"], corpus["b"]["image_id"]]
    assert body["next_cursor"] is None
    _, body = api.get("/images", camera_id="cam-01", from_="2026-11-18T12:00:00Z", to="2026-11-18")
    assert [i["image_id"] for i in body["items"]] == [corpus["b"]["image_id"]]
    _, body = api.get("/images", camera_id="cam-01", to="2026-11-18T08:15:00Z")
    assert [i["image_id"] for i in body["items"]] == [corpus["a"]["image_id"]]  # an instant is inclusive


def test_images_filter_by_class_source_type_split_and_status(api, corpus):
    _, body = api.get("/images", class_="pallet")
    assert [i["image_id"] for i in body["items"]] == [corpus["a"]["image_id"]]
    _, body = api.get("/images", source_type="production_live", status="accepted")
    assert len(body["items"]) == 3
    _, body = api.get("/images", source_type="public")
    assert body["items"] == []
    split = corpus["c"]["split"]
    _, body = api.get("/images", camera_id="cam-02", split=split)
    assert [i["image_id"] for i in body["items"]] == [corpus["c"]["image_id"]]


def test_a_cursor_round_trip_returns_every_image_once(api, corpus):
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": "1"} | ({"cursor": cursor} if cursor else {})
        status, body = api.call("GET", "/images", query)
        assert status == 200 and len(body["items"]) <= 1
        seen += [i["image_id"] for i in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(corpus[k]["image_id"] for k in ("a", "b", "c"))
    assert pages >= 3


def test_a_tampered_or_foreign_cursor_is_422_naming_the_cursor(api, corpus):
    _, body = api.get("/images", camera_id="cam-01", limit="1")
    cursor = body["next_cursor"]
    assert cursor
    for bad in (cursor[:-3] + "xyz", "bm90LWEtY3Vyc29y", cursor + "AAAA"):
        status, body = api.get("/images", camera_id="cam-01", cursor=bad)
        assert status == 422 and body["fields"][0]["field"] == "cursor", bad
    status, body = api.get("/images", camera_id="cam-02", cursor=cursor)  # another camera's list
    assert status == 422 and body["fields"][0]["field"] == "cursor"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "approved"}, "status"),
        ({"source_type": "tv"}, "source_type"),
        ({"split": "holdout"}, "split"),
        ({"from_": "last tuesday"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"from_": "2026-11-20", "to": "2026-11-19"}, "from"),
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"camera_id": "cam 01;drop"}, "camera_id"),
    ],
)
def test_a_bad_image_filter_is_422_naming_the_field(api, query, field):
    status, body = api.get("/images", **query)
    assert status == 422, body
    assert body["error"] == "invalid_request"
    assert field in [f["field"] for f in body["fields"]]
    assert "Traceback" not in json.dumps(body) and "lenslog." not in json.dumps(body)


def test_duplicates_list_exact_sightings_and_near_members_with_distances(api, corpus, eu):
    a = corpus["a"]
    status, body = api.get(f"/images/{a['image_id']}/duplicates")
    assert status == 200 and body["near"] == []
    # a near duplicate linked to a's cluster, committed as the near-duplicate stage commits it
    doc = dict(a) | {
        "key": "depot/near.jpg",
        "status": "near_duplicate",
        "image_id": "f" * 64,
        "cluster_id": a["image_id"],
        "hashes": dict(a["hashes"], sha256="f" * 64, phash=_flip_bits(a["hashes"]["phash"], 3)),
        "version_id": "v-near",
    }
    eu.ledger.commit(decision=Decision.model_validate(doc), claim_image=True)

    status, body = api.get(f"/images/{a['image_id']}/duplicates")
    assert status == 200 and body["cluster_id"] == a["image_id"]
    assert {s["key"] for s in body["exact"]} == {"depot/a.jpg", "depot/again/a.jpg"}
    assert body["near"] == [
        {
            "image_id": "f" * 64,
            "distance": 3,
            "root": False,
            "status": "near_duplicate",
            "camera_id": "cam-01",
            "captured_at": "2026-11-18T08:15:00Z",
        }
    ]
    status, body = api.get(f"/images/{'f' * 64}/duplicates")
    assert [(n["image_id"], n["root"], n["distance"]) for n in body["near"]] == [(a["image_id"], True, 3)]
    status, body = api.get(f"/images/{'f' * 64}")
    assert body["cluster"]["size"] == 2
    assert api.get(f"/images/{'e' * 64}/duplicates")[0] == 404


def _flip_bits(hex_hash: str, n: int) -> str:
    value = int(hex_hash, 16)
    for bit in range(n):
        value ^= 1 << bit
    return f"{value:016x}"


# decisions ---------------------------------------------------------------------------------------------
def test_decisions_are_the_audit_log_newest_first_filtered_by_status_and_reason(api, corpus):
    status, body = api.get("/decisions")
    assert status == 200
    keys = [d["key"] for d in body["items"]]
    assert set(keys) == {"depot/a.jpg", "depot/b.jpg", "hamburg/c.jpg", "depot/again/a.jpg", "depot/bad.jpg"}
    stamps = [d["decided_at"] for d in body["items"]]
    assert stamps == sorted(stamps, reverse=True)
    _, body = api.get("/decisions", status="duplicate")
    assert [(d["key"], d["duplicate_of"]) for d in body["items"]] == [
        ("depot/again/a.jpg", corpus["a"]["image_id"])
    ]
    _, body = api.get("/decisions", reason="truncated_image", from_=today(), to=today())
    assert [d["key"] for d in body["items"]] == ["depot/bad.jpg"]
    assert body["items"][0]["reason_details"]
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    _, body = api.get("/decisions", from_=yesterday, to=yesterday)
    assert body["items"] == []


def test_a_refused_camera_photo_answers_with_the_camera_and_time_its_header_tells(api, eu):
    small = camera_jpeg("2026:11:18 10:30:00", offset="+01:00", size=(120, 90))
    eu.put("phone/thumb.jpg", small)  # no metadata at all: only what the file says
    eu.drain()
    _, body = api.get("/decisions", status="rejected")
    [d] = body["items"]
    assert d["reasons"] == ["too_small"]
    assert (d["camera_id"], d["make"], d["model"]) == ("exif-canon-eos-r6", "Canon", "Canon EOS R6")
    assert (d["captured_at"], d["time_rule"]) == ("2026-11-18T09:30:00Z", "exif_offset")


def test_decision_pages_chain_through_a_cursor(api, corpus):
    seen, cursor = [], None
    for _ in range(10):
        query = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        _, body = api.call("GET", "/decisions", query)
        seen += [d["key"] for d in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 5 and len(set(seen)) == 5


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"reason": "ugly"}, "reason"),
        ({"status": "maybe"}, "status"),
        ({"from_": "2020-01-01", "to": "2026-01-01"}, "to"),
        ({"cursor": "!!!"}, "cursor"),
    ],
)
def test_a_bad_decision_filter_is_422_naming_the_field(api, query, field):
    status, body = api.get("/decisions", **query)
    assert status == 422 and field in [f["field"] for f in body["fields"]]


# cameras and coverage ------------------------------------------------------------------------------------
def test_cameras_list_the_registry_of_the_cell_with_coverage_from_the_aggregates(api, corpus):
    status, body = api.get("/cameras", from_="2026-11-01", to=today())
    assert status == 200
    cams = {c["camera_id"]: c for c in body["items"]}
    assert "us-cam-01" not in cams  # registered in the us cell
    assert {"cam-01", "cam-02", "cam-03", "stage-01"} <= set(cams)
    cam1 = cams["cam-01"]
    assert cam1["registered"] and cam1["site"] == "berlin-dock" and cam1["images"] == 2
    assert cam1["days"] == ["2026-11-18"]  # local capture days (Europe/Berlin)
    assert cam1["hours"] == [9, 22] and cam1["images_by_hour"] == {"09": 1, "22": 1}
    assert cam1["decisions"] == {"accepted": 2, "duplicate": 1, "rejected": 1}
    assert cam1["last_seen"] == today()
    assert cams["cam-03"]["images"] == 0 and cams["cam-03"]["last_seen"] is None


def test_a_camera_answers_with_its_last_image_and_an_unknown_one_is_404(api, corpus):
    status, body = api.get("/cameras/cam-01", from_="2026-11-01", to=today())
    assert status == 200
    assert body["last_image_id"] == corpus["b"]["image_id"]
    assert body["last_captured_at"] == "2026-11-18T21:40:00Z"
    assert api.get("/cameras/cam-99")[0] == 404
    assert api.get("/cameras/cam-01", from_="yesterday")[0] == 422


def test_coverage_returns_the_counters_of_a_dimension_by_day(api, corpus):
    status, body = api.get("/coverage", from_="2026-11-17", to="2026-11-20", dimension="camera")
    assert status == 200
    assert body["from"] == "2026-11-17" and body["to"] == "2026-11-20"
    assert body["dimensions"] == [
        {
            "dimension": "camera",
            "values": [
                {"value": "cam-01", "total": 2, "by_day": {"2026-11-18": 2}},
                {"value": "cam-02", "total": 1, "by_day": {"2026-11-19": 1}},
            ],
        }
    ]
    _, body = api.get("/coverage", from_="2026-11-17", to=today())
    dims = {d["dimension"] for d in body["dimensions"]}
    assert {"camera", "hour", "decision", "reason", "source_type"} <= dims
    status, body = api.get("/coverage", dimension="colour")
    assert status == 422 and body["fields"][0]["field"] == "dimension"


# reports -------------------------------------------------------------------------------------------------
def test_reports_are_listed_newest_first_and_their_links_download_the_files(api, stack):
    store = ReportStore(
        stack.client("s3"), stack.reports_bucket, stack.client("dynamodb"), stack.cells["eu"].table
    )
    for end in ("2026-11-08", "2026-11-15", "2026-11-22"):
        store.put_report(
            f"weekly-{end}",
            end,
            {"report.json": json.dumps({"period_end": end}).encode(), "report.html": b"<html></html>"},
            period_start=(datetime.fromisoformat(end) - timedelta(days=6)).date(),
        )
    status, body = api.get("/reports", limit="2")
    assert status == 200
    assert [r["report_id"] for r in body["items"]] == ["weekly-2026-11-22", "weekly-2026-11-15"]
    assert body["items"][0]["files"] == ["report.html", "report.json"]
    _, rest = api.get("/reports", limit="2", cursor=body["next_cursor"])
    assert [r["report_id"] for r in rest["items"]] == ["weekly-2026-11-08"] and rest["next_cursor"] is None

    status, report = api.get("/reports/weekly-2026-11-15")
    assert status == 200 and report["period_start"] == "2026-11-09"
    got = requests.get(report["links"]["report.json"], timeout=10)
    assert got.json() == {"period_end": "2026-11-15"}
    assert api.get("/reports/weekly-1999-01-01")[0] == 404
    assert api.get("/reports", cursor="eyJwIjowfQ")[0] == 200  # a cursor at the start of the index
    assert api.get("/reports", cursor="eyJwIjozfQ")[0] == 422


# uploads -------------------------------------------------------------------------------------------------
@pytest.fixture
def uploaders_config(tmp_path, config) -> Path:
    text = (Path(__file__).resolve().parents[2] / "config" / "lenslog.toml").read_text()
    text = text.replace(
        "[sources.depot-live]\n",
        '[sources.depot-live]\nuploaders = ["arn:aws:iam::123456789012:user/partner-*"]\n',
    )
    path = tmp_path / "lenslog.toml"
    path.write_text(text)
    return path


def _policy(ticket) -> list:
    return json.loads(base64.b64decode(ticket["fields"]["policy"]))["conditions"]


def test_an_allowed_caller_gets_a_presigned_post_bounded_by_prefix_size_and_metadata(
    api_env, stack, uploaders_config
):
    api = api_env(Settings(cell="eu", config_path=str(uploaders_config)))
    status, body = api.call(
        "POST",
        "/uploads",
        body={"camera_id": "cam-01", "filename": "dock-0001.jpg", "captured_at": "2026-11-20T07:00:00+01:00"},
    )
    assert status == 201, body
    assert body["method"] == "POST"
    assert body["bucket"] == "lenslog-eu-landing" and body["region"] == "eu-central-1"
    assert body["key"] == "uploads/depot-live/cam-01/2026-11-20/dock-0001.jpg" == body["fields"]["key"]
    assert body["key_prefix"] == "uploads/depot-live/cam-01/2026-11-20/"
    assert body["max_bytes"] == 6_000_000  # the source's byte limit
    fields = body["fields"]
    assert fields["x-amz-meta-camera-id"] == "cam-01"
    assert fields["x-amz-meta-uploaded-by"] == CALLER
    assert fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256" and fields["x-amz-signature"]
    conditions = _policy(body)
    assert ["content-length-range", 1, 6_000_000] in conditions
    assert ["starts-with", "$key", "uploads/depot-live/cam-01/2026-11-20/"] in conditions
    assert {"bucket": "lenslog-eu-landing"} in conditions
    for name in ("Content-Type", "x-amz-meta-camera-id", "x-amz-meta-source-id", "x-amz-meta-captured-at"):
        assert {name: fields[name]} in conditions, name  # bound to exactly the value in the form
    assert fields["x-amz-meta-captured-at"] == "2026-11-20T07:00:00+01:00"


def test_the_byte_limit_of_the_ticket_is_the_sources_own(api_env, stack, uploaders_config):
    text = uploaders_config.read_text().replace(
        "[sources.depot-live]\n", "[sources.depot-live]\npolicy = { max_bytes = 2_000_000 }\n"
    )
    uploaders_config.write_text(text)
    api = api_env(Settings(cell="eu", config_path=str(uploaders_config)))
    status, body = api.call("POST", "/uploads", body={"camera_id": "cam-01", "filename": "a.jpg"})
    assert status == 201, body
    assert body["max_bytes"] == 2_000_000
    assert ["content-length-range", 1, 2_000_000] in _policy(body)


def test_uploads_go_to_the_landing_bucket_of_the_sources_region(api_env, stack, uploaders_config):
    text = uploaders_config.read_text().replace(
        "[sources.us-yards]\n", '[sources.us-yards]\nuploaders = ["arn:aws:iam::123456789012:user/*"]\n'
    )
    uploaders_config.write_text(text)
    api = api_env(Settings(cell="eu", config_path=str(uploaders_config)))
    status, body = api.call("POST", "/uploads", body={"camera_id": "us-cam-01", "filename": "y.png"})
    assert status == 201
    assert (body["bucket"], body["region"], body["cell"]) == ("lenslog-us-landing", "us-east-1", "us")
    assert body["fields"]["Content-Type"] == "image/png"
    assert {"Content-Type": "image/png"} in _policy(body)


def test_a_caller_not_listed_for_the_source_is_refused_with_403(api_env, stack, uploaders_config):
    api = api_env(Settings(cell="eu", config_path=str(uploaders_config)))
    other = "arn:aws:iam::123456789012:role/someone-else"
    request = {"camera_id": "cam-01", "filename": "a.jpg"}
    status, body = api.call("POST", "/uploads", body=request, user_arn=other)
    assert status == 403 and body["error"] == "forbidden"
    status, _ = api.call("POST", "/uploads", body={"camera_id": "cam-03", "filename": "a.jpg"})
    assert status == 403  # depot-archive lists no uploaders
    status, _ = api.call("POST", "/uploads", body=request, user_arn=None)
    assert status == 403  # no identity outside the local API


@pytest.mark.parametrize(
    ("request_body", "field"),
    [
        ({"camera_id": "cam-01", "filename": "../etc/passwd"}, "filename"),
        ({"camera_id": "cam-01", "filename": "a.gif"}, "filename"),
        ({"camera_id": "cam-77", "filename": "a.jpg"}, "camera_id"),
        ({"camera_id": "cam-77", "source_id": "nobody", "filename": "a.jpg"}, "source_id"),
        ({"camera_id": "cam-01", "source_id": "studio", "filename": "a.jpg"}, "source_id"),
        ({"camera_id": "cam-01", "filename": "a.jpg", "captured_at": "2026-11-20T07:00:00"}, "captured_at"),
        ({"filename": "a.jpg"}, "camera_id"),
        ("{not json", "body"),
    ],
)
def test_a_bad_upload_request_is_422_naming_the_field(api_env, stack, uploaders_config, request_body, field):
    api = api_env(Settings(cell="eu", config_path=str(uploaders_config)))
    status, body = api.call("POST", "/uploads", body=request_body)
    assert status == 422, body
    assert any(f["field"].startswith(field) for f in body["fields"]), body


# documents and errors --------------------------------------------------------------------------------------
def test_the_openapi_document_and_swagger_ui_are_served(api):
    status, doc = api.get("/openapi.json")
    assert status == 200
    routes = {"/images", "/images/{image_id}", "/images/{image_id}/duplicates", "/decisions", "/cameras"}
    routes |= {"/cameras/{camera_id}", "/coverage", "/reports", "/reports/{report_id}", "/uploads"}
    assert routes <= set(doc["paths"])
    result = load_function("audit_api").handler(rest_event("GET", "/swagger"), LambdaContext())
    assert result["statusCode"] == 200 and "swagger" in result["body"].lower()


def test_an_unknown_route_is_404_without_internals(api):
    status, body = api.get("/admin")
    assert status == 404 and body == {"error": "not_found", "message": "no such resource"}


def test_an_internal_failure_is_500_with_a_request_id_and_no_details(api, stack, monkeypatch):
    service = runtime.audit_service(api.settings)

    def boom(*a, **k):
        raise RuntimeError("secret table lenslog-eu-records unreachable")

    monkeypatch.setattr(service.reader, "image_record", boom)
    status, body = api.get("/images/" + "0" * 64)
    assert status == 500 and body["error"] == "internal_error" and body["request_id"]
    assert "secret" not in json.dumps(body) and "lenslog-eu" not in json.dumps(body)


def test_status_values_in_the_api_are_the_domain_statuses(api):
    _, doc = api.get("/openapi.json")
    params = {p["name"]: p for p in doc["paths"]["/images"]["get"]["parameters"]}
    assert "class" in params and "from" in params and "to" in params
    schema = json.dumps(params["status"]["schema"])
    assert all(s.value in schema or "$ref" in schema for s in Status)


# the query string and methods, checked once for every route --------------------------------------------
def _raw_query(api: Api, path: str, pairs: list[tuple[str, str]]):
    """Ask with a query string as a client spelled it (empty values, repeated names)."""
    event = rest_event("GET", path)
    multi: dict[str, list[str]] = {}
    for k, v in pairs:
        multi.setdefault(k, []).append(v)
    event["queryStringParameters"] = {k: v[-1] for k, v in multi.items()}
    event["multiValueQueryStringParameters"] = multi
    result = api.handler(event, LambdaContext())
    return result["statusCode"], json.loads(result["body"])


IMAGE = "/images/" + "0" * 64


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/decisions", "to"),
        ("/decisions", "from"),
        ("/decisions", "status"),
        ("/decisions", "reason"),
        ("/decisions", "limit"),
        ("/decisions", "cursor"),
        ("/images", "camera_id"),
        ("/images", "source_type"),
        ("/images", "split"),
        ("/images", "class"),
        ("/images", "cursor"),
        ("/images", "limit"),
        (IMAGE, "presign"),
        ("/cameras", "from"),
        ("/cameras/cam-01", "to"),
        ("/coverage", "dimension"),
        ("/reports", "cursor"),
        ("/reports", "limit"),
    ],
)
@pytest.mark.parametrize("value", ["", " ", "\t", "  \n "])
def test_an_empty_or_blank_query_parameter_is_422_naming_it_on_every_route(api, path, name, value):
    status, body = _raw_query(api, path, [(name, value)])
    assert status == 422, body
    assert body["error"] == "invalid_request"
    assert body["fields"] == [
        {"field": name, "in": "query", "message": "empty; leave the parameter out for its default"}
    ]


@pytest.mark.parametrize(
    ("path", "name", "values"),
    [
        ("/decisions", "to", ["2026-11-20", "2026-11-21"]),
        ("/decisions", "status", ["accepted", "accepted"]),
        ("/images", "limit", ["5", "6"]),
        ("/images", "cursor", ["eyJwIjowfQ", "eyJwIjowfQ"]),
        ("/coverage", "dimension", ["camera", ""]),
        ("/reports", "limit", ["1", "2", "3"]),
    ],
)
def test_a_repeated_query_parameter_is_422_naming_it(api, path, name, values):
    status, body = _raw_query(api, path, [(name, v) for v in values])
    assert status == 422, body
    assert [f["field"] for f in body["fields"]] == [name]
    assert "more than once" in body["fields"][0]["message"]


def test_an_undeclared_query_parameter_is_still_ignored_even_empty(api, corpus):
    status, body = _raw_query(api, "/decisions", [("utm_source", ""), ("limit", "1")])
    assert status == 200 and len(body["items"]) == 1


def test_a_method_the_path_does_not_serve_is_405_with_allow(api):
    for method, path in (("TRACE", "/cameras"), ("DELETE", IMAGE), ("PUT", "/uploads"), ("GET", "/uploads")):
        result = api.handler(rest_event(method, path), LambdaContext())
        assert result["statusCode"] == 405, (method, path, result)
        assert result["headers"]["Allow"] in ("GET", "POST")
        assert json.loads(result["body"])["error"] == "method_not_allowed"
    assert api.get("/nowhere")[0] == 404


@pytest.mark.parametrize(
    "query",
    [
        {"to": "9999-12-31"},
        {"from": "1000-01-01", "to": "1000-01-02"},
        {"to": "9999-12-31T23:30:00-05:00"},
        {"from": "1000-01-01T00:00:00+14:00", "to": "1000-01-01T12:00:00Z"},
    ],
)
def test_dates_at_the_ends_of_the_calendar_are_answered_not_500(api, query):
    for path in ("/decisions", "/images", "/coverage", "/cameras"):
        status, body = api.call("GET", path, query)
        assert status == 200, (path, body)


@pytest.mark.parametrize(
    "bound", ["2026-11-20T10:00:00+25:00", "20261120", "2026-W47-1", "2026-02-30", "0999-01-01"]
)
def test_a_time_bound_outside_the_documented_forms_is_422(api, bound):
    status, body = api.get("/decisions", to=bound)
    assert status == 422 and [f["field"] for f in body["fields"]] == ["to"], body


def test_decisions_leave_erasure_tombstones_out(api, corpus, stack):
    from lenslog.runtime import erasure_service
    from lenslog.services.erasure import ErasureRequest

    request = ErasureRequest(subject="camera", value="cam-99", requested_by="test", reason="")
    assert erasure_service(stack.settings("eu")).erase(request).verified  # writes a tombstone
    status, body = api.get("/decisions")
    assert status == 200, body
    assert len(body["items"]) == 5 and all(d["bucket"] for d in body["items"])


def test_an_upload_capture_time_off_the_calendar_is_422_and_a_number_is_not_a_time(
    api_env, stack, uploaders_config
):
    api = api_env(Settings(cell="eu", config_path=str(uploaders_config)))
    for captured in ("0001-01-01T00:00:00+01:00", 1795251600):
        request = {"camera_id": "cam-01", "filename": "a.jpg", "captured_at": captured}
        status, body = api.call("POST", "/uploads", body=request)
        assert status == 422 and body["fields"][0]["field"] == "captured_at", body


def test_the_openapi_document_states_error_shapes_constraints_and_links(api):
    _, doc = api.get("/openapi.json")
    schemas = doc["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and schemas["InvalidRequest"]["required"]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            responses = op["responses"]
            assert responses["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
                "InvalidRequest"
            )
            assert "500" in responses
            assert ("404" in responses) == ("{" in path), (path, method)
    params = {p["name"]: p["schema"] for p in doc["paths"]["/decisions"]["get"]["parameters"]}
    assert params["to"]["pattern"].startswith("^[1-9]") and params["cursor"]["minLength"] == 1
    assert all("anyOf" not in s for s in params.values())  # no "null" on the wire
    links = {
        (path, name): link["operationId"]
        for path, ops in doc["paths"].items()
        for op in ops.values()
        for code in ("200", "201")
        for name, link in op["responses"].get(code, {}).get("links", {}).items()
    }
    targets = {op["operationId"]: path for path, ops in doc["paths"].items() for op in ops.values()}
    reached = {(src, targets[op]) for (src, _), op in links.items()}
    assert {
        ("/reports", "/reports/{report_id}"),
        ("/images", "/images/{image_id}"),
        ("/images/{image_id}", "/images/{image_id}/duplicates"),
        ("/cameras", "/cameras/{camera_id}"),
        ("/decisions", "/images/{image_id}"),
    } <= reached


def test_coverage_reads_only_the_days_that_have_counters(api, corpus):
    service = runtime.audit_service(api.settings)
    calls: list[str] = []

    def hook(model, **_):
        calls.append(model.name)

    service.reader.client.meta.events.register("before-call.dynamodb", hook)
    try:
        status, body = api.get("/cameras", from_="2026-10-01", to="2026-10-28")  # before any image
        assert status == 200 and all(c["images"] == 0 for c in body["items"])
        assert calls == ["GetItem"]
        calls.clear()
        status, body = api.get("/coverage", from_="2026-11-01", to=today(), dimension="camera")
        assert status == 200 and {v["value"] for v in body["dimensions"][0]["values"]} == {"cam-01", "cam-02"}
        assert calls.count("Query") <= 3  # the capture days 18 and 19 November, today's intake
    finally:
        service.reader.client.meta.events.unregister("before-call.dynamodb", hook)
