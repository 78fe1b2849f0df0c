"""Erasure reaches snapshots: an erased image (or every image of a revoked consent) is in no
manifest afterwards, in no version of any manifest object; each snapshot that listed it keeps its
id, gets a new manifest version and counts what was removed; verification reads the manifests."""

from __future__ import annotations

import json

from lenslog.cli import main as cli
from lenslog.domain.consent import ConsentRecord
from lenslog.runtime import erasure_service, snapshot_service
from lenslog.services.erasure import ErasureRequest
from tests.component.labelled import ingest_labelled_set
from tests.component.test_snapshots import service


def manifest_bodies(cell) -> dict[str, bytes]:
    """Every version of every snapshot manifest object of the cell: key@version -> bytes."""
    out = {}
    resp = cell.s3.list_object_versions(Bucket=cell.res.curated_bucket, Prefix="snapshots/")
    for v in resp.get("Versions", []):
        body = cell.s3.get_object(Bucket=cell.res.curated_bucket, Key=v["Key"], VersionId=v["VersionId"])
        out[f"{v['Key']}@{v['VersionId']}"] = body["Body"].read()
    return out


def erase(stack, subject: str, value: str):
    return erasure_service(stack.settings("eu")).erase(
        ErasureRequest(subject=subject, value=value, requested_by="dpo@example.com", reason="art. 17")
    )


def test_an_erased_image_is_in_no_manifest_afterwards_and_each_snapshot_keeps_its_id(eu, stack):
    expected = ingest_labelled_set(eu)
    victim = next(e for e in expected if e.split == "train" and e.label_status == "labelled")
    whole = service(eu, part_lines=3).create(name="whole")
    trains = service(eu).create(filters={"split": ["train"]})
    vals = service(eu).create(filters={"split": ["val"]})  # does not list it
    assert any(victim.image_id.encode() in b for b in manifest_bodies(eu).values())

    result = erase(stack, "image", victim.image_id)

    assert result.verified, result.leftovers
    assert result.snapshots == {whole.snapshot_id: 1, trains.snapshot_id: 1}
    assert not any(victim.image_id.encode() in b for b in manifest_bodies(eu).values())
    snaps = snapshot_service(stack.settings("eu"))
    after = snaps.get(whole.snapshot_id)
    assert after.snapshot_id == whole.snapshot_id and after.version == 2 and after.removed == 1
    assert after.images == 7 and after.counts["images"] == 7
    assert after.counts["splits"]["train"] == whole.counts["splits"]["train"] - 1
    assert after.content_hash != whole.content_hash
    assert victim.image_id not in {x["image_id"] for x in snaps.lines(after)}
    # only the part that named it was rewritten; the old object is gone, every version of it
    changed = [(a.key, b.key) for a, b in zip(whole.parts, after.parts, strict=True) if a.key != b.key]
    assert len(changed) == 1 and "/v2/" in changed[0][1]
    keys = {k.split("@")[0] for k in manifest_bodies(eu)}
    assert changed[0][0] not in keys
    assert keys == {p.key for s in (after, snaps.get(trains.snapshot_id), vals) for p in s.parts}
    assert snaps.get(vals.snapshot_id).version == 1  # untouched
    # the erasure's tombstone counts what it took out of snapshots, naming no image
    [tomb] = eu.items("ERASURE#")
    assert json.loads(tomb["doc"]["S"])["snapshots"] == {whole.snapshot_id: 1, trains.snapshot_id: 1}
    # and the remaining snapshot still exports what is left
    assert cli(["verify", "--cell", "eu"]) == 0


def test_revoking_a_consent_takes_its_images_out_of_every_snapshot(eu, stack, capsys):
    expected = ingest_labelled_set(eu, consents={1: "consent-x", 3: "consent-x"})
    eu.ledger.put_consent(
        ConsentRecord(consent_id="consent-x", source="depot-live", scope=("faces",), expires=None)
    )
    covered = {e.image_id for e in expected[:3:2]}
    record = service(eu).create()

    assert cli(["consent", "revoke", "consent-x", "--requested-by", "dpo@example.com", "--cell", "eu"]) == 0
    outcome = json.loads(capsys.readouterr().out.strip().splitlines()[-1])

    assert outcome["verified"] and outcome["snapshots"] == {record.snapshot_id: 2}
    after = snapshot_service(stack.settings("eu")).get(record.snapshot_id)
    assert after.removed == 2 and after.counts["images"] == 6
    bodies = manifest_bodies(eu).values()
    assert not any(i.encode() in b for i in covered for b in bodies)


def test_verification_reads_the_manifests_a_stray_copy_naming_an_erased_image_is_a_leftover(eu, stack):
    expected = ingest_labelled_set(eu)
    record = service(eu).create()
    stray = f"snapshots/{record.snapshot_id}/copy.jsonl"
    eu.s3.copy_object(
        Bucket=eu.res.curated_bucket,
        Key=stray,
        CopySource={"Bucket": eu.res.curated_bucket, "Key": record.parts[0].key},
    )

    result = erase(stack, "image", expected[0].image_id)

    assert not result.verified
    assert [x for x in result.leftovers if stray in x] != []


def test_a_build_whose_continuation_names_an_erased_image_starts_over_without_it(eu, stack):
    expected = ingest_labelled_set(eu)
    snaps = service(eu, part_lines=3)
    building = snaps.create(should_stop=lambda: True)
    assert building.status == "building" and building.continuation and building.continuation.start_key
    last = next(e for e in expected if e.image_id in json.dumps(building.continuation.start_key))

    result = erase(stack, "image", last.image_id)

    assert result.verified, result.leftovers
    assert result.snapshots == {building.snapshot_id: 1}
    restarted = snaps.get(building.snapshot_id)
    assert restarted.parts == [] and restarted.version == 2 and restarted.removed == 1
    assert not any(last.image_id.encode() in b for b in manifest_bodies(eu).values())
    done = snaps.step(building.snapshot_id)
    assert done.status == "complete" and done.images == 7
    assert last.image_id not in {x["image_id"] for x in snaps.lines(done)}
