"""Erasure under moto: after it, a scan of every bucket version and table item finds nothing."""

from __future__ import annotations

import json
from datetime import date

from lenslog.cli import main as cli
from lenslog.runtime import erasure_service
from lenslog.services.erasure import ErasureRequest
from tests.images import jpeg

CAM1 = {"camera-id": "cam-01", "captured-at": "2026-11-18T10:00:00Z"}
CAM2 = {"camera-id": "cam-02", "captured-at": "2026-11-18T11:00:00Z"}


def nonzero(counters: dict) -> dict:
    return {k: v for k, v in counters.items() if v}


def all_versions(cell) -> list[str]:
    out = []
    for bucket in (cell.res.landing_bucket, cell.res.curated_bucket, cell.res.quarantine_bucket):
        resp = cell.s3.list_object_versions(Bucket=bucket)
        out += [v["Key"] for v in resp.get("Versions", []) + resp.get("DeleteMarkers", [])]
    return out


def erase(stack, subject: str, value: str):
    return erasure_service(stack.settings("eu")).erase(
        ErasureRequest(subject=subject, value=value, requested_by="dpo@example.com", reason="art. 17")
    )


def test_erasing_an_image_removes_bytes_records_sightings_and_counts(eu, stack):
    body = jpeg(1)
    p1 = eu.put("a.jpg", body, CAM1)
    eu.put("b.jpg", body, CAM2)  # an exact duplicate sighting of the same bytes
    eu.drain()
    image_id = eu.decision("a.jpg", p1)["image_id"]

    result = erase(stack, "image", image_id)

    assert result.verified and result.images == 1 and result.decisions == 2
    assert all_versions(eu) == []
    assert nonzero(eu.counters()) == {}
    leftovers = [i for i in eu.ddb.scan(TableName=eu.res.table)["Items"] if image_id in json.dumps(i)]
    assert leftovers == []
    [tomb] = eu.items("ERASURE#")
    doc = json.loads(tomb["doc"]["S"])
    assert doc["requested_by"] == "dpo@example.com" and doc["images"] == 1 and doc["verified"] is True
    assert image_id not in tomb["doc"]["S"]


def test_erasing_a_camera_keeps_the_other_cameras(eu, stack):
    eu.put("c1/a.jpg", jpeg(2), CAM1)
    eu.put("c1/b.jpg", jpeg(3), CAM1)
    eu.put("c1/trunc.jpg", jpeg(4)[:3000], CAM1)  # a refused one is erased too
    keep = eu.put("c2/a.jpg", jpeg(5), CAM2)
    eu.drain()

    result = erase(stack, "camera", "cam-01")

    assert result.verified and result.images == 2 and result.decisions == 3
    assert eu.quarantine() == []
    kept = eu.decision("c2/a.jpg", keep)
    assert eu.curated() == [kept["stored"]["key"]]
    counters = nonzero(eu.counters())
    assert counters[("camera", "cam-02")] == 1 and ("camera", "cam-01") not in counters
    assert counters[("images", "all")] == 1 and counters[("decision", "accepted")] == 1


def test_erasing_a_reevaluated_image_withdraws_each_count_once(eu, stack):
    put = eu.put("late/x.jpg", jpeg(6))
    eu.drain()
    eu.put_sidecar("late/x.jpg", {"camera_id": "cam-01", "captured_at": "2026-11-18T09:00:00+01:00"})
    eu.drain()
    image_id = eu.decision("late/x.jpg", put)["image_id"]

    assert erase(stack, "image", image_id).verified
    assert nonzero(eu.counters()) == {}
    assert all_versions(eu) == []


def test_revoking_a_consent_erases_what_it_covered(eu, stack):
    covered = {**CAM1, "pii": "faces", "consent-id": "c-2026-depot-staff"}
    eu.put("people/1.jpg", jpeg(7), covered)
    other = eu.put("people/2.jpg", jpeg(8), CAM2)
    eu.drain()

    code = cli(["consent", "revoke", "c-2026-depot-staff", "--requested-by", "works-council", "--cell", "eu"])

    assert code == 0
    assert eu.ledger.get_consent("c-2026-depot-staff").revoked
    assert eu.curated() == [eu.decision("people/2.jpg", other)["stored"]["key"]]
    # a new upload citing the revoked consent is refused
    again = eu.put("people/3.jpg", jpeg(9), covered)
    eu.drain()
    assert eu.decision("people/3.jpg", again)["reasons"] == ["consent_expired"]


def test_erase_command_reports_json_and_succeeds(eu, stack, capsys):
    eu.put("s/a.jpg", jpeg(10), CAM1)
    eu.drain()
    code = cli(["erase", "--source", "depot-live", "--requested-by", "ops", "--cell", "eu"])
    out = json.loads(capsys.readouterr().out.strip())
    assert code == 0 and out["verified"] is True and out["images"] == 1


def test_an_erasure_requested_through_the_api_is_done_and_verified(eu, stack):
    from lenslog.api.app import resolve
    from lenslog.runtime import audit_service
    from tests.component.api_events import rest_event

    put = eu.put("api/a.jpg", jpeg(11), CAM1)
    eu.drain()
    image_id = eu.decision("api/a.jpg", put)["image_id"]
    event = rest_event(
        "POST", "/erasures", body={"subject": "image", "value": image_id, "reason": "subject request"},
        user_arn="arn:aws:iam::123456789012:user/dpo",
    )  # fmt: skip
    resp = resolve(event, None, audit_service(stack.settings("eu")))
    body = json.loads(resp["body"])
    assert resp["statusCode"] == 200 and body["verified"] is True and body["images"] == 1
    assert eu.curated() == []
    doc = json.loads(eu.items("ERASURE#")[0]["doc"]["S"])
    assert doc["requested_by"] == "arn:aws:iam::123456789012:user/dpo"


def test_an_erasure_without_a_caller_is_refused(eu, stack):
    from lenslog.api.app import resolve
    from lenslog.runtime import audit_service
    from tests.component.api_events import rest_event

    event = rest_event("POST", "/erasures", body={"subject": "camera", "value": "cam-01"}, user_arn=None)
    resp = resolve(event, None, audit_service(stack.settings("eu")))
    assert resp["statusCode"] == 403


def test_erasing_a_source_redacts_the_stored_reports_that_named_its_cameras(eu, stack):
    from lenslog.audit.redact import names_any
    from lenslog.runtime import report_service

    eu.put("r/a.jpg", jpeg(12), CAM1)  # cam-01 belongs to the depot-live source
    eu.put("r/b.jpg", jpeg(13), {"camera-id": "studio-cam", "captured-at": "2026-11-18T12:00:00Z"})
    eu.drain()
    report_service(stack.settings("eu"), send=False).run(date(2026, 11, 20))
    s3 = stack.client("s3", "eu")

    def report_texts() -> str:
        versions = s3.list_object_versions(Bucket=stack.reports_bucket).get("Versions", [])
        return "".join(
            s3.get_object(Bucket=stack.reports_bucket, Key=v["Key"], VersionId=v["VersionId"])["Body"]
            .read()
            .decode("latin-1")
            for v in versions
        )

    assert names_any(report_texts(), ["cam-01"])

    result = erase(stack, "source", "depot-live")

    assert result.verified and len(result.reports) == 1
    texts = report_texts()
    assert not names_any(texts, ["cam-01"]) and "studio-cam" in texts
    assert ("camera", "cam-01") not in eu.counters()
