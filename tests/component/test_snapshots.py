"""Snapshots under moto: what a snapshot lists, where it is stored, how a build goes on across
invocations, and that the same dataset gives the same content hash."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from lenslog.adapters.s3 import S3ObjectStore
from lenslog.adapters.snapshots import ImageRecords, SnapshotStore
from lenslog.cli import main as cli
from lenslog.domain.snapshot import SnapshotInputError, config_version
from lenslog.runtime import snapshot_service
from lenslog.services.snapshots import SnapshotService
from tests.component.conftest import Cell
from tests.component.labelled import ingest_labelled_set


def service(cell: Cell, part_lines: int = 10_000, clock=None) -> SnapshotService:
    store = SnapshotStore(
        cell.ddb, cell.res.table, S3ObjectStore(cell.s3, cell.res.region), cell.res.curated_bucket
    )
    return SnapshotService(
        cell=cell.name,
        store=store,
        records=ImageRecords(cell.ddb, cell.res.table),
        config_version="cfg-test",
        part_lines=part_lines,
        **({"clock": clock} if clock else {}),
    )


def test_a_snapshot_lists_the_accepted_and_linked_images_with_split_labels_hash_and_location(eu, stack):
    expected = ingest_labelled_set(eu)
    record = snapshot_service(stack.settings("eu")).create(name="first")
    lines = list(snapshot_service(stack.settings("eu")).lines(record))

    assert record.status == "complete" and record.name == "first" and record.cell == "eu"
    assert record.config_version == config_version(stack.config.model_dump_json())
    assert record.content_hash and record.content_hash.startswith("sha256:")
    assert {x["image_id"] for x in lines} == {e.image_id for e in expected}
    by_id = {x["image_id"]: x for x in lines}
    for e in expected:
        line = by_id[e.image_id]
        assert (line["split"], line["status"], line["sha256"]) == (e.split, e.status, e.image_id)
        assert line["labels"]["status"] == e.label_status
        assert [(o["class"], tuple(o["box"])) for o in line["labels"]["objects"]] == e.boxes
        assert line["s3"]["bucket"] == eu.res.curated_bucket and e.image_id in line["s3"]["key"]
        assert line["metadata"]["camera_id"] == e.camera_id
        assert not {"lat", "lon", "serial", "consent_id"} & set(line["metadata"])  # never personal data
    counts = record.counts
    assert counts["images"] == 8 and counts["splits"] == {"train": 4, "val": 2, "test": 2}
    assert counts["classes"]["pallet"] == {"images": 4, "instances": 4}
    assert counts["classes_by_split"]["val"]["forklift"] == {"images": 1, "instances": 1}
    # stored in its cell: the manifest in the cell's curated bucket, the record in its table
    assert all(p.key.startswith(f"snapshots/{record.snapshot_id}/v1/") for p in record.parts)
    assert [k for k in eu.curated() if k.startswith("snapshots/")] == [p.key for p in record.parts]
    [item] = eu.items("SNAPSHOTS")
    assert item["SK"]["S"] == record.snapshot_id
    assert not any(e.image_id in json.dumps(item) for e in expected)  # counts, never ids


def test_refused_and_duplicate_decisions_are_not_in_a_snapshot(eu, stack):
    from tests.images import jpeg

    body = jpeg(40)
    eu.put("a.jpg", body, {"camera-id": "cam-01", "captured-at": "2026-11-18T10:00:00Z"})
    eu.put("b.jpg", body, {"camera-id": "cam-02", "captured-at": "2026-11-18T10:00:00Z"})  # exact duplicate
    eu.put("t.jpg", jpeg(41)[:2000], {"camera-id": "cam-01", "captured-at": "2026-11-18T10:00:00Z"})
    eu.drain()
    record = snapshot_service(stack.settings("eu")).create()
    lines = list(snapshot_service(stack.settings("eu")).lines(record))
    assert (
        len(lines) == 1 and lines[0]["status"] == "accepted" and lines[0]["labels"]["status"] == "unlabelled"
    )


def test_the_same_dataset_gives_the_same_content_hash_and_another_id(eu):
    ingest_labelled_set(eu)
    a, b = service(eu).create(), service(eu).create()
    assert a.snapshot_id != b.snapshot_id
    assert a.content_hash == b.content_hash
    assert [p.sha256 for p in a.parts] == [p.sha256 for p in b.parts]


def test_a_build_goes_on_across_invocations_from_its_continuation(eu):
    ingest_labelled_set(eu)
    whole = service(eu, part_lines=3).create()
    steps = service(eu, part_lines=3)
    first = steps.create(should_stop=lambda: True)  # one part, then the invocation's time is up

    assert first.status == "building" and len(first.parts) == 1 and first.continuation is not None
    assert first.counts["images"] == 3
    second = steps.step(first.snapshot_id, should_stop=lambda: True)
    assert second.status == "building" and len(second.parts) == 2
    done = steps.step(first.snapshot_id)
    assert done.status == "complete" and done.continuation is None
    assert done.continuation is None and done.images == 8 and [p.images for p in done.parts] == [3, 3, 2]
    assert done.content_hash == whole.content_hash
    assert list(steps.lines(done)) == list(steps.lines(whole))
    assert done.counts == whole.counts
    assert steps.get(done.snapshot_id).content_hash == whole.content_hash


def test_a_snapshot_is_a_point_in_time_images_decided_after_it_started_are_not_in_it(eu):
    then = datetime.now(UTC) - timedelta(hours=2)
    ingest_labelled_set(eu, now=then)
    snaps = service(eu, part_lines=3, clock=lambda: then + timedelta(seconds=4.5))
    record = snaps.step(snaps.start().snapshot_id)
    assert record.images == 5  # the first five of the set were decided before the snapshot


def test_filters_select_by_split_class_and_label_status(eu):
    ingest_labelled_set(eu)
    snaps = service(eu)
    train = snaps.create(filters={"split": ["train"]})
    assert train.counts["splits"] == {"train": 4}
    pallets = list(snaps.lines(snaps.create(filters={"class": ["pallet"], "status": ["accepted"]})))
    assert len(pallets) == 3 and all(x["status"] == "accepted" for x in pallets)
    assert snaps.create(filters={"labels": ["null", "unlabelled"]}).counts["images"] == 2
    with pytest.raises(SnapshotInputError, match="unknown key 'gps'"):
        snaps.create(filters={"gps": ["1"]})
    with pytest.raises(SnapshotInputError, match="split must be one of"):
        snaps.create(filters={"split": ["holdout"]})


def test_a_snapshot_never_crosses_cells(eu, stack, worker):
    ingest_labelled_set(eu)
    us = Cell(stack, worker, "us")
    record = snapshot_service(stack.settings("us")).create()
    assert record.cell == "us" and record.images == 0
    assert [k for k in us.curated() if k.startswith("snapshots/")] == [p.key for p in record.parts]
    assert snapshot_service(stack.settings("us")).store.get(record.snapshot_id) is not None
    assert snapshot_service(stack.settings("eu")).store.get(record.snapshot_id) is None


def test_a_manifest_part_that_no_longer_matches_its_digest_is_refused(eu):
    ingest_labelled_set(eu)
    snaps = service(eu)
    record = snaps.create()
    eu.s3.put_object(Bucket=eu.res.curated_bucket, Key=record.parts[0].key, Body=b'{"image_id":"x"}\n')
    with pytest.raises(ValueError, match="does not match its sha256"):
        list(snaps.lines(record))


def test_lenslog_snapshot_create_list_and_show(eu, capsys):
    expected = ingest_labelled_set(eu)
    assert cli(["snapshot", "create", "--cell", "eu", "--name", "nightly", "--filter", "split=val"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert (
        created["name"] == "nightly" and created["splits"] == {"val": 2} and created["status"] == "complete"
    )
    assert cli(["snapshot", "list", "--cell", "eu"]) == 0
    assert [json.loads(x)["snapshot_id"] for x in capsys.readouterr().out.splitlines()] == [
        created["snapshot_id"]
    ]
    assert cli(["snapshot", "show", created["snapshot_id"], "--lines"]) == 0
    out = capsys.readouterr().out
    record, _, rest = out.partition("\n}\n")
    assert json.loads(record + "\n}")["counts"]["images"] == 2
    ids = {json.loads(x)["image_id"] for x in rest.splitlines()}
    assert ids == {e.image_id for e in expected if e.split == "val"}


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["snapshot", "create", "--filter", "colour=red"], "unknown key 'colour'"),
        (["snapshot", "create", "--filter", "split"], "KEY=VALUE"),
        (["snapshot", "create", "--name", "no spaces"], "--name"),
        (["snapshot", "create", "--cell", "mars"], "unknown cell 'mars'"),
        (["snapshot", "show", "snap-20260101T000000Z-00000000"], "no snapshot"),
        (["snapshot", "show", "../../etc"], "no snapshot"),
        (["export", "--format", "yolo", "--out", "x", "--snapshot", "nope"], "no snapshot"),
        (["export", "--format", "coco", "--out", "x", "--workers", "0"], "--workers"),
    ],
)
def test_a_snapshot_or_export_mistake_is_one_line_with_exit_code_2(eu, args, names, capsys):
    assert cli(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and names in err[0], err


def test_lenslog_verify_accounts_for_manifest_parts_and_names_a_stray_one(eu, capsys):
    ingest_labelled_set(eu)
    record = service(eu, part_lines=5).create()
    assert cli(["verify", "--cell", "eu"]) == 0
    out = capsys.readouterr().out
    assert "2 curated snapshot manifest parts" in out and "orphans: none" in out
    eu.s3.put_object(Bucket=eu.res.curated_bucket, Key=f"snapshots/{record.snapshot_id}/v9/x.jsonl", Body=b"")
    assert cli(["verify", "--cell", "eu"]) == 1
    assert "snapshot manifest part no snapshot lists" in capsys.readouterr().out
