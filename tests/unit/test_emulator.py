"""The embedded AWS's one run-time patch of moto (lenslog.local.emulator), and what it relies on in
moto: a moto upgrade that changes one of these fails here, not silently in a user's run."""

from __future__ import annotations

import copy
import inspect
import json
import os
import re

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from lenslog.local import emulator, plain, spill

REGION = "eu-central-1"
# an item of every plain kind: strings, a number, a string set, a list of a map and a boolean
ITEM = {
    "PK": {"S": "p"},
    "SK": {"S": "s"},
    "n": {"N": "1.5"},
    "ss": {"SS": ["x", "y"]},
    "l": {"L": [{"M": {"x": {"N": "2"}, "nul": {"NULL": True}}}, {"BOOL": False}]},
}


@pytest.fixture
def patched():
    was = emulator.installed()
    emulator.install()
    yield
    if not was:
        emulator.uninstall()


@pytest.fixture
def unpatched():
    was = emulator.installed()
    emulator.uninstall()
    yield
    if was:
        emulator.install()


def _table(ddb, name="t", range_key=True):
    schema = [{"AttributeName": "PK", "KeyType": "HASH"}]
    attrs = [{"AttributeName": "PK", "AttributeType": "S"}]
    if range_key:
        schema.append({"AttributeName": "SK", "KeyType": "RANGE"})
        attrs.append({"AttributeName": "SK", "AttributeType": "S"})
    ddb.create_table(
        TableName=name, KeySchema=schema, AttributeDefinitions=attrs, BillingMode="PAY_PER_REQUEST"
    )
    return name


def _backend_table(name="t"):
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends["123456789012"][REGION].tables[name]


def _items(ddb, name="t"):
    return sorted(str(sorted(i.items())) for i in ddb.scan(TableName=name)["Items"])


def _seed(ddb, name="t", n=50):
    for i in range(n):
        ddb.put_item(
            TableName=name, Item={"PK": {"S": f"p{i % 7}"}, "SK": {"S": f"s{i:03d}"}, "n": {"N": str(i)}}
        )


def _pages_moto_then_patched(ddb, table, queries, monkeypatch, spied):
    """Every page of each query, from moto alone and then with the patch, and the size of each
    list the patch's ``spied`` function (``_partition`` or ``_indexed``) handed moto."""

    def pages(q):
        out, kwargs = [], dict(q)
        while True:
            resp = ddb.query(TableName=table, **kwargs)
            out.append((resp["Items"], resp.get("LastEvaluatedKey")))
            if "LastEvaluatedKey" not in resp:
                return out
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    plain = [pages(q) for q in queries]
    emulator.install()
    try:
        sizes = []
        real = getattr(emulator, spied)

        def spy(*args):
            result = real(*args)
            sizes.append(len(result))
            return result

        monkeypatch.setattr(emulator, spied, spy)
        return plain, [pages(q) for q in queries], sizes
    finally:
        emulator.uninstall()


def _cancelled_transaction(ddb, name="t"):
    """Put a new item, update and delete existing ones, then a condition that fails."""
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": {"PK": {"S": "new"}, "SK": {"S": "x"}}}},
                {
                    "Update": {
                        "TableName": name,
                        "Key": {"PK": {"S": "p1"}, "SK": {"S": "s001"}},
                        "UpdateExpression": "SET n = :v ADD c :one",
                        "ExpressionAttributeValues": {":v": {"N": "-1"}, ":one": {"N": "1"}},
                    }
                },
                {"Delete": {"TableName": name, "Key": {"PK": {"S": "p2"}, "SK": {"S": "s002"}}}},
                {
                    "ConditionCheck": {
                        "TableName": name,
                        "Key": {"PK": {"S": "p3"}, "SK": {"S": "s003"}},
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )
    return err.value


@mock_aws
def test_moto_snapshots_a_transaction_by_deep_copying_the_whole_table_through_its_copy_module(
    unpatched, monkeypatch
):
    """What the patch removes: without it, moto deep-copies the table once per action."""
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    ddb = boto3.client("dynamodb", region_name=REGION)
    _seed(ddb, _table(ddb))
    copied = []
    real = models.copy.deepcopy

    def spy(value, memo=None):
        if isinstance(value, Table):
            copied.append(value)
        return real(value, memo)

    monkeypatch.setattr(models.copy, "deepcopy", spy)
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "t", "Item": {"PK": {"S": "a"}, "SK": {"S": "1"}}}},
            {"Put": {"TableName": "t", "Item": {"PK": {"S": "b"}, "SK": {"S": "1"}}}},
        ]
    )
    assert len(copied) == 2


@mock_aws
def test_patched_transactions_copy_no_table_and_keep_the_live_table_in_place(patched, monkeypatch):
    from moto.dynamodb.models.table import Table

    ddb = boto3.client("dynamodb", region_name=REGION)
    _seed(ddb, _table(ddb))
    live = _backend_table()
    copied = []
    real = copy.deepcopy

    def spy(value, memo=None):
        if isinstance(value, Table):
            copied.append(value)
        return real(value, memo)

    monkeypatch.setattr(emulator.copy, "deepcopy", spy)
    _cancelled_transaction(ddb)
    assert copied == []
    assert _backend_table() is live  # moto's rollback put back the same (live) table


