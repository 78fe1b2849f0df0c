"""Property-based fuzzing of the gate and of the S3 event parser: whatever the input, a value or
a refusal, never an exception (an exception fails the SQS record, which is retried to the DLQ)."""

from __future__ import annotations

import json
from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lenslog.config import load_config
from lenslog.domain import gate
from lenslog.domain.events import MalformedEvent, objects_in_message
from lenslog.domain.models import ObjectRef, Status
from tests.images import encode, scene

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
META = {"camera-id": "cam-01", "captured-at": "2026-11-18T10:00:00Z"}


@cache
def _config():
    config = load_config()  # small minimum size: mutated images reach decode, EXIF and hashing
    return config.model_copy(
        update={"defaults": config.defaults.model_copy(update={"min_width": 8, "min_height": 8})}
    )


@cache
def _seeds() -> tuple[bytes, ...]:
    img = scene(501, (96, 80))
    return (
        encode(img, "JPEG", quality=80),
        encode(
            img,
            "JPEG",
            progressive=True,
            exif=b"Exif\0\0II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x06\0\0\0\0\0\0\0",
        ),
        encode(img, "PNG"),
        encode(img.convert("P"), "PNG"),
        encode(img.convert("LA"), "PNG"),
        encode(img, "BMP"),
        encode(img.convert("P"), "BMP"),
        encode(img.convert("1"), "BMP"),
    )


def _never_raises(data: bytes) -> None:
    result = gate.inspect(gate.GateInput(key="fuzz.jpg", data=data, s3_metadata=META), _config())
    status = gate.verdict(result.refusals)
    assert status is Status.accepted or result.refusals
    if status is Status.accepted:
        assert result.hashes and result.hashes.phash and result.quality is not None


@FUZZ
@given(st.binary(max_size=4096))
def test_the_gate_decides_arbitrary_bytes_without_raising(data):
    _never_raises(data)


@FUZZ
@given(
    seed=st.integers(0, 7),
    flips=st.lists(st.tuples(st.integers(0, 20_000), st.integers(0, 255)), max_size=10),
    cut=st.one_of(st.none(), st.integers(0, 30_000)),
    header_bias=st.booleans(),
)
def test_the_gate_decides_mutated_real_jpeg_png_and_bmp_without_raising(seed, flips, cut, header_bias):
    data = bytearray(_seeds()[seed])
    for pos, value in flips:
        span = 128 if header_bias else len(data)  # headers hold the sizes, offsets and tables
        data[pos % min(span, len(data))] = value
    if cut is not None:
        data = data[: cut % (len(data) + 1)]
    _never_raises(bytes(data))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
ANY = JSON | st.text(max_size=30)


def _parses_or_refuses(body) -> None:
    try:
        refs = objects_in_message(body)
    except MalformedEvent:
        return
    assert all(isinstance(r, ObjectRef) and r.bucket and r.key for r in refs)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=200), JSON.map(json.dumps), JSON))
def test_any_message_body_is_parsed_or_refused_as_malformed(body):
    _parses_or_refuses(body)


@settings(max_examples=300, deadline=None)
@given(
    event=st.sampled_from(
        ["ObjectCreated:Put", "ObjectCreated:CompleteMultipartUpload", "ObjectRemoved:Delete"]
    )
    | ANY,
    s3=st.fixed_dictionaries(
        {
            "bucket": st.fixed_dictionaries({"name": ANY}) | ANY,
            "object": st.fixed_dictionaries(
                {
                    "key": st.text(max_size=30) | ANY,
                    "size": st.integers(-1, 10**12) | ANY,
                    "eTag": ANY,
                    "versionId": ANY,
                }
            )
            | ANY,
        }
    )
    | ANY,
    region=ANY,
)
def test_s3_records_with_any_field_values_are_parsed_or_refused_as_malformed(event, s3, region):
    _parses_or_refuses(json.dumps({"Records": [{"eventName": event, "s3": s3, "awsRegion": region}]}))
