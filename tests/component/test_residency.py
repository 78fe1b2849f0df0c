"""Residency and consent under moto: nothing of an image stays in a cell it does not belong to."""

from __future__ import annotations

from datetime import datetime

import pytest

from lenslog.config import default_config_path, load_config
from tests.component.conftest import Cell
from tests.images import jpeg

EU_META = {"camera-id": "cam-01", "captured-at": "2026-11-18T10:00:00Z"}


@pytest.fixture
def us(stack, worker) -> Cell:
    return Cell(stack, worker, "us")


def everything_in(cell: Cell) -> dict[str, list]:
    """Every object version in every bucket of the cell and every table item but aggregates and
    the consent registry."""
    out: dict[str, list] = {}
    for bucket in (cell.res.landing_bucket, cell.res.curated_bucket, cell.res.quarantine_bucket):
        resp = cell.s3.list_object_versions(Bucket=bucket)
        out[bucket] = [v["Key"] for v in resp.get("Versions", []) + resp.get("DeleteMarkers", [])]
    items = cell.ddb.scan(TableName=cell.res.table)["Items"]
    out["items"] = [i["PK"]["S"] for i in items if not i["PK"]["S"].startswith(("AGG#", "CONSENT#"))]
    return out


def test_a_camera_registered_in_us_uploaded_to_eu_is_relocated_and_eu_keeps_nothing(eu, us):
    put = eu.put(
        "misrouted/us-frame.jpg", jpeg(1), {"camera-id": "us-cam-01", "captured-at": "2026-11-18T16:00:00Z"}
    )
    eu.put_sidecar("misrouted/us-frame.jpg", {"classes": ["truck"]})
    eu.drain()

    assert everything_in(eu) == {
        eu.res.landing_bucket: [],
        eu.res.curated_bucket: [],
        eu.res.quarantine_bucket: [],
        "items": [],
    }
    d = us.ledger.get_decision(eu.res.landing_bucket, "misrouted/us-frame.jpg", put["VersionId"])
    assert d["status"] == "accepted" and d["data_region"] == "us" and d["region_rule"] == "source_registry"
    assert d["stored"]["region"] == "us-east-1" and d["stored"]["bucket"] == us.res.curated_bucket
    assert d["relocated_from"] == f"{eu.res.landing_bucket}/misrouted/us-frame.jpg@{put['VersionId']}"
    assert d["metadata"]["classes"] == ["truck"]  # the sidecar travelled with it
    assert "lenslog-origin" not in d["metadata"]["extra"]
    assert eu.counters() == {("relocated_out", "us"): 1}  # an anonymous count, nothing else


def test_explicit_data_region_moves_an_unregistered_upload(eu, us):
    put = us.put(
        "partner/p.jpg",
        jpeg(2),
        {"data-region": "eu", "captured-at": "2026-11-18T10:00:00Z", "camera-id": "partner-cam-9"},
    )
    us.drain()
    d = eu.ledger.get_decision(us.res.landing_bucket, "partner/p.jpg", put["VersionId"])
    assert d["data_region"] == "eu" and d["region_rule"] == "explicit_metadata"
    assert d["stored"]["region"] == "eu-central-1"
    left = everything_in(us)
    assert all(v == [] for v in left.values()), left


def test_the_registry_beats_what_an_upload_claims(eu):
    put = eu.put("claim.jpg", jpeg(3), {**EU_META, "data-region": "us"})
    eu.drain()
    d = eu.decision("claim.jpg", put)
    assert d["data_region"] == "eu" and d["region_rule"] == "source_registry"


def test_an_upload_nothing_places_stays_in_the_cell_it_landed_in(eu):
    put = eu.put("nowhere.jpg", jpeg(4), {"camera-id": "stray-cam", "captured-at": "2026-11-18T10:00:00Z"})
    eu.drain()
    d = eu.decision("nowhere.jpg", put)
    assert d["status"] == "accepted" and d["reasons"] == []
    assert (d["data_region"], d["region_rule"]) == ("eu", "landing_cell")
    assert d["stored"]["bucket"] == eu.res.curated_bucket and d["stored"]["region"] == "eu-central-1"


