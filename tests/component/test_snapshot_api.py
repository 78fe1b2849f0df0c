"""The snapshot routes of the audit API under moto, through API Gateway REST proxy events."""

from __future__ import annotations

import json

import pytest
import requests

from lenslog.adapters.s3 import S3ObjectStore
from lenslog.services.snapshot_api import SnapshotBody, SnapshotQueries
from tests.component.labelled import ingest_labelled_set
from tests.component.test_audit_api import Api, api_env  # noqa: F401  (api_env: a fixture)
from tests.component.test_snapshots import service


@pytest.fixture
def client(api_env, stack) -> Api:  # noqa: F811
    return api_env(stack.settings("eu"))


def test_post_snapshots_takes_one_that_get_lists_and_reads_with_links_to_its_parts(client: Api, eu):
    expected = ingest_labelled_set(eu)
    status, created = client.call(
        "POST", "/snapshots", body={"name": "train-set", "filters": {"split": ["train"]}}
    )
    assert status == 201, created
    assert created["status"] == "complete" and created["name"] == "train-set" and created["images"] == 4
    assert created["splits"] == {"train": 4} and created["content_hash"].startswith("sha256:")

    status, page = client.get("/snapshots")
    assert status == 200 and [i["snapshot_id"] for i in page["items"]] == [created["snapshot_id"]]
    status, detail = client.get(f"/snapshots/{created['snapshot_id']}")
    assert status == 200 and detail["content_hash"] == created["content_hash"]
    assert detail["counts"]["classes"]["pallet"] == {"images": 3, "instances": 3}
    lines = []
    for part in detail["parts"]:
        body = requests.get(part["url"], timeout=10).content
        lines += [json.loads(x) for x in body.decode().splitlines()]
    assert {x["image_id"] for x in lines} == {e.image_id for e in expected if e.split == "train"}


def test_snapshot_routes_name_what_is_wrong(client: Api, eu):
    status, body = client.call("POST", "/snapshots", body={"filters": {"split": ["holdout"]}})
    assert status == 422 and body["fields"][0]["field"] == "filters", body
    status, body = client.call("POST", "/snapshots", body={"filters": {"gps": ["1"]}})
    assert status == 422 and body["fields"][0]["field"].startswith("filters"), body
    status, body = client.call("POST", "/snapshots", body={"name": "no spaces here"})
    assert status == 422 and body["fields"][0]["field"] == "name", body
    status, body = client.get("/snapshots/snap-20260101T000000Z-00000000")
    assert status == 404 and body["error"] == "not_found"
    status, body = client.get("/snapshots/not-an-id")
    assert status == 422 and body["fields"][0]["field"] == "snapshot_id"
    status, body = client.get("/snapshots", cursor="eyJwIjoxfQ")
    assert status == 422 and body["fields"][0]["field"] == "cursor"


def test_a_build_that_outlives_the_request_is_answered_building_and_handed_on(eu):
    ingest_labelled_set(eu)
    handed: list[str] = []
    snaps = service(eu, part_lines=3)
    snaps.continue_build = handed.append
    queries = SnapshotQueries(snaps, eu.s3, build_seconds=0.0)

    detail = queries.create(SnapshotBody())

    assert detail.status == "building" and detail.images == 3 and detail.content_hash is None
    assert handed == [detail.snapshot_id]
    done = snaps.step(handed[0])  # what the snapshot function does, invocation after invocation
    assert done.status == "complete" and done.images == 8
    assert queries.get(detail.snapshot_id).content_hash == done.content_hash


def test_the_same_store_serves_the_cli_and_the_api(client: Api, eu):
    ingest_labelled_set(eu)
    record = service(eu).create(name="from-cli")
    status, detail = client.get(f"/snapshots/{record.snapshot_id}")
    assert status == 200 and detail["name"] == "from-cli" and detail["images"] == 8
    assert S3ObjectStore(eu.s3, eu.res.region).get(eu.res.curated_bucket, detail["parts"][0]["key"])