@mock_aws
@pytest.mark.parametrize("range_key", [True, False])
def test_a_cancelled_transaction_leaves_nothing_written_with_the_patch_as_without(range_key):
    outcomes = []
    for install in (False, True):
        (emulator.install if install else emulator.uninstall)()
        ddb = boto3.client("dynamodb", region_name=REGION)
        name = f"t{install}{range_key}"
        _table(ddb, name, range_key=range_key)
        if range_key:
            _seed(ddb, name)
        else:
            for k in ("p1", "p2", "p3"):
                ddb.put_item(TableName=name, Item={"PK": {"S": k}, "n": {"N": "1"}})
        before = _items(ddb, name)
        with pytest.raises(ClientError) as err:
            keys = (
                [
                    {"PK": {"S": k}, "SK": {"S": s}}
                    for k, s in (("p1", "s001"), ("p2", "s002"), ("p3", "s003"))
                ]
                if range_key
                else [{"PK": {"S": k}} for k in ("p1", "p2", "p3")]
            )
            new = {"PK": {"S": "new"}, **({"SK": {"S": "x"}} if range_key else {})}
            ddb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": name, "Item": new}},
                    {
                        "Update": {
                            "TableName": name,
                            "Key": {"PK": {"S": "p"}, "SK": {"S": "s"}},
                            "UpdateExpression": "SET n = :v",
                            "ExpressionAttributeValues": {":v": {"N": "-1"}},
                        }
                    },
                    {"Delete": {"TableName": name, "Key": keys[1]}},
                    {
                        "ConditionCheck": {
                            "TableName": name,
                            "Key": keys[2],
                            "ConditionExpression": "attribute_not_exists(PK)",
                        }
                    },
                ]
            )
        assert _items(ddb, name) == before
        reasons = [r["Code"] for r in err.value.response["CancellationReasons"]]
        outcomes.append((err.value.response["Error"]["Code"], reasons))
    emulator.uninstall()
    assert (
        outcomes[0]
        == outcomes[1]
        == (
            "TransactionCanceledException",
            ["None", "None", "None", "ConditionalCheckFailed"],
        )
    )


@mock_aws
def test_a_transaction_refused_for_naming_one_item_twice_writes_nothing(patched):
    ddb = boto3.client("dynamodb", region_name=REGION)
    _seed(ddb, _table(ddb))
    before = _items(ddb)
    key = {"PK": {"S": "p1"}, "SK": {"S": "s001"}}
    with pytest.raises(ClientError):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {"PK": {"S": "z"}, "SK": {"S": "z"}}}},
                {"Delete": {"TableName": "t", "Key": key}},
                {
                    "Update": {
                        "TableName": "t",
                        "Key": key,
                        "UpdateExpression": "SET n = :v",
                        "ExpressionAttributeValues": {":v": {"N": "0"}},
                    }
                },
            ]
        )
    assert _items(ddb) == before


@mock_aws
def test_a_successful_transaction_writes_every_action(patched):
    ddb = boto3.client("dynamodb", region_name=REGION)
    _seed(ddb, _table(ddb))
    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "t", "Item": {"PK": {"S": "new"}, "SK": {"S": "x"}}}},
            {"Delete": {"TableName": "t", "Key": {"PK": {"S": "p2"}, "SK": {"S": "s002"}}}},
            {
                "Update": {
                    "TableName": "t",
                    "Key": {"PK": {"S": "p1"}, "SK": {"S": "s001"}},
                    "UpdateExpression": "ADD n :one",
                    "ConditionExpression": "n = :n",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":n": {"N": "1"}},
                }
            },
        ]
    )
    get = lambda pk, sk: ddb.get_item(TableName="t", Key={"PK": {"S": pk}, "SK": {"S": sk}}).get("Item")  # noqa: E731
    assert get("new", "x") is not None and get("p2", "s002") is None
    assert get("p1", "s001")["n"] == {"N": "2"}


@mock_aws
def test_a_table_query_answers_the_same_from_its_partition(monkeypatch):
    """The query patch hands moto's own query code the partition instead of the whole table."""
    emulator.uninstall()
    ddb = boto3.client("dynamodb", region_name=REGION)
    _seed(ddb, _table(ddb), n=200)
    queries = [
        {"KeyConditionExpression": "PK = :p", "ExpressionAttributeValues": {":p": {"S": "p3"}}},
        {
            "KeyConditionExpression": "PK = :p AND begins_with(SK, :s)",
            "ExpressionAttributeValues": {":p": {"S": "p4"}, ":s": {"S": "s1"}},
            "ScanIndexForward": False,
        },
        {"KeyConditionExpression": "PK = :p", "ExpressionAttributeValues": {":p": {"S": "p5"}}, "Limit": 4},
        {"KeyConditionExpression": "PK = :p", "ExpressionAttributeValues": {":p": {"S": "none"}}},
        {
            "KeyConditionExpression": "PK = :p AND SK > :s",
            "ExpressionAttributeValues": {":p": {"S": "p1"}, ":s": {"S": "s100"}, ":n": {"N": "150"}},
            "FilterExpression": "n < :n",
        },
    ]

    plain, patched, partitions = _pages_moto_then_patched(ddb, "t", queries, monkeypatch, "_partition")
    assert patched == plain
    assert partitions and max(partitions) < 200  # the partition, never the whole table


def test_moto_makes_object_buffers_with_tempfile_and_uses_only_the_calls_the_spill_buffer_has():
    from moto.s3 import models as s3_models

    source = inspect.getsource(s3_models)
    assert "tempfile.SpooledTemporaryFile(" in source
    calls = set(re.findall(r"_value_buffer\.(\w+)", source))
    assert calls and calls <= {"seek", "read", "write", "truncate", "close", "tell"}, calls


