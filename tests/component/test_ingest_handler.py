"""The ingest function under moto: real S3 -> SQS notifications, the real handler, real tables."""

from __future__ import annotations

import json
import random
import threading

import pytest
from PIL import Image

from lenslog.domain.models import ObjectRef
from lenslog.runtime import ingest_service
from tests.images import camera_jpeg, encode, jpeg, scene

SIDECAR = {"camera_id": "cam-01", "captured_at": "2026-11-18T09:15:00+01:00", "classes": ["pallet"]}


def test_an_accepted_image_is_curated_by_content_id_recorded_and_gone_from_landing(eu):
    body = jpeg(1, (800, 600))
    eu.put_sidecar("depot/a.jpg", SIDECAR)
    put = eu.put("depot/a.jpg", body)
    eu.drain()

    d = eu.decision("depot/a.jpg", put)
    assert d["status"] == "accepted" and d["reasons"] == []
    assert d["image_id"] == d["hashes"]["sha256"] and len(d["hashes"]["phash"]) == 16
    assert d["stored"]["bucket"] == eu.res.curated_bucket and d["stored"]["region"] == "eu-central-1"
    assert d["image_id"] in d["stored"]["key"]
    assert d["metadata"]["camera_id"] == "cam-01"
    assert d["metadata"]["provenance"]["camera_id"] == "sidecar"
    assert d["metadata"]["captured_at"].startswith("2026-11-18T08:15:00")
    assert d["split"] in ("train", "val", "test") and d["cluster_id"] == d["image_id"]
    assert eu.curated() == [d["stored"]["key"]]
    assert eu.landing() == []  # image and sidecar both consumed
    record = eu.ledger.get_image(d["image_id"])
    assert record["status"] == "accepted"
    assert eu.s3.get_object(Bucket=eu.res.curated_bucket, Key=d["stored"]["key"])["Body"].read() == body


def test_an_oversized_sidecar_quarantines_its_image_without_being_read_whole(eu):
    huge = b'{"camera_id": "cam-01", "pad": "' + b"x" * 300_000 + b'"}'
    eu.put("depot/huge.jpg.json", huge)
    put = eu.put("depot/huge.jpg", jpeg(3, (800, 600)))
    sidecar_reads: list[str] = []  # the service's client: the stack's clients are shared

    def on_get(params: dict, **_: object) -> None:
        if params["url_path"].endswith(".json"):
            sidecar_reads.append(params["headers"].get("Range", "whole object"))

    eu.s3.meta.events.register("before-call.s3.GetObject", on_get)
    eu.drain()

    d = eu.decision("depot/huge.jpg", put)
    assert d["status"] == "quarantined" and "metadata_invalid" in d["reasons"]
    assert f"sidecar is {len(huge)} bytes > 65536" in " ".join(d["reason_details"])
    assert sidecar_reads and set(sidecar_reads) == {"bytes=0-65535"}


def test_metadata_from_s3_user_metadata_is_used_and_attributed(eu):
    put = eu.put("plain.jpg", jpeg(2), {"camera-id": "cam-02", "captured-at": "2026-11-19T22:30:00Z"})
    eu.drain()
    d = eu.decision("plain.jpg", put)
    assert d["status"] == "accepted"
    assert d["metadata"]["provenance"]["camera_id"] == "s3_metadata"
    assert d["metadata"]["site"] == "hamburg-dock"  # from the camera registry
    assert d["metadata"]["provenance"]["site"] == "registry"


def refused(eu, key: str, body: bytes, metadata=None) -> dict:
    if metadata is None:
        metadata = {"camera-id": "cam-01", "captured-at": "2026-11-18T10:00:00Z"}
    put = eu.put(key, body, metadata)
    eu.drain()
    d = eu.decision(key, put)
    assert d is not None, "every uploaded object gets a decision"
    assert d["stored"]["bucket"] == eu.res.quarantine_bucket
    assert d["stored"]["key"] in eu.quarantine()
    reason_doc = json.loads(
        eu.s3.get_object(Bucket=eu.res.quarantine_bucket, Key=d["stored"]["key"] + ".reason.json")[
            "Body"
        ].read()
    )
    assert reason_doc["reasons"] == d["reasons"]
    assert key not in eu.landing()
    return d


