"""The S3 adapter's copy: one CopyObject when the size is known (the gate always knows it), the
managed transfer otherwise; either way the copy keeps the bytes, content type and user metadata."""

from __future__ import annotations

from collections import Counter

import pytest

from lenslog import runtime
from lenslog.adapters.s3 import COPY_OBJECT_MAX_BYTES, S3ObjectStore

BODY = b"\xff\xd8\xff" + b"x" * 10_000


@pytest.fixture
def store(aws):
    s3 = runtime.client("s3", "eu-central-1")
    for bucket in ("src", "dst"):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    s3.put_bucket_versioning(Bucket="src", VersioningConfiguration={"Status": "Enabled"})
    return S3ObjectStore(s3, "eu-central-1")


def _calls(store: S3ObjectStore) -> Counter[str]:
    calls: Counter[str] = Counter()
    store.client.meta.events.register("before-call.s3", lambda model, **_: calls.update([model.name]))
    return calls


@pytest.mark.parametrize("size", [len(BODY), None], ids=["size known", "size unknown"])
def test_a_copy_keeps_bytes_content_type_and_metadata(store, size):
    version = store.client.put_object(
        Bucket="src", Key="a.jpg", Body=BODY, ContentType="image/jpeg", Metadata={"camera-id": "cam-01"}
    )["VersionId"]
    store.client.put_object(Bucket="src", Key="a.jpg", Body=b"a later upload")
    store.copy("src", "a.jpg", "dst", "images/a.jpg", version, size=size)
    copied = store.client.get_object(Bucket="dst", Key="images/a.jpg")
    assert copied["Body"].read() == BODY  # the version named, not the latest
    assert copied["ContentType"] == "image/jpeg"
    assert copied["Metadata"] == {"camera-id": "cam-01"}


def test_a_copy_of_known_size_is_one_request(store):
    store.client.put_object(Bucket="src", Key="a.jpg", Body=BODY)
    calls = _calls(store)
    store.copy("src", "a.jpg", "dst", "images/a.jpg", size=len(BODY))
    assert calls == Counter({"CopyObject": 1})


@pytest.mark.parametrize("size", [None, COPY_OBJECT_MAX_BYTES + 1], ids=["unknown", "above 5 GiB"])
def test_a_copy_of_unknown_or_oversized_size_goes_through_the_managed_transfer(store, size):
    store.client.put_object(Bucket="src", Key="a.jpg", Body=BODY)
    calls = _calls(store)
    store.copy("src", "a.jpg", "dst", "b.jpg", size=size)
    # the managed transfer asks for the size itself, then copies in one part or many
    assert calls["HeadObject"] == 1
    assert store.client.get_object(Bucket="dst", Key="b.jpg")["Body"].read() == BODY


def test_a_prefix_is_one_ranged_get_that_never_reads_past_its_limit(store):
    version = store.client.put_object(Bucket="src", Key="big.json", Body=b"{" * 200_000)["VersionId"]
    calls = _calls(store)
    ranges: list[str] = []
    store.client.meta.events.register(
        "before-call.s3.GetObject", lambda params, **_: ranges.append(params["headers"].get("Range", ""))
    )
    found = store.get_prefix("src", "big.json", 65_536)
    assert (len(found.data), found.size, found.version_id) == (65_536, 200_000, version)
    assert calls == Counter({"GetObject": 1}) and ranges == ["bytes=0-65535"]


def test_a_prefix_of_a_small_an_empty_and_a_missing_object(store):
    store.client.put_object(Bucket="src", Key="small.json", Body=b"{}")
    store.client.put_object(Bucket="src", Key="empty.json", Body=b"")
    small, empty = store.get_prefix("src", "small.json", 100), store.get_prefix("src", "empty.json", 100)
    assert (small.data, small.size) == (b"{}", 2)
    assert (empty.data, empty.size) == (b"", 0)
    assert store.get_prefix("src", "missing.json", 100) is None


@pytest.mark.parametrize("size", [len(BODY), None], ids=["size known", "size unknown"])
def test_a_copy_can_replace_metadata_and_content_type(store, size):
    store.client.put_object(
        Bucket="src", Key="a.jpg", Body=BODY, ContentType="image/jpeg", Metadata={"camera-id": "cam-01"}
    )
    marks = {"camera-id": "cam-01", "lenslog-origin": "src/a.jpg@v1"}
    store.copy("src", "a.jpg", "dst", "moved.jpg", size=size, metadata=marks, content_type="image/x-test")
    moved = store.client.head_object(Bucket="dst", Key="moved.jpg")
    assert moved["Metadata"] == marks and moved["ContentType"] == "image/x-test"