@mock_aws
def test_conditional_writes_race_to_one_winner_because_dynamodb_requests_are_serialised(patched):
    from concurrent.futures import ThreadPoolExecutor

    from moto.dynamodb.responses import DynamoHandler

    assert "call_action" in DynamoHandler.__dict__  # moto's entry point the patch wraps
    ddb = boto3.client("dynamodb", region_name=REGION)
    _table(ddb)

    def claim(i):
        try:
            ddb.put_item(
                TableName="t",
                Item={"PK": {"S": "img"}, "SK": {"S": "1"}, "by": {"N": str(i)}},
                ConditionExpression="attribute_not_exists(PK)",
            )
            return True
        except ClientError:
            return False

    with ThreadPoolExecutor(max_workers=16) as pool:
        won = list(pool.map(claim, range(32)))
    assert sum(won) == 1


@mock_aws
def test_s3_objects_beyond_the_spill_size_live_on_disk_and_read_back_byte_for_byte(patched):
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="spill-test")
    s3.put_bucket_versioning(Bucket="spill-test", VersioningConfiguration={"Status": "Enabled"})
    big = os.urandom(spill.SPILL_BYTES * 3 + 17)
    small = b"{}" * 10
    s3.put_object(Bucket="spill-test", Key="big", Body=big)
    s3.put_object(Bucket="spill-test", Key="small", Body=small)
    s3.copy_object(Bucket="spill-test", Key="copy", CopySource={"Bucket": "spill-test", "Key": "big"})
    spool = emulator._installed["spool"]
    assert len(os.listdir(spool)) >= 2  # big and its copy, each in its own file
    assert s3.get_object(Bucket="spill-test", Key="big")["Body"].read() == big
    assert s3.get_object(Bucket="spill-test", Key="copy")["Body"].read() == big
    assert s3.get_object(Bucket="spill-test", Key="small")["Body"].read() == small
    assert s3.get_object(Bucket="spill-test", Key="big", Range="bytes=10-19")["Body"].read() == big[10:20]
    head = s3.head_object(Bucket="spill-test", Key="big")
    assert head["ContentLength"] == len(big)
    import hashlib

    assert head["ETag"].strip('"') == hashlib.md5(big).hexdigest()  # S3's ETag


def test_the_spill_buffer_behaves_like_a_file(tmp_path):
    buf = spill.SpillingBuffer(str(tmp_path), max_size=8)
    buf.write(b"hello")
    assert list(tmp_path.iterdir()) == []  # still in memory
    buf.write(b" world, spilled")
    assert len(list(tmp_path.iterdir())) == 1
    buf.seek(0)
    assert buf.read(5) == b"hello" and buf.read() == b" world, spilled"
    buf.seek(0)
    buf.truncate()
    buf.write(b"new")
    buf.seek(0)
    assert buf.read() == b"new"
    buf.close()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError):
        buf.read()


def test_the_server_matches_a_host_to_a_backend_by_moto_s_module_list_which_the_patch_lists_once(
    patched,
):
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    source = inspect.getsource(DomainDispatcherApplication.get_backend_for_host)
    assert "backends.list_of_moto_modules()" in source
    listed = backends.list_of_moto_modules()
    assert "dynamodb" in listed and "s3" in listed and "sqs" in listed
    assert list(listed) == list(emulator._installed["modules"]())
    assert backends.list_of_moto_modules() is listed  # made once