class TestTheStrictSwitch:
    """``unresolved_region = "quarantine"`` (in [defaults] or a source's policy) keeps the old rule."""

    @pytest.fixture
    def config(self, tmp_path, monkeypatch):
        text = default_config_path().read_text(encoding="utf-8")
        strict = text.replace('unresolved_region = "landing_cell"\n', 'unresolved_region = "quarantine"\n', 1)
        assert strict != text
        path = tmp_path / "lenslog.toml"
        path.write_text(strict, encoding="utf-8")
        monkeypatch.setenv("LENSLOG_CONFIG_PATH", str(path))
        return load_config(path)

    def test_it_quarantines_an_upload_nothing_places(self, eu):
        meta = {"camera-id": "stray-cam", "captured-at": "2026-11-18T10:00:00Z"}
        put = eu.put("nowhere.jpg", jpeg(4), meta)
        eu.drain()
        d = eu.decision("nowhere.jpg", put)
        assert d["status"] == "quarantined" and d["reasons"] == ["region_unresolved"]
        assert d["stored"]["bucket"] == eu.res.quarantine_bucket

    def test_the_registry_still_places_an_upload(self, eu):
        put = eu.put("claim.jpg", jpeg(3), {**EU_META, "data-region": "us"})
        eu.drain()
        d = eu.decision("claim.jpg", put)
        assert d["status"] == "accepted" and d["region_rule"] == "source_registry"


def test_gps_rules_decide_when_nothing_else_does(eu, us):
    put = eu.put(
        "gps.jpg",
        jpeg(5),
        {"camera-id": "roaming-1", "captured-at": "2026-11-18T10:00:00Z", "lat": "41.88", "lon": "-87.63"},
    )
    eu.drain()
    d = us.ledger.get_decision(eu.res.landing_bucket, "gps.jpg", put["VersionId"])
    assert d["data_region"] == "us" and d["region_rule"] == "gps_rule"


def test_public_data_stays_where_it_landed_by_policy(us):
    put = us.put("open-data/bg.jpg", jpeg(6), {"captured-at": "2026-11-18T10:00:00Z"})
    us.drain()
    d = us.decision("open-data/bg.jpg", put)
    assert d["status"] == "accepted" and d["region_rule"] == "landing_cell" and d["data_region"] == "us"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({}, "consent_missing"),
        ({"consent-id": "c-unknown"}, "consent_missing"),
        ({"consent-id": "c-2025-trial"}, "consent_expired"),
    ],
)
def test_personal_data_without_a_valid_consent_is_quarantined(eu, extra, reason):
    put = eu.put("people.jpg", jpeg(7), {**EU_META, "pii": "faces", **extra})
    eu.drain()
    d = eu.decision("people.jpg", put)
    assert d["status"] == "quarantined" and d["reasons"] == [reason]


def test_personal_data_with_a_registered_consent_is_accepted(eu):
    put = eu.put("people-ok.jpg", jpeg(8), {**EU_META, "pii": "faces", "consent-id": "c-2026-depot-staff"})
    eu.drain()
    d = eu.decision("people-ok.jpg", put)
    assert d["status"] == "accepted" and d["metadata"]["consent_id"] == "c-2026-depot-staff"


def test_a_consent_does_not_cover_what_it_does_not_name(eu):
    put = eu.put(
        "plates.jpg", jpeg(9), {**EU_META, "pii": "faces,plates", "consent-id": "c-2026-depot-staff"}
    )
    eu.drain()
    d = eu.decision("plates.jpg", put)
    assert d["reasons"] == ["consent_expired"] and "plates" in d["reason_details"][0]


def test_stored_objects_carry_their_retention_and_records_expire_with_them(eu):
    put = eu.put("stray.jpg", jpeg(10), {"camera-id": "stray-cam"})  # no capture time: quarantined
    eu.drain()
    d = eu.decision("stray.jpg", put)
    assert d["reasons"] == ["metadata_incomplete"]
    tags = eu.s3.get_object_tagging(Bucket=d["stored"]["bucket"], Key=d["stored"]["key"])["TagSet"]
    assert tags == [{"Key": "lenslog-retention", "Value": "30d"}]
    rules = eu.s3.get_bucket_lifecycle_configuration(Bucket=eu.res.quarantine_bucket)["Rules"]
    assert [r["ID"] for r in rules] == ["retention-30d"]
    [item] = [i for i in eu.items("OBJ#") if i["SK"]["S"].startswith("V#")]
    decided = datetime.fromisoformat(d["decided_at"]).timestamp()
    assert int(item["expires_at"]["N"]) - decided == pytest.approx(30 * 86400, abs=2)
