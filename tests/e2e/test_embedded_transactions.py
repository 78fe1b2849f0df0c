"""What the embedded AWS promises with its emulator patch, tested through the moto server as users
run it: a cancelled transaction leaves nothing written, parallel uploads of the same bytes make
one image, and a replayed notification changes nothing."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from lenslog import runtime
from lenslog.domain.models import ObjectRef
from lenslog.local import emulator
from lenslog.local.worker import Worker
from tests.images import jpeg

pytestmark = pytest.mark.xdist_group("embedded-aws")
META = {"camera-id": "cam-01", "captured-at": "2026-11-18T10:00:00Z"}


@pytest.fixture
def stack(embedded_stack):
    Worker(embedded_stack).drain()  # the s3:TestEvent of each notification configuration
    return embedded_stack


def _scan(stack, cell="eu"):
    ddb = stack.client("dynamodb", cell)
    items, kwargs = [], {"TableName": stack.cells[cell].table}
    while True:
        resp = ddb.scan(**kwargs)
        items += resp["Items"]
        if "LastEvaluatedKey" not in resp:
            return sorted(json.dumps(i, sort_keys=True) for i in items)
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def _counters(stack, cell="eu"):
    """(dimension, value) -> count, the counter shards summed."""
    out: dict[tuple[str, str], int] = {}
    for i in map(json.loads, _scan(stack, cell)):
        if i["PK"]["S"].startswith("AGG#") and "count" in i:
            key = (i["dimension"]["S"], i["value"]["S"])
            out[key] = out.get(key, 0) + int(i["count"]["N"])
    return out


def test_the_embedded_aws_runs_with_the_emulator_patch(stack):
    assert emulator.installed()


def test_a_cancelled_transaction_on_the_server_leaves_nothing_written(stack):
    ddb = stack.client("dynamodb", "eu")
    table = stack.cells["eu"].table
    for i in range(30):
        ddb.put_item(
            TableName=table, Item={"PK": {"S": f"T#{i % 3}"}, "SK": {"S": f"{i:02d}"}, "n": {"N": "1"}}
        )
    before = _scan(stack)
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"PK": {"S": "T#new"}, "SK": {"S": "0"}}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"PK": {"S": "T#1"}, "SK": {"S": "01"}},
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {"Delete": {"TableName": table, "Key": {"PK": {"S": "T#2"}, "SK": {"S": "02"}}}},
                {
                    "Put": {
                        "TableName": table,
                        "Item": {"PK": {"S": "T#0"}, "SK": {"S": "00"}},
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )
    assert err.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert _scan(stack) == before


def test_parallel_uploads_of_the_same_bytes_make_one_image_on_the_server(stack):
    eu = stack.cells["eu"]
    s3 = stack.client("s3", "eu")
    body = jpeg(901)
    refs = []
    for i in range(8):
        put = s3.put_object(Bucket=eu.landing_bucket, Key=f"race/{i}.jpg", Body=body, Metadata=META)
        refs.append(ObjectRef(bucket=eu.landing_bucket, key=f"race/{i}.jpg", version_id=put["VersionId"]))
    ingest = runtime.ingest_service(stack.settings("eu"))
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(ingest.handle, refs))
    assert all(o is not None for o in outcomes)
    Worker(stack).drain()  # the uploads' own notifications: replays that change nothing
    items = [json.loads(i) for i in _scan(stack)]
    assert sum(i["PK"]["S"].startswith("IMG#") for i in items) == 1
    statuses = sorted(i["status"]["S"] for i in items if i["PK"]["S"].startswith("OBJ#") and "status" in i)
    assert statuses == ["accepted"] + ["duplicate"] * 7
    assert _counters(stack)[("images", "all")] == 1
    assert len(s3.list_objects_v2(Bucket=eu.curated_bucket).get("Contents", [])) == 1


def test_a_replayed_notification_on_the_server_changes_no_item(stack):
    eu = stack.cells["eu"]
    s3, sqs = stack.client("s3", "eu"), stack.client("sqs", "eu")
    s3.put_object(Bucket=eu.landing_bucket, Key="replay/a.jpg", Body=jpeg(902), Metadata=META)
    msgs = sqs.receive_message(QueueUrl=stack.queue_urls["eu"], MaxNumberOfMessages=10, VisibilityTimeout=0)
    body = msgs["Messages"][0]["Body"]
    Worker(stack).drain()
    once = _scan(stack)
    for _ in range(3):
        sqs.send_message(QueueUrl=stack.queue_urls["eu"], MessageBody=body)
    Worker(stack).drain()
    assert _scan(stack) == once
    assert _counters(stack)[("images", "all")] == 1