@pytest.mark.parametrize("patch", [True, False])
def test_sqs_drops_a_message_past_its_retention_with_the_patch_as_without(patch, monkeypatch):
    if patch:
        emulator.install()
    else:
        emulator.uninstall()
    try:
        with mock_aws():
            sqs = boto3.client("sqs", region_name=REGION)
            url = sqs.create_queue(QueueName="q", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
            fresh = sqs.create_queue(QueueName="f", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody="old")
            sqs.send_message(QueueUrl=fresh, MessageBody="new")
            from moto.sqs.models import sqs_backends

            queue = sqs_backends["123456789012"][REGION].queues["q"]
            assert int(queue.message_retention_period) == 60
            queue._messages[0].sent_timestamp -= 120_000  # sent two minutes ago
            assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
            got = sqs.receive_message(QueueUrl=fresh, MaxNumberOfMessages=10)["Messages"]
            assert [m["Body"] for m in got] == ["new"]
    finally:
        emulator.install()


def test_dynamodb_data_plane_answers_are_the_json_moto_s_serializer_writes(patched, monkeypatch):
    """Every data-plane answer the patch writes with json.dumps is compared with what moto's own
    serializer writes for the same result (binary, sets, nested lists and maps, NULL, pages)."""
    import json as _json

    from moto.dynamodb.responses import DynamoResult

    fast = DynamoResult.execute_result
    original = emulator._installed["execute_result"]
    compared: list[str] = []

    def both(self, context):
        out = fast(self, context)
        reference = original(self, context)
        assert out[0] == reference[0] and out[1] == reference[1]
        assert _json.loads(out[2]) == _json.loads(reference[2]), context.operation_model.name
        compared.append(context.operation_model.name)
        return out

    monkeypatch.setattr(DynamoResult, "execute_result", both)
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        _table(ddb)
        item = {**ITEM, "b": {"B": b"\x00\xff"}, "bs": {"BS": [b"a", b"b"]}, "ns": {"NS": ["1", "2"]}}
        ddb.put_item(TableName="t", Item=item, ReturnValues="ALL_OLD")
        for i in range(5):
            ddb.put_item(TableName="t", Item={"PK": {"S": "p"}, "SK": {"S": f"k{i}"}})
        assert ddb.get_item(TableName="t", Key={"PK": {"S": "p"}, "SK": {"S": "s"}})["Item"] == item
        assert "Item" not in ddb.get_item(TableName="t", Key={"PK": {"S": "no"}, "SK": {"S": "s"}})
        page = ddb.query(
            TableName="t",
            KeyConditionExpression="PK = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
            Limit=2,
            ReturnConsumedCapacity="TOTAL",
        )
        assert page["Count"] == 2 and "LastEvaluatedKey" in page
        ddb.scan(TableName="t", Limit=3)
        ddb.batch_get_item(RequestItems={"t": {"Keys": [{"PK": {"S": "p"}, "SK": {"S": "s"}}]}})
        ddb.update_item(
            TableName="t",
            Key={"PK": {"S": "p"}, "SK": {"S": "k0"}},
            UpdateExpression="ADD c :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="ALL_NEW",
        )
        ddb.delete_item(TableName="t", Key={"PK": {"S": "p"}, "SK": {"S": "k1"}}, ReturnValues="ALL_OLD")
        ddb.transact_get_items(
            TransactItems=[{"Get": {"TableName": "t", "Key": {"PK": {"S": "p"}, "SK": {"S": "s"}}}}]
        )
    assert set(compared) >= {
        "GetItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "TransactGetItems",
    }


def test_a_result_with_a_timestamp_is_left_to_moto_s_serializer():
    from datetime import UTC, datetime

    assert plain.plain_body({"Table": {"CreationDateTime": datetime.now(UTC)}}) is None
    assert plain.plain_body({"Item": {"b": {"B": b"\x01"}}, "X": None}) == '{"Item": {"b": {"B": "AQ=="}}}'


UPDATES = [  # (expression, names, values): the plain form, and forms the patch must leave to moto
    (
        "ADD #c :d SET kind = :k, dimension = :dim, #v = :v",
        {"#c": "count", "#v": "value"},
        {":d": {"N": "1"}, ":k": {"S": "aggregate"}, ":dim": {"S": "camera"}, ":v": {"S": "cam-1"}},
    ),
    ("SET a = :a ADD n :n", None, {":a": {"L": [{"S": "x"}]}, ":n": {"N": "-2.5"}}),
    ("add n :n", None, {":n": {"N": "3"}}),
    ("SET n = n + :n", None, {":n": {"N": "1"}}),  # arithmetic: moto
    ("SET #x.y = :v", {"#x": "m"}, {":v": {"S": "v"}}),  # a path: moto
    ("SET size = :v", None, {":v": {"S": "v"}}),  # a reserved word: moto's error
    ("ADD t :n", None, {":n": {"N": "1"}}),  # ADD to a string: moto's error
    ("SET a = :a, a = :b", None, {":a": {"S": "1"}, ":b": {"S": "2"}}),  # twice: moto's error
    ("SET PK = :a", None, {":a": {"S": "1"}}),  # a key attribute: moto's error
    ("ADD s :s", None, {":s": {"SS": []}}),  # an empty set: moto's error
]
CONDITIONED = [  # the index's band updates, under each condition form
    (
        "ADD e :e, n :one SET kind = :k",
        None,
        {":e": {"SS": ["x", "y"]}, ":one": {"N": "1"}, ":k": {"S": "near_band"}},
    ),
    ("ADD e :e", None, {":e": {"SS": ["y"]}}),
    ("ADD ns :n", None, {":n": {"NS": ["1", "2"]}}),
    ("ADD t :e", None, {":e": {"SS": ["y"]}}),  # a set added to a string: moto's error
]
CONDITIONS = ["attribute_not_exists(PK)", "attribute_exists(PK)", "n = :n", "#n = :n", "n = :m", "n > :n"]


def _cases():
    for expression, names, values in UPDATES:
        yield expression, names, values, None
    for expression, names, values in CONDITIONED:
        for condition in CONDITIONS:
            cond_values = dict(values, **{":n": {"N": "10"}}) if ":n" in condition else values
            cond_values = dict(cond_values, **{":m": {"N": "11"}}) if ":m" in condition else cond_values
            cond_names = {"#n": "n"} if "#n" in condition else names
            yield expression, cond_names, cond_values, condition


def _run_updates(ddb, in_transaction):
    out = []
    for i, (expression, names, values, condition) in enumerate(_cases()):
        for pk in ("p-new", "p-old"):
            update = {
                "TableName": "t",
                "Key": {"PK": {"S": f"{pk}{i}"}, "SK": {"S": "s"}},
                "UpdateExpression": expression,
                "ExpressionAttributeValues": values,
            }
            if names is not None:
                update["ExpressionAttributeNames"] = names
            if condition is not None:
                update["ConditionExpression"] = condition
            try:
                if in_transaction:
                    ddb.transact_write_items(TransactItems=[{"Update": update}])
                else:
                    ddb.update_item(**update)
                out.append("ok")
            except ClientError as exc:
                out.append(exc.response["Error"]["Code"] + exc.response["Error"]["Message"])
    return out, _items(ddb)


@pytest.mark.parametrize("in_transaction", [False, True])
def test_plain_updates_end_in_the_items_and_errors_moto_gives(in_transaction):
    results = []
    for patch in (True, False):
        if patch:
            emulator.install()
        else:
            emulator.uninstall()
        try:
            with mock_aws():
                ddb = boto3.client("dynamodb", region_name=REGION)
                _table(ddb)
                for i in range(len(list(_cases()))):
                    ddb.put_item(
                        TableName="t",
                        Item={
                            "PK": {"S": f"p-old{i}"},
                            "SK": {"S": "s"},
                            "n": {"N": "10"},
                            "t": {"S": "x"},
                            "count": {"N": "41"},
                            "kind": {"S": "old"},
                            "e": {"SS": ["x"]},
                        },
                    )
                results.append(_run_updates(ddb, in_transaction))
        finally:
            emulator.install()
    assert results[0] == results[1]
    assert results[0][0][:6] == ["ok"] * 6 and results[0][0].count("ok") < len(results[0][0])


def test_the_plain_form_is_recognised_and_nothing_else():
    reserved = {"SIZE"}
    plan = plain.plain_update(UPDATES[0][0], UPDATES[0][1], UPDATES[0][2], reserved)
    assert [(op, name) for op, name, _ in plan] == [
        ("ADD", "count"),
        ("SET", "kind"),
        ("SET", "dimension"),
        ("SET", "value"),
    ]
    assert plain.plain_condition("n = :n", None, {":n": {"N": "1"}}, reserved) == (
        "equals",
        "n",
        {"N": "1"},
    )
    assert plain.plain_condition("size(n) > :n", None, {":n": {"N": "1"}}, reserved) is None
    assert plain.plain_condition("attribute_exists(size)", None, None, reserved) is None
    for expression, names, values in [*UPDATES[3:6], ("SET #missing = :v", {}, {":v": {"S": "v"}})]:
        assert plain.plain_update(expression, names, values, reserved) is None, expression


def test_sqs_send_reads_one_queue_attribute_and_counts_and_fifo_dedupe_stay_exact(patched):
    from moto.sqs.models import SQSBackend

    assert SQSBackend.send_message is not emulator._installed["send"]
    source = inspect.getsource(emulator._installed["send"])
    assert source.count("queue.attributes") == 1
    assert 'queue.attributes.get("ContentBasedDeduplication")' in source
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        for i in range(5):
            sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert counts["ApproximateNumberOfMessages"] == "5"
        assert "ContentBasedDeduplication" not in counts  # a FIFO attribute
        fifo = sqs.create_queue(
            QueueName="q.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
        )["QueueUrl"]
        for _ in range(2):  # the same body twice: deduplicated by its content
            sqs.send_message(QueueUrl=fifo, MessageBody="same", MessageGroupId="g")
        attrs = sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["ApproximateNumberOfMessages"])
        assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "1"


