"""``lenslog verify``: every object of every cell is accounted for, or named as an orphan."""

from __future__ import annotations

from lenslog.cli import main
from tests.images import jpeg
from tests.reliability.support import META


def _run(capsys) -> tuple[int, str]:
    code = main(["verify"])
    return code, capsys.readouterr().out


def test_a_clean_cell_has_no_orphans_and_says_what_it_counted(eu, capsys):
    eu.put("v/ok.jpg", jpeg(701), META)
    eu.put("v/bad.jpg", b"not an image", META)
    eu.drain()
    code, out = _run(capsys)
    assert code == 0, out
    assert "1 curated with record" in out and "1 quarantine with reason and decision" in out
    assert "orphans: none" in out


def test_an_undecided_landing_object_is_pending_with_its_age_not_an_orphan(eu, capsys):
    eu.put("v/waiting.jpg", jpeg(702), META)  # not drained
    code, out = _run(capsys)
    assert code == 0
    assert "v/waiting.jpg" in out and "pending" in out and "undecided" in out


def test_a_curated_object_without_its_record_and_a_record_without_its_object_are_orphans(eu, capsys):
    put = eu.put("v/ok.jpg", jpeg(703), META)
    eu.drain()
    stored = eu.decision("v/ok.jpg", put)["stored"]
    eu.s3.delete_object(Bucket=stored["bucket"], Key=stored["key"])
    eu.s3.put_object(Bucket=eu.res.curated_bucket, Key="images/ab/" + "ab" * 32 + ".jpg", Body=b"stray")
    eu.s3.put_object(Bucket=eu.res.curated_bucket, Key="somewhere/else.jpg", Body=b"stray")
    code, out = _run(capsys)
    assert code == 1
    assert "image record's object" in out and "is missing" in out
    assert "curated object without an image record" in out
    assert "curated key is not images/<id[:2]>/<id>.<ext>" in out


def test_a_quarantined_object_without_its_reason_document_is_an_orphan(eu, capsys):
    put = eu.put("v/bad.jpg", b"GIF89a" + b"\0" * 100, META)
    eu.drain()
    stored = eu.decision("v/bad.jpg", put)["stored"]
    eu.s3.delete_object(Bucket=stored["bucket"], Key=stored["key"] + ".reason.json")
    eu.s3.put_object(Bucket=eu.res.quarantine_bucket, Key="too_small/v1/x.jpg.reason.json", Body=b"{}")
    code, out = _run(capsys)
    assert code == 1
    assert "quarantined object with no reason document beside it" in out
    assert "reason document without its quarantined object" in out


def test_a_decided_object_still_in_landing_is_pending_its_clean_up_not_an_orphan(config):
    """Pure: the state a crash between commit and landing delete leaves (a replay finishes it)."""
    import json
    from datetime import UTC, datetime, timedelta

    from lenslog.ports import ListedObject
    from lenslog.services.verify import CellSnapshot, reconcile
    from lenslog.settings import cell_resources

    res = cell_resources(config, "eu")
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    stored = {"bucket": res.quarantine_bucket, "key": "corrupt_image/v7/a.jpg", "region": res.region}
    doc = {
        "bucket": res.landing_bucket,
        "key": "a.jpg",
        "version_id": "v7",
        "status": "rejected",
        "stored": stored,
    }
    landing = ListedObject(res.landing_bucket, "a.jpg", 10, now - timedelta(minutes=30), version_id="v7")
    quarantine = [
        ListedObject(res.quarantine_bucket, "corrupt_image/v7/a.jpg", 10, now),
        ListedObject(res.quarantine_bucket, "corrupt_image/v7/a.jpg.reason.json", 10, now),
    ]
    item = {
        "PK": {"S": "OBJ#x"},
        "SK": {"S": "V#v7"},
        "kind": {"S": "decision"},
        "doc": {"S": json.dumps(doc)},
    }
    report = reconcile({"eu": CellSnapshot(res, [landing], [], quarantine, [item])}, now)
    assert report.orphans == []
    [pending] = report.pending
    assert pending.state == "decided, landing clean-up pending" and "30 min" in str(pending)