def test_a_truncated_jpeg_is_rejected_with_its_hash_and_metadata(eu):
    body = jpeg(3, (800, 600))
    d = refused(eu, "trunc.jpg", body[: len(body) * 6 // 10])
    assert d["status"] == "rejected" and d["reasons"] == ["truncated_image"]
    assert d["hashes"]["sha256"] and d["metadata"]["camera_id"] == "cam-01"


def test_a_zero_byte_object_is_rejected(eu):
    d = refused(eu, "empty.jpg", b"")
    assert d["reasons"][0] == "empty_object"


def test_a_gif_named_jpg_is_rejected_by_its_content(eu):
    d = refused(eu, "anim.jpg", encode(scene(4, (300, 300)), "GIF"))
    assert d["reasons"] == ["format_not_allowed"] and d["image"]["format"] == "GIF"


def test_a_small_image_is_rejected_with_its_size(eu):
    d = refused(eu, "small.png", encode(scene(5, (200, 150)), "PNG"))
    assert d["reasons"] == ["too_small"] and (d["image"]["width"], d["image"]["height"]) == (200, 150)


def test_an_oversized_object_is_rejected_without_being_decoded(eu):
    d = refused(eu, "huge.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 6_000_001)
    assert d["reasons"] == ["too_large"] and d["hashes"] is None


def test_an_image_without_camera_or_time_is_quarantined_then_accepted_when_its_sidecar_arrives(eu):
    put = eu.put("nometa/x.jpg", jpeg(6))
    eu.drain()
    first = eu.decision("nometa/x.jpg", put)
    assert first["status"] == "quarantined"
    # no camera, no time; the region is the landing cell's (no registry, metadata or GPS rule places it)
    assert first["reasons"] == ["metadata_incomplete"] and first["region_rule"] == "landing_cell"
    assert first["quality"] is not None and first["hashes"]["phash"]  # everything extracted is kept

    eu.put_sidecar("nometa/x.jpg", SIDECAR)
    eu.drain()
    final = eu.decision("nometa/x.jpg", put)
    assert final["status"] == "accepted" and final["reevaluated"] is True
    assert final["metadata"]["camera_id"] == "cam-01"
    assert eu.curated() == [final["stored"]["key"]]
    assert eu.quarantine() == [] and eu.landing() == []
    counters = eu.counters()
    assert counters[("decision", "accepted")] == 1
    assert counters.get(("decision", "quarantined"), 0) == 0  # withdrawn, not double counted
    assert counters[("images", "all")] == 1


def test_exact_duplicates_make_one_image_and_sightings(eu):
    body = jpeg(7)
    meta = {"camera-id": "cam-01", "captured-at": "2026-11-18T10:00:00Z"}
    p1 = eu.put("dup/1.jpg", body, meta)
    p2 = eu.put("dup/2.jpg", body, meta)
    eu.drain()
    d1, d2 = eu.decision("dup/1.jpg", p1), eu.decision("dup/2.jpg", p2)
    statuses = sorted([d1["status"], d2["status"]])
    assert statuses == ["accepted", "duplicate"]
    dup = d1 if d1["status"] == "duplicate" else d2
    assert dup["duplicate_of"] == d1["image_id"] == d2["image_id"]
    assert len(eu.curated()) == 1 and eu.landing() == []
    assert eu.counters()[("images", "all")] == 1


def test_concurrent_uploads_of_the_same_bytes_race_to_one_image(eu, stack, serialised_dynamodb):
    body = jpeg(8)
    meta = {"camera-id": "cam-01", "captured-at": "2026-11-18T10:00:00Z"}
    refs = []
    for i in range(8):
        put = eu.put(f"race/{i}.jpg", body, meta)
        refs.append(ObjectRef(bucket=eu.res.landing_bucket, key=f"race/{i}.jpg", version_id=put["VersionId"]))
    service = ingest_service(stack.settings("eu"))
    results: list = []
    errors: list = []

    def run(ref):
        try:
            results.append(service.handle(ref))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(r,)) for r in refs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    statuses = sorted(d.status for d in results)
    assert statuses.count("accepted") == 1 and statuses.count("duplicate") == 7
    assert len(eu.items("IMG#")) == 1


def test_a_replayed_event_changes_nothing(eu):
    eu.put_sidecar("replay.jpg", SIDECAR)
    put = eu.put("replay.jpg", jpeg(9))
    # Capture the notification before the worker consumes it, then deliver it twice more.
    sqs = eu.stack.client("sqs", "eu")
    url = eu.stack.queue_urls["eu"]
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    bodies = [m["Body"] for m in msgs]
    eu.drain()
    before = (eu.counters(), eu.curated(), len(eu.items("OBJ#")))
    for body in bodies * 2:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    eu.drain()
    assert (eu.counters(), eu.curated(), len(eu.items("OBJ#"))) == before
    assert eu.decision("replay.jpg", put)["status"] == "accepted"


def test_url_encoded_keys_with_spaces_and_non_ascii_are_found(eu):
    key = "cam-01/2026-11-18/Zürich Yard/frame 001.jpg"
    put = eu.put(key, jpeg(10), {"captured-at": "2026-11-18T10:00:00Z", "camera-id": "cam-01"})
    eu.drain()
    assert eu.decision(key, put)["status"] == "accepted"
    assert eu.landing() == []


def test_a_malformed_message_fails_alone_in_its_batch(eu, stack):
    from lenslog.local.worker import LambdaContext, lambda_environment, load_function, sqs_event

    eu.put("ok.jpg", jpeg(11), {"camera-id": "cam-01", "captured-at": "2026-11-18T10:00:00Z"})
    sqs = stack.client("sqs", "eu")
    url = stack.queue_urls["eu"]
    good = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    bad = [{"MessageId": "bad-1", "ReceiptHandle": "rh", "Body": "this is not an S3 event"}]
    with lambda_environment(stack.settings("eu").to_env()):
        result = load_function("ingest").handler(
            sqs_event(good + bad, "arn:aws:sqs:eu-central-1:123456789012:q", "eu-central-1"), LambdaContext()
        )
    assert result == {"batchItemFailures": [{"itemIdentifier": "bad-1"}]}
    assert eu.landing() == []  # the good one was decided


def test_cmyk_and_16_bit_and_palette_images_are_accepted(eu):
    meta = {"camera-id": "cam-01", "captured-at": "2026-11-18T10:00:00Z"}
    grey16 = Image.new("I;16", (300, 300))
    grey16.putdata([i % 65535 for i in range(300 * 300)])
    bodies = {
        "cmyk.jpg": encode(scene(12).convert("CMYK"), "JPEG"),
        "deep.png": encode(grey16, "PNG"),
        "pal.png": encode(scene(13).convert("P"), "PNG"),
        "alpha.png": encode(scene(14).convert("RGBA"), "PNG"),
        "pic.bmp": encode(scene(15), "BMP"),
    }
    puts = {k: eu.put(k, v, meta) for k, v in bodies.items()}
    eu.drain()
    for k, put in puts.items():
        assert eu.decision(k, put)["status"] == "accepted", k


# --- refusals keep what the header tells ----------------------------------------------------------

PHONE = {"gps": (48.137, 11.575), "gps_stamp": ("2026:11:18", (9, 30, 0))}  # Munich, UTC+1 in November


def test_a_too_small_camera_photo_is_rejected_with_its_camera_time_and_position(eu):
    body = camera_jpeg("2026:11:18 10:30:00", size=(200, 150), **PHONE)
    d = refused(eu, "phone/small.jpg", body, metadata={})
    assert d["reasons"] == ["too_small"]
    md = d["metadata"]
    assert (md["make"], md["model"], md["camera_id"]) == ("Canon", "Canon EOS R6", "exif-canon-eos-r6")
    assert (md["captured_at"], md["captured_local"]) == ("2026-11-18T09:30:00Z", "2026-11-18T10:30:00")
    assert md["time_rule"] == "gps_time" and md["timezone"] == "Europe/Berlin"
    assert (round(md["lat"], 3), round(md["lon"], 3)) == (48.137, 11.575)
    assert eu.counters()[("intake_camera", "exif-canon-eos-r6|rejected")] == 1


def test_an_oversized_camera_photo_keeps_its_header_metadata_from_one_ranged_read(eu):
    noise = Image.frombytes("RGB", (2000, 1700), random.Random(7).randbytes(2000 * 1700 * 3))
    body = camera_jpeg("2026:11:18 10:30:00", offset="+01:00", pixels=noise, quality=100)
    assert len(body) > 6_000_000
    d = refused(eu, "phone/huge.jpg", body, metadata={"camera-id": "cam-02"})
    assert d["reasons"] == ["too_large"] and d["hashes"] is None  # never downloaded whole
    md = d["metadata"]
    assert (md["camera_id"], md["make"], md["captured_at"]) == ("cam-02", "Hikvision", "2026-11-18T09:30:00Z")
    assert md["provenance"]["make"] == "registry" and md["time_rule"] == "exif_offset"


def test_a_truncated_camera_photo_keeps_its_exif(eu):
    body = camera_jpeg("2026:11:18 10:30:00", offset="+01:00", pixels=scene(3, (800, 600)))
    d = refused(eu, "phone/cut.jpg", body[: len(body) * 6 // 10], metadata={})
    assert d["reasons"] == ["truncated_image"]
    assert (d["metadata"]["model"], d["metadata"]["captured_at"]) == ("Canon EOS R6", "2026-11-18T09:30:00Z")


def test_only_the_index_client_skips_client_side_validation(stack):
    """The index builds its keys from integers; the ledger's requests keep botocore's check. (A
    malformed key then reaches the service: DynamoDB refuses it, moto answers with nothing.)"""
    from botocore.exceptions import ParamValidationError

    service = ingest_service(stack.settings("eu"))
    bad = {service.near.table: {"Keys": [{"PK": {"S": 7}, "SK": {"S": "BAND"}}]}}  # a number for a string
    with pytest.raises(ParamValidationError):
        service.ledger.client.batch_get_item(RequestItems=bad)
    assert service.near.client.batch_get_item(RequestItems=bad)["Responses"] == {service.near.table: []}