def _post_upload(body: bytes, key: str | None = None):
    """A presigned POST of ``body`` under mock_aws: moto's response, and what was stored."""
    import requests

    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="landing", CreateBucketConfiguration={"LocationConstraint": REGION})
    post = s3.generate_presigned_post(
        Bucket="landing",
        Key="uploads/cam-01/${filename}",
        Fields={"x-amz-meta-camera-id": "cam-01"},
        Conditions=[["content-length-range", 1, 100], {"x-amz-meta-camera-id": "cam-01"}],
        ExpiresIn=60,
    )
    fields = {**post["fields"], "key": key or "uploads/cam-01/a.jpg"}
    response = requests.post(post["url"], data=fields, files={"file": ("a.jpg", body)}, timeout=10)
    stored = [o["Key"] for o in s3.list_objects_v2(Bucket="landing").get("Contents", [])]
    return response, stored


def test_moto_alone_stores_a_post_upload_its_policy_refuses(unpatched):
    with mock_aws():
        response, stored = _post_upload(b"x" * 101)
    assert response.status_code == 204 and stored == ["uploads/cam-01/a.jpg"]  # the gap the patch fills


def test_with_the_patch_s3_post_uploads_are_held_to_their_policy(patched):
    with mock_aws():
        response, stored = _post_upload(b"x" * 101)
        assert response.status_code == 400 and "<Code>EntityTooLarge</Code>" in response.text
        assert stored == []
    with mock_aws():
        response, stored = _post_upload(b"x" * 10, key="elsewhere/a.jpg")
        assert response.status_code == 403 and "<Code>AccessDenied</Code>" in response.text
        assert stored == []
    with mock_aws():
        response, stored = _post_upload(b"x" * 100)
        assert response.status_code == 204 and stored == ["uploads/cam-01/a.jpg"]


def test_dynamodb_requests_read_with_json_are_what_moto_s_parser_reads(patched, monkeypatch):
    """Every request the patch reads with json.loads is also read by moto's model-driven parser and
    compared; a request with a binary value goes to the parser (which base64-decodes it)."""
    from moto.dynamodb.responses import DynamoHandler

    original = emulator._installed["parse"]
    compared: list[str] = []
    parsed_by_moto: list[str] = []

    def both(self, request):
        action = self._get_action()
        fast = plain.plain_params(request.data) if action in plain.PLAIN_REQUESTS else None
        original(self, request)
        if fast is None:
            parsed_by_moto.append(action)
        else:
            assert fast == self.params, action
            compared.append(action)

    monkeypatch.setattr(DynamoHandler, "parse_parameters", both)
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        _table(ddb)
        item = dict(ITEM)
        ddb.put_item(TableName="t", Item=item, ConditionExpression="attribute_not_exists(PK)")
        ddb.put_item(TableName="t", Item={"PK": {"S": "p"}, "SK": {"S": "bin"}, "b": {"B": b"\x00\xff"}})
        keys = [{"PK": {"S": "p"}, "SK": {"S": f"k{i}"}} for i in range(100)]
        ddb.batch_get_item(RequestItems={"t": {"Keys": keys, "ConsistentRead": True}})
        ddb.get_item(
            TableName="t", Key=keys[0], ProjectionExpression="#a", ExpressionAttributeNames={"#a": "n"}
        )
        ddb.query(
            TableName="t",
            KeyConditionExpression="PK = :p",
            ExpressionAttributeValues={":p": {"S": "p"}},
            Limit=2,
            ScanIndexForward=False,
            ReturnConsumedCapacity="TOTAL",
        )
        ddb.update_item(
            TableName="t",
            Key=keys[0],
            UpdateExpression="ADD c :one SET kind = :k",
            ExpressionAttributeValues={":one": {"N": "1"}, ":k": {"S": "x"}},
        )
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": {**keys[1], "v": {"N": "7"}}}},
                {
                    "Update": {
                        "TableName": "t",
                        "Key": keys[0],
                        "UpdateExpression": "ADD c :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": "t",
                        "Key": {"PK": {"S": "p"}, "SK": {"S": "s"}},
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
            ]
        )
        ddb.batch_write_item(RequestItems={"t": [{"DeleteRequest": {"Key": keys[1]}}]})
        with pytest.raises(ClientError) as twice:  # moto's own answer to a key asked twice
            ddb.batch_get_item(RequestItems={"t": {"Keys": [keys[0], dict(keys[0])]}})
        assert "duplicates" in str(twice.value)
    assert set(compared) >= {
        "PutItem",
        "BatchGetItem",
        "GetItem",
        "Query",
        "UpdateItem",
        "TransactWriteItems",
        "BatchWriteItem",
    }
    assert "PutItem" in parsed_by_moto  # the item with a binary value


def test_a_batch_get_of_one_hundred_keys_is_checked_for_duplicates_by_equality():
    a, b = {"PK": {"S": "p"}, "SK": {"S": "1"}}, {"SK": {"S": "1"}, "PK": {"S": "p"}}
    assert plain.has_duplicates([a, b])  # the same key, members in another order
    assert not plain.has_duplicates([{"PK": {"S": str(i)}} for i in range(100)])
    assert plain.has_duplicates(["x", "y", "x"])  # BatchWriteItem passes JSON strings
    assert plain.plain_params(b'{"Key": {"b": {"B": "AP8="}}}') is None
    assert plain.plain_params(b"[1]") is None and plain.plain_params(b"") is None


def test_s3_event_records_carry_the_version_and_a_sequencer_that_increases_for_one_key(patched):
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        s3.create_bucket(Bucket="seq-bucket", CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_notification_configuration(
            Bucket="seq-bucket",
            NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]
            },
        )
        s3.put_bucket_versioning(Bucket="seq-bucket", VersioningConfiguration={"Status": "Enabled"})
        versions = [
            s3.put_object(Bucket="seq-bucket", Key="k.json", Body=body)["VersionId"]
            for body in (b"one", b"two", b"three")
        ]
        records = []
        while msgs := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for m in msgs:
                records += json.loads(m["Body"]).get("Records", [])  # the s3:TestEvent has none
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    sequencers = [r["s3"]["object"]["sequencer"] for r in records]
    assert len(sequencers) == 3 and sequencers == sorted(sequencers) and len(set(sequencers)) == 3
    assert [r["s3"]["object"]["versionId"] for r in records] == versions


def test_transactions_validated_with_remembered_update_trees_answer_as_moto_does(patched, monkeypatch):
    """The handler's validation with a remembered tree gives moto's answers, the same text asked
    twice included: a name the expression uses and does not define, one defined and not used."""
    from moto.dynamodb import models as dynamo_models
    from moto.dynamodb import responses as dynamo_responses

    original = emulator._installed["update_parser"]
    assert dynamo_responses.UpdateExpressionParser is not original
    assert dynamo_models.UpdateExpressionParser is original  # the backend parses with its own

    def update(expression, names=None):
        body = {"TableName": "t", "Key": {"PK": {"S": "p"}, "SK": {"S": "s"}}, "UpdateExpression": expression,
                "ExpressionAttributeValues": {":v": {"N": "1"}}}  # fmt: skip
        if names is not None:
            body["ExpressionAttributeNames"] = names
        return {"Update": body}

    def run():
        answers = []
        with mock_aws():
            ddb = boto3.client("dynamodb", region_name=REGION)
            _table(ddb)
            for _ in range(2):
                for expression, names in (
                    ("ADD #c :v", {"#c": "c"}),
                    ("ADD #d :v", None),
                    ("ADD c :v", {"#c": "c"}),
                ):
                    try:
                        ddb.transact_write_items(TransactItems=[update(expression, names)])
                        answers.append("ok")
                    except ClientError as exc:
                        answers.append(
                            exc.response["Error"]["Code"] + ": " + exc.response["Error"]["Message"]
                        )
            answers.append(ddb.get_item(TableName="t", Key={"PK": {"S": "p"}, "SK": {"S": "s"}})["Item"])
        return answers

    remembered = run()
    monkeypatch.setattr(dynamo_responses, "UpdateExpressionParser", original)
    assert remembered == run()
    assert remembered.count("ok") == 2 and remembered[-1]["c"] == {"N": "2"}


def test_string_sets_are_converted_and_sized_as_moto_does_member_by_member(patched):
    """The conversion of a result and the size of a value are compared with moto's own functions
    on every kind of value; a near-duplicate index item read through the server is the same."""
    from moto.dynamodb.models import utilities
    from moto.dynamodb.models.dynamo_type import DynamoType

    original_dict, original_size = emulator._installed["dynamo_to_dict"], emulator._installed["size"]
    values = [
        {"SS": ["a", "é" * 3, ""]},
        {"NS": ["1", "2.5"]},
        {"BS": [b"\x00", b"\xff\xfe"]},
        {"S": "x"},
        {"S": "ü"},
        {"N": "-1.5e3"},
        {"BOOL": True},
        {"L": [{"S": "a"}, {"N": "1"}, {"M": {"k": {"SS": ["z"]}}}]},
        {"M": {"a": {"SS": ["p", "q"]}, "b": {"BOOL": True}, "c": {"NULL": True}}},
    ]
    for raw in values:
        typed = DynamoType(raw)
        assert DynamoType.size(typed) == original_size(typed), raw
        assert utilities.dynamo_to_dict(typed) == original_dict(typed), raw
    mixed = ["a", DynamoType({"S": "b"})]  # a plain list goes to moto
    assert utilities.dynamo_to_dict(mixed) == original_dict(mixed)
    entries = [f"{i:016x}|{'f' * 64}|||cam|{i}||c95|{'a' * 64}" for i in range(300)]
    item = {"PK": {"S": "NEAR#0#1"}, "SK": {"S": "BAND"}, "e": {"SS": entries}, "n": {"N": "300"}}
    keys = [{"PK": {"S": "NEAR#0#1"}, "SK": {"S": "BAND"}}, {"PK": {"S": "NEAR#0#2"}, "SK": {"S": "BAND"}}]
    answers = []
    for install in (True, False):
        (emulator.install if install else emulator.uninstall)()
        with mock_aws():
            ddb = boto3.client("dynamodb", region_name=REGION)
            _table(ddb)
            ddb.put_item(TableName="t", Item=item)
            answers.append(ddb.batch_get_item(RequestItems={"t": {"Keys": keys}})["Responses"])
    emulator.install()
    assert answers[0] == answers[1] and sorted(answers[0]["t"][0]["e"]["SS"]) == sorted(entries)


def test_batch_gets_answer_as_moto_does_and_hand_moto_what_they_do_not_cover(patched, monkeypatch):
    """Every BatchGetItem is answered by the patch and by moto's own handler on the same state
    and compared: hits and misses over two tables (one without a range key), binary values, a
    projection, and moto's errors (a missing table, a key without its range, a key asked twice,
    101 keys)."""
    from moto.dynamodb.responses import DynamoHandler

    original = emulator._installed["batch_get_item"]
    answered_by_patch: list[bool] = []

    def both(self):
        ours = emulator._plain_batch_get(self)
        answered_by_patch.append(ours is not None)
        try:
            theirs = original(self)
        except Exception as error:
            assert ours is None, "the patch answered where moto refuses"
            raise error
        if ours is not None:
            assert json.loads(plain.plain_body(ours.result)) == json.loads(plain.plain_body(theirs.result))
        return theirs

    monkeypatch.setattr(DynamoHandler, "batch_get_item", both)
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        _table(ddb)
        _table(ddb, "h", range_key=False)
        ddb.put_item(TableName="t", Item=ITEM)
        ddb.put_item(TableName="t", Item={"PK": {"S": "p"}, "SK": {"S": "bin"}, "b": {"B": b"\x00\xff"}})
        ddb.put_item(TableName="h", Item={"PK": {"S": "only"}, "v": {"NS": ["1", "2"]}})
        t_keys = [{"PK": {"S": "p"}, "SK": {"S": s}} for s in ("s", "bin", "absent")]
        answer = ddb.batch_get_item(
            RequestItems={
                "t": {"Keys": t_keys, "ConsistentRead": True},
                "h": {"Keys": [{"PK": {"S": "only"}}, {"PK": {"S": "none"}}]},
            }
        )
        assert sorted(i["SK"]["S"] for i in answer["Responses"]["t"]) == ["bin", "s"]
        assert answer["Responses"]["t"][0]["n"] == {"N": "1.5"} or answer["Responses"]["t"][1]["n"] == {
            "N": "1.5"
        }
        assert answer["Responses"]["h"] == [{"PK": {"S": "only"}, "v": {"NS": ["1", "2"]}}]
        projected = ddb.batch_get_item(
            RequestItems={
                "t": {
                    "Keys": t_keys[:1],
                    "ProjectionExpression": "#n",
                    "ExpressionAttributeNames": {"#n": "n"},
                }
            }
        )
        assert projected["Responses"]["t"] == [{"n": {"N": "1.5"}}]
        for bad in (
            {"missing": {"Keys": t_keys[:1]}},
            {"t": {"Keys": [{"PK": {"S": "p"}}]}},
            {"t": {"Keys": [t_keys[0], dict(t_keys[0])]}},
            {"t": {"Keys": [{"PK": {"S": "p"}, "SK": {"S": str(i)}} for i in range(101)]}},
        ):
            with pytest.raises(ClientError):
                ddb.batch_get_item(RequestItems=bad)
    assert answered_by_patch[:2] == [True, False]  # keys alone: the patch; a projection: moto
    assert not any(answered_by_patch[2:])


@mock_aws
def test_an_index_query_answers_the_same_from_the_items_of_its_hash_key(monkeypatch):
    """An index query hands moto's own query code only the items whose index hash key matches
    (a string compared as text, a number as moto compares it), in moto's order."""
    emulator.uninstall()
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(
        TableName="gt",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": n, "AttributeType": t}
            for n, t in (("PK", "S"), ("SK", "S"), ("G", "S"), ("R", "N"), ("GN", "N"))
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by-string",
                "KeySchema": [
                    {"AttributeName": "G", "KeyType": "HASH"},
                    {"AttributeName": "R", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "by-number",
                "KeySchema": [{"AttributeName": "GN", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            },
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for i in range(240):
        item = {"PK": {"S": f"p{i % 7}"}, "SK": {"S": f"s{i}"}, "R": {"N": str(i % 5)}, "v": {"N": str(i)}}
        if i % 4:  # a sparse index: a quarter of the items are not in it
            item["G"] = {"S": f"g{i % 3}"}
            item["GN"] = {"N": f"{i % 2}.0" if i % 8 == 1 else str(i % 2)}  # 1.0 and 1 are one number
        ddb.put_item(TableName="gt", Item=item)
    queries = [
        {
            "IndexName": "by-string",
            "KeyConditionExpression": "G = :g",
            "ExpressionAttributeValues": {":g": {"S": "g1"}},
        },
        {
            "IndexName": "by-string",
            "KeyConditionExpression": "G = :g AND R BETWEEN :a AND :b",
            "ExpressionAttributeValues": {":g": {"S": "g2"}, ":a": {"N": "1"}, ":b": {"N": "3"}},
            "ScanIndexForward": False,
            "Limit": 7,
        },
        {
            "IndexName": "by-string",
            "KeyConditionExpression": "G = :g",
            "FilterExpression": "v > :v",
            "ExpressionAttributeValues": {":g": {"S": "g0"}, ":v": {"N": "100"}},
            "Limit": 9,
        },
        {
            "IndexName": "by-string",
            "KeyConditionExpression": "G = :g",
            "ExpressionAttributeValues": {":g": {"S": "none"}},
        },
        {
            "IndexName": "by-number",
            "KeyConditionExpression": "GN = :n",
            "ExpressionAttributeValues": {":n": {"N": "1"}},
        },
    ]

    plain, patched, sizes = _pages_moto_then_patched(ddb, "gt", queries, monkeypatch, "_indexed")
    assert patched == plain
    assert any(page[0] for q in plain for page in q)  # the queries found items
    assert sizes and max(sizes) < 240  # the index key's items, never the whole table


def _commit_updates(ddb, name, times, start=0):
    for i in range(start, start + times):
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": name,
                        "Key": {"PK": {"S": "band"}, "SK": {"S": "BAND"}},
                        "UpdateExpression": "ADD e :e, n :one",
                        "ExpressionAttributeValues": {":e": {"SS": [f"entry-{i}"]}, ":one": {"N": "1"}},
                    }
                },
                {"Put": {"TableName": name, "Item": {"PK": {"S": f"img{i}"}, "SK": {"S": "IMAGE"}}}},
            ]
        )


def _lookups_of_missing_keys(ddb, name, n):
    keys = [{"PK": {"S": f"NEAR#{i}"}, "SK": {"S": "BAND"}} for i in range(n)]
    for start in range(0, n, 100):
        ddb.batch_get_item(RequestItems={name: {"Keys": keys[start : start + 100], "ConsistentRead": True}})
        ddb.get_item(TableName=name, Key=keys[start])


@pytest.mark.parametrize("patch", [False, True])
def test_items_that_are_gone_and_keys_that_hold_nothing_are_not_kept(patch):
    """moto keeps every Item it made (replaced ones, the undo log's copies) and adds an empty
    partition for every missing key read; with the patch, memory holds the live items only."""
    import gc

    from moto.dynamodb.models.dynamo_type import Item

    was = emulator.installed()
    emulator.install() if patch else emulator.uninstall()
    try:
        with mock_aws():
            ddb = boto3.client("dynamodb", region_name=REGION)
            name = _table(ddb)
            _commit_updates(ddb, name, 1)
            table = _backend_table(name)
            tracked = len(Item.instances_tracked)
            gc.collect()
            before = sum(type(o) is Item for o in gc.get_objects())
            _commit_updates(ddb, name, 60, start=1)
            partitions = len(table.items)
            _lookups_of_missing_keys(ddb, name, 300)
            gc.collect()
            live = sum(len(p) for p in table.items.values())
            assert live == 61 + 1  # 61 image items and the band item
            band = ddb.get_item(TableName=name, Key={"PK": {"S": "band"}, "SK": {"S": "BAND"}})["Item"]
            assert band["n"] == {"N": "61"} and len(band["e"]["SS"]) == 61
            kept = sum(type(o) is Item for o in gc.get_objects()) - before
            if patch:
                assert len(table.items) == partitions  # the missing keys added nothing
                assert len(Item.instances_tracked) == tracked  # nothing listed
                assert kept <= 60  # the 60 new image items: the replaced and copied ones are freed
            else:
                assert len(table.items) == partitions + 300
                assert len(Item.instances_tracked) - tracked >= kept > 2 * 60  # moto keeps them all
    finally:
        emulator.install() if was else emulator.uninstall()
