"""Near duplicates at the door under moto: the real ingest service and the index in the cell's table."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from PIL import Image, ImageEnhance, ImageFilter

from lenslog.adapters.dynamo import DynamoLedger
from lenslog.adapters.nearindex import NearIndex, near_pk
from lenslog.adapters.s3 import S3ObjectStore
from lenslog.domain import layout
from lenslog.domain import neardup as nd
from lenslog.domain.models import ObjectRef
from lenslog.services import leakage
from lenslog.services.ingest import IngestService
from tests.images import encode, scene

T0 = datetime(2026, 10, 1, 9, 0, 0, tzinfo=UTC)


def meta(camera: str = "cam-01", at: datetime = T0) -> dict[str, str]:
    return {"camera-id": camera, "captured-at": at.isoformat()}


def upload(eu, key: str, img: Image.Image, camera: str = "cam-01", at: datetime = T0, **kw) -> dict:
    put = eu.put(key, encode(img, "JPEG", quality=kw.pop("quality", 90)), meta(camera, at))
    eu.drain()
    d = eu.decision(key, put)
    assert d is not None
    return d


def test_a_resized_copy_joins_the_originals_cluster_and_takes_its_split(eu):
    original = upload(eu, "a.jpg", scene(1, (800, 600)))
    copy = upload(eu, "a-small.jpg", scene(1, (800, 600)).resize((400, 300)), at=T0 + timedelta(days=3))
    assert original["status"] == "accepted" and original["cluster_id"] == original["image_id"]
    assert copy["status"] == "near_duplicate"
    assert copy["duplicate_of"] == original["image_id"] and copy["cluster_id"] == original["image_id"]
    assert copy["split"] == original["split"] and copy["distance"] <= 10
    assert copy["burst"] is False  # three days apart
    assert copy["stored"]["bucket"] == eu.res.curated_bucket and len(eu.curated()) == 2
    assert eu.counters()[("decision", "near_duplicate")] == 1
    assert eu.counters()[("images", "all")] == 2  # linked copies count in the dataset


def test_a_mirrored_and_a_rotated_copy_match_through_the_dihedral_variants(eu):
    original = upload(eu, "b.jpg", scene(2, (800, 600)))
    flipped = upload(eu, "b-flip.jpg", scene(2, (800, 600)).transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    rotated = upload(eu, "b-rot.jpg", scene(2, (800, 600)).transpose(Image.Transpose.ROTATE_90))
    for d in (flipped, rotated):
        assert d["status"] == "near_duplicate" and d["cluster_id"] == original["image_id"]


def test_a_copy_of_a_copy_joins_the_roots_cluster(eu):
    root = upload(eu, "c.jpg", scene(3, (800, 600)))
    first = upload(eu, "c-q40.jpg", scene(3, (800, 600)), quality=40)
    second = upload(eu, "c-blur.jpg", scene(3, (800, 600)).filter(ImageFilter.GaussianBlur(1.5)))
    assert first["cluster_id"] == root["image_id"] and second["cluster_id"] == root["image_id"]


def test_near_duplicates_from_one_camera_within_burst_seconds_are_a_burst(eu):
    upload(eu, "d1.jpg", scene(4, (800, 600)))
    same_cam = upload(eu, "d2.jpg", scene(4, (800, 600)), quality=70, at=T0 + timedelta(seconds=4))
    other_cam = upload(
        eu, "d3.jpg", scene(4, (800, 600)), quality=60, camera="cam-02", at=T0 + timedelta(seconds=5)
    )
    later = upload(eu, "d4.jpg", scene(4, (800, 600)), quality=50, at=T0 + timedelta(seconds=40))
    assert same_cam["status"] == "near_duplicate" and same_cam["burst"] is True
    assert other_cam["status"] == "near_duplicate" and other_cam["burst"] is False
    assert later["status"] == "near_duplicate" and later["burst"] is False


CAMERA = Path(__file__).resolve().parents[1] / "data" / "camera"


def _central(img: Image.Image, keep: float) -> Image.Image:
    cut = (1 - keep) / 2
    return img.crop(nd.crop_box(img.size, (cut, cut, cut, cut)))


def test_a_central_90pct_crop_of_a_real_photo_is_a_near_duplicate_of_it(eu):
    """Issue 19: a camera photo (Canon PowerShot S40, Pillow's test data) and the central 90% of
    it re-encoded, through S3 -> SQS -> the ingest handler; then the reverse order, another photo."""
    put = eu.put("flower.jpg", (CAMERA / "pillow-flower.jpg").read_bytes(), meta())
    eu.drain()
    original = eu.decision("flower.jpg", put)
    with Image.open(CAMERA / "pillow-flower.jpg") as img:
        crop = upload(eu, "flower-crop.jpg", _central(img, 0.9), at=T0 + timedelta(days=2))
    assert original["status"] == "accepted" and len(original["hashes"]["crop_phashes"]) == 10
    assert crop["status"] == "near_duplicate" and crop["duplicate_of"] == original["image_id"]
    assert crop["cluster_id"] == original["image_id"] and crop["split"] == original["split"]
    assert crop["distance"] <= 10 and crop["stored"]["bucket"] == eu.res.curated_bucket

    with Image.open(CAMERA / "pillow-iptc.jpg") as img:  # the crop first, its frame later
        first = upload(eu, "iptc-crop.jpg", _central(img, 0.9), camera="cam-02", at=T0)
    put = eu.put(
        "iptc.jpg", (CAMERA / "pillow-iptc.jpg").read_bytes(), meta("cam-02", T0 + timedelta(days=1))
    )
    eu.drain()
    frame = eu.decision("iptc.jpg", put)
    assert first["status"] == "accepted" and first["cluster_id"] != original["image_id"]
    assert frame["status"] == "near_duplicate" and frame["cluster_id"] == first["image_id"]


def test_crop_views_can_be_turned_off_and_then_the_crop_is_a_new_image(stack, config):
    plain = config.model_copy(
        update={"near_duplicates": config.near_duplicates.model_copy(update={"crop_views": False})}
    )
    service = _service(stack, plain)
    root = service.handle(_put(stack, "p.jpg", (CAMERA / "pillow-flower.jpg").read_bytes(), meta()))
    with Image.open(CAMERA / "pillow-flower.jpg") as img:
        crop = service.handle(_put(stack, "p-crop.jpg", encode(_central(img, 0.9)), meta()))
    assert root.status == "accepted" and root.hashes.crop_phashes == []
    assert crop.status == "accepted" and crop.duplicate_of is None


def test_unrelated_photos_are_not_linked(eu):
    decisions = [
        upload(eu, f"u{i}.jpg", scene(100 + i, (800, 600)), at=T0 + timedelta(minutes=i)) for i in range(6)
    ]
    assert {d["status"] for d in decisions} == {"accepted"}
    assert len({d["cluster_id"] for d in decisions}) == 6


def test_low_information_frames_are_never_matched_and_say_so(eu):
    a = upload(eu, "blank1.jpg", Image.new("RGB", (640, 480), (90, 90, 90)))
    b = upload(eu, "blank2.jpg", Image.new("RGB", (640, 480), (92, 92, 92)), at=T0 + timedelta(seconds=2))
    for d in (a, b):
        assert "low_information" in d["quality"]["flags"]
        assert d["status"] == "accepted" and d["duplicate_of"] is None
        assert d["hashes"]["near_index"] == "not_matched:low_information"
    assert eu.items("NEAR#") == []  # and they are not indexed


def test_only_committed_images_are_indexed(eu, config):
    put = eu.put("tiny.jpg", encode(scene(5, (100, 100))), meta())
    eu.drain()
    assert eu.decision("tiny.jpg", put)["status"] == "rejected"
    assert eu.items("NEAR#") == []
    d = upload(eu, "e.jpg", scene(5, (800, 600)))
    own, views = int(d["hashes"]["phash"], 16), [int(h, 16) for h in d["hashes"]["crop_phashes"]]
    assert len(views) == len(nd.CROP_VIEWS)
    keys = nd.index_keys(own, views, config.near_duplicates.bands)
    # its own hash in every band, each crop view in every other band (a shared key holds both)
    assert {i["PK"]["S"] for i in eu.items("NEAR#")} == {near_pk(*k) for k in keys}
    assert config.near_duplicates.bands < len(keys) <= config.near_duplicates.bands * (1 + len(views) // 2)


def test_an_exact_duplicate_is_not_indexed_twice(eu, config):
    body = encode(scene(6, (800, 600)))
    eu.put("f1.jpg", body, meta())
    eu.put("f2.jpg", body, meta())
    eu.drain()
    items = eu.items("NEAR#")
    entries = [nd.Entry.decode(t) for i in items for t in i["e"]["SS"]]
    assert len({e.image_id for e in entries}) == 1
    assert sum(int(i["n"]["N"]) for i in items) == len(entries)  # the counter counts entries
    assert sum(e.view is None for e in entries) == config.near_duplicates.bands  # own: every band
    views = config.near_duplicates.bands // 2  # each crop view: every other band
    assert sorted(Counter(e.view for e in entries if e.view).values()) == [views] * len(nd.CROP_VIEWS)


def _service(stack, config, cell="eu") -> IngestService:
    res = stack.cells[cell]
    return IngestService(
        config=config,
        resources=res,
        store=S3ObjectStore(stack.client("s3", cell), res.region),
        ledger=DynamoLedger(stack.client("dynamodb", cell), res.table, cell),
    )


def _put(stack, key: str, body: bytes, metadata: dict[str, str]) -> ObjectRef:
    res = stack.cells["eu"]
    stack.client("s3", "eu").put_object(Bucket=res.landing_bucket, Key=key, Body=body, Metadata=metadata)
    return ObjectRef(bucket=res.landing_bucket, key=key)


def _layout_reads(client) -> list[list[str]]:
    """The image ids of each colour-layout read (a BatchGetItem of image records)."""
    reads: list[list[str]] = []

    def note(params: dict, **_: object) -> None:
        for ask in params["RequestItems"].values():
            if "ProjectionExpression" in ask:
                reads.append([k["PK"]["S"].removeprefix("IMG#") for k in ask["Keys"]])

    client.meta.events.register("before-parameter-build.dynamodb.BatchGetItem", note)
    return reads


def _png(img: Image.Image) -> bytes:
    return encode(img, "PNG")


def _scene_x2(seed: int) -> Image.Image:
    return scene(seed, (192, 144)).resize((384, 288), Image.Resampling.NEAREST)


def test_a_link_through_a_crop_view_is_confirmed_by_the_colour_layouts_read_only_then(stack, config):
    """Two generated scenes that both hashes link through a crop view (found among 20,000 distinct
    images) are kept apart by their colour layouts; the layouts are read from the candidate's image
    record in one request, and only when a candidate passes the hashes through a view."""
    service = _service(stack, config)
    client = service.ledger.client
    reads = _layout_reads(client)
    table = stack.cells["eu"].table
    first = service.handle(_put(stack, "s1.png", _png(_scene_x2(507775)), meta()))
    assert first.status == "accepted" and len(first.hashes.layouts) == 1 + len(nd.VIEW_NAMES)
    item = client.get_item(TableName=table, Key={"PK": {"S": f"IMG#{first.image_id}"}, "SK": {"S": "IMAGE"}})
    stored = layout.unpack(item["Item"]["layouts"]["S"])
    assert [layout.encode(x) for x in stored] == first.hashes.layouts
    unrelated = service.handle(_put(stack, "u.jpg", encode(scene(41, (800, 600))), meta()))
    assert unrelated.status == "accepted" and reads == []  # no candidate through a view: no read
    second = service.handle(_put(stack, "s2.png", _png(_scene_x2(501099)), meta()))
    assert second.status == "accepted" and second.duplicate_of is None
    assert reads == [[first.image_id]]

    # a record decided before layouts existed is matched by the hashes alone, as it was then
    old = service.handle(_put(stack, "s3.png", _png(_scene_x2(515607)), meta()))
    client.update_item(
        TableName=table,
        Key={"PK": {"S": f"IMG#{old.image_id}"}, "SK": {"S": "IMAGE"}},
        UpdateExpression="REMOVE layouts",
    )
    linked = service.handle(_put(stack, "s4.png", _png(_scene_x2(513289)), meta()))
    assert linked.status == "near_duplicate" and linked.duplicate_of == old.image_id
    assert reads[-1] == [old.image_id]


def _legacy_pack(data: bytes) -> str:
    """The image record's ``layouts`` as the first build wrote them: the 4 x 4 RGB grid of the
    gate's working copy and of each crop view's region, base64 without a grid prefix."""
    import base64

    from lenslog.domain import decode as dec

    working = dec.decode(data, formats=("PNG",), max_pixels=10**8, min_width=1, min_height=1).working
    rgb = working.convert("RGB")
    boxes = [None, *(nd.crop_box(rgb.size, cut) for _, cut in nd.CROP_VIEWS)]
    grids = b"".join(rgb.resize((4, 4), Image.Resampling.BOX, box=box).tobytes() for box in boxes)
    return base64.b64encode(grids).decode()


def test_a_record_with_the_first_builds_4x4_layouts_is_compared_at_4x4(stack, config):
    """A record written before the 6 x 6 grid keeps confirming its true crops and refusing the
    false pair, compared at 4 x 4 against the 4 x 4 threshold."""
    service = _service(stack, config)
    client = service.ledger.client
    table = stack.cells["eu"].table
    reads = _layout_reads(client)
    data = _png(_scene_x2(507775))
    first = service.handle(_put(stack, "old.png", data, meta()))
    client.update_item(
        TableName=table,
        Key={"PK": {"S": f"IMG#{first.image_id}"}, "SK": {"S": "IMAGE"}},
        UpdateExpression="SET layouts = :old",
        ExpressionAttributeValues={":old": {"S": _legacy_pack(data)}},
    )
    other = service.handle(_put(stack, "other.png", _png(_scene_x2(501099)), meta()))
    assert other.status == "accepted" and reads == [[first.image_id]]  # read, compared, refused
    crop = _png(_scene_x2(507775).crop(nd.crop_box((384, 288), (0.05, 0.05, 0.05, 0.05))))
    copy = service.handle(_put(stack, "crop.png", crop, meta(at=T0 + timedelta(hours=1))))
    assert copy.status == "near_duplicate" and copy.duplicate_of == first.image_id
    assert reads[-1] == [first.image_id]  # linked through a view: its 4 x 4 layouts were read


def test_the_hold_policy_quarantines_a_near_duplicate_with_its_link(stack, config):
    policy = config.sources["depot-live"].policy.model_copy(update={"near_duplicate": "hold"})
    source = config.sources["depot-live"].model_copy(update={"policy": policy})
    held_config = config.model_copy(update={"sources": {**config.sources, "depot-live": source}})
    service = _service(stack, held_config)
    root = service.handle(_put(stack, "g.jpg", encode(scene(7, (800, 600))), meta()))
    held = service.handle(_put(stack, "g2.jpg", encode(scene(7, (800, 600)), quality=45), meta()))
    assert root.status == "accepted"
    assert held.status == "quarantined" and held.reasons == ["near_duplicate_held"]
    assert held.duplicate_of == root.image_id and held.cluster_id == root.image_id
    assert held.stored.bucket == stack.cells["eu"].quarantine_bucket
    assert service.ledger.get_image(held.image_id) is None  # not in the dataset, not indexed


def test_two_near_identical_uploads_racing_make_one_cluster(stack, config, serialised_dynamodb):
    """Both look the index up before either commits: the first commit wins, the second fails its
    band condition, looks up again and links to the first."""
    service = _service(stack, config)
    refs = [
        _put(stack, "race-a.jpg", encode(scene(8, (800, 600)), quality=92), meta()),
        _put(
            stack, "race-b.jpg", encode(scene(8, (800, 600)), quality=60), meta(at=T0 + timedelta(seconds=1))
        ),
    ]
    barrier = threading.Barrier(2, timeout=30)
    lookups: dict[int, int] = {}
    original = NearIndex.lookup

    def lookup_then_wait(self, keys, **kw):
        seen = original(self, keys, **kw)
        me = threading.get_ident()
        lookups[me] = lookups.get(me, 0) + 1
        if lookups[me] == 1:
            barrier.wait()  # both have looked up before either commits
        return seen

    results: dict[str, object] = {}

    def run(ref: ObjectRef) -> None:
        results[ref.key] = service.handle(ref)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(NearIndex, "lookup", lookup_then_wait)
        threads = [threading.Thread(target=run, args=(r,)) for r in refs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    decisions = sorted(results.values(), key=lambda d: d.status)
    assert [d.status for d in decisions] == ["accepted", "near_duplicate"]
    root, linked = decisions
    assert linked.cluster_id == root.image_id and linked.split == root.split
    assert sorted(lookups.values()) == [1, 2]  # exactly one of them looked again


def test_no_near_duplicate_pair_crosses_splits_in_a_corpus_with_bursts_across_days(stack, config):
    service = _service(stack, config)
    n = 0

    def ingest(img: Image.Image, camera: str, at: datetime, quality: int = 90, scene_name: str | None = None):
        nonlocal n
        n += 1
        md = meta(camera, at)
        if scene_name:
            md["scene"] = scene_name
        return service.handle(_put(stack, f"corpus/{n}.jpg", encode(img, quality=quality), md))

    decisions = []
    for i in range(12):
        camera = ("cam-01", "cam-02", "cam-03")[i % 3]
        day = T0 + timedelta(days=i % 5)
        base = scene(300 + i, (800, 600))
        decisions.append(ingest(base, camera, day))
        for k in range(1, 3):  # a burst: the same view seconds later
            decisions.append(ingest(base, camera, day + timedelta(seconds=2 * k), quality=70 + k))
        # the same view again on later days, brighter, from another camera and across midnight
        decisions.append(ingest(ImageEnhance.Brightness(base).enhance(1.2), camera, day + timedelta(days=1)))
        decisions.append(
            ingest(
                base.resize((600, 450)),
                "cam-02",
                day.replace(hour=23, minute=59, second=58) + timedelta(days=2),
            )
        )
        if i % 4 == 0:
            decisions.append(
                ingest(base, camera, day + timedelta(days=7), quality=60, scene_name=f"scene-{i}")
            )
    assert sum(d.burst for d in decisions) >= 24
    assert {d.status for d in decisions} == {"accepted", "near_duplicate"}
    result = leakage.check(service.ledger, config)
    assert result["near_pairs"] > 40 and result["clusters"] == 12
    assert result["crossing_pairs"] == 0 and result["cluster_split_mismatches"] == 0 and result["passed"]
    assert leakage.latest(service.ledger)["crossing_pairs"] == 0


def test_the_leakage_check_counts_a_pair_that_does_cross(stack, config):
    service = _service(stack, config)
    service.handle(_put(stack, "h.jpg", encode(scene(9, (800, 600))), meta()))
    service.handle(_put(stack, "h2.jpg", encode(scene(9, (800, 600)), quality=50), meta()))
    records = leakage.dataset_records(service.ledger)
    assert leakage.evaluate(records, config.near_duplicates)["crossing_pairs"] == 0
    other = {"train": "test", "val": "train", "test": "train"}
    tampered = [dict(r, split=other[r["split"]]) if r["status"] == "near_duplicate" else r for r in records]
    result = leakage.evaluate(tampered, config.near_duplicates)
    assert result["crossing_pairs"] == 1 and result["cluster_split_mismatches"] == 1 and not result["passed"]


def _count_requests(client) -> dict[str, int]:
    counts: dict[str, int] = {}

    def count(event_name: str, **_: object) -> None:
        op = event_name.rsplit(".", 1)[-1]
        counts[op] = counts.get(op, 0) + 1

    client.meta.events.register("before-call.dynamodb.*", count)
    return counts


@pytest.mark.parametrize(
    ("bands", "batches"), [(8, 2), (4, 6)], ids=["8 bands of 8 bits", "4 bands of 16 bits"]
)
def test_an_index_lookup_finds_inserted_entries_in_constant_requests(stack, config, bands, batches):
    """Both layouts the config allows for a 10-bit threshold (docs/near-duplicates.md, sizing):
    8-bit bands read 2 batches of keys, 16-bit bands 6 (548 keys for the image within 2 bits per
    band, 28 for its flips and rotations); neither grows with the corpus."""

    res = stack.cells["eu"]
    client = stack.client("dynamodb", "eu")
    index = NearIndex(client, res.table)
    cfg = config.near_duplicates.model_copy(update={"bands": bands})
    radius = nd.radius_for(cfg.max_distance, cfg.bands)
    rng = random.Random(7)
    target = nd.Entry("t" * 64, rng.getrandbits(64), split="train")
    index.insert(target, nd.band_keys(target.phash, cfg.bands))
    per_lookup = []
    for size in (50, 500):
        for i in range(size - (50 if size == 500 else 0)):
            e = nd.Entry(f"{size}-{i}".ljust(64, "0"), rng.getrandbits(64))
            index.insert(e, nd.band_keys(e.phash, cfg.bands))
        counts = _count_requests(client)
        query = target.phash ^ 0b1000000010000000100000001  # 4 bits away
        hashes = [query, *(rng.getrandbits(64) for _ in range(7))]
        keys = nd.lookup_keys(hashes, cfg.bands, radius)
        seen = index.lookup(keys)
        assert target in seen.entries
        assert (
            nd.best_match(nd.Query(variants=(query,)), seen.entries, cfg.max_distance, 10).image_id
            == target.image_id
        )
        per_lookup.append(dict(counts))
        narrowed = index.lookup(keys, near=hashes, max_distance=cfg.max_distance)
        assert narrowed.entries == [target]  # the others were read, not decoded
        assert narrowed.counters == seen.counters
        assert len(seen.entries) > 1
    assert per_lookup[0] == per_lookup[1] == {"BatchGetItem": batches}


def test_a_full_band_item_degrades_the_index_and_the_decision_says_so(eu, config):
    from lenslog.adapters.nearindex import MAX_ENTRIES, near_pk
    from lenslog.domain import hashing, neardup

    first = upload(eu, "full-a.jpg", scene(31, (800, 600)))
    band, value = neardup.band_keys(hashing.from_hex(first["hashes"]["phash"]), config.near_duplicates.bands)[
        0
    ]
    eu.ddb.update_item(  # the band item the copy reads has reached its capacity
        TableName=eu.res.table,
        Key={"PK": {"S": near_pk(band, value)}, "SK": {"S": "BAND"}},
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": str(MAX_ENTRIES)}},
    )
    copy = upload(eu, "full-b.jpg", scene(31, (800, 600)).resize((400, 300)), at=T0 + timedelta(days=1))
    assert copy["status"] == "near_duplicate" and copy["duplicate_of"] == first["image_id"]
    assert copy["hashes"]["near_index"] == "degraded:band_full"
    assert first["hashes"]["near_index"] == "indexed"


def test_erasing_a_cluster_root_repoints_every_index_entry_of_its_crop(eu, stack):
    """The survivors' entries under their crop views move to the new root too, and the erased
    root leaves no entry under any of its keys."""
    from lenslog.runtime import erasure_service
    from lenslog.services.erasure import ErasureRequest

    put = eu.put("root.jpg", (CAMERA / "pillow-iptc.jpg").read_bytes(), meta())
    eu.drain()
    root = eu.decision("root.jpg", put)
    with Image.open(CAMERA / "pillow-iptc.jpg") as img:
        crop = upload(eu, "root-crop.jpg", _central(img, 0.9), at=T0 + timedelta(hours=1))
        other = upload(eu, "root-crop2.jpg", _central(img, 0.8), at=T0 + timedelta(hours=2))
    assert crop["cluster_id"] == other["cluster_id"] == root["image_id"]
    erasure_service(stack.settings("eu")).erase(
        ErasureRequest(subject="image", value=root["image_id"], requested_by="dpo@example.com", reason="t")
    )
    entries = [nd.Entry.decode(t) for i in eu.items("NEAR#") for t in i.get("e", {}).get("SS", [])]
    assert root["image_id"] not in {e.image_id for e in entries}
    survivors = [e for e in entries if e.image_id in (crop["image_id"], other["image_id"])]
    assert {e.view for e in survivors} == {None, *nd.VIEW_NAMES}
    assert {e.cluster for e in survivors} == {crop["image_id"]}  # the earlier survivor is the root


def test_the_index_reads_batch_get_responses_exactly_as_botocore_parses_them(stack):
    """The index client reads BatchGetItem answers with ``json.loads`` where that is exact, and
    leaves binary values, errors and consumed capacity to botocore's parser."""
    res = stack.cells["eu"]
    plain = boto3.session.Session().client("dynamodb", region_name=res.region)  # botocore's parser only
    fast = stack.client("dynamodb", "eu")
    NearIndex(fast, res.table)  # registers the reader on this client
    items = [
        {
            "PK": {"S": "WIRE#1"},
            "SK": {"S": "BAND"},
            "e": {"SS": ["a|b", 'é|"quoted"|\\']},
            "n": {"N": "2"},
            "ns": {"NS": ["1", "2.5"]},
            "m": {"M": {"l": {"L": [{"S": "x"}, {"N": "3"}, {"BOOL": True}, {"NULL": True}]}}},
        },
        {"PK": {"S": "WIRE#2"}, "SK": {"S": "BAND"}, "b": {"B": b"\x00\xff"}, "bs": {"BS": [b"\x01"]}},
    ]
    for item in items:
        plain.put_item(TableName=res.table, Item=item)
    keys = [{"PK": i["PK"], "SK": i["SK"]} for i in items] + [{"PK": {"S": "WIRE#none"}, "SK": {"S": "BAND"}}]
    taken: list[bool] = []

    def after(response_dict, **_):  # runs after the index's reader: was the body taken?
        taken.append(response_dict["body"] == b"{}")

    fast.meta.events.register("before-parse.dynamodb.BatchGetItem", after)
    for request in ([keys[0], keys[2]], [keys[1]], keys):
        for capacity in ("NONE", "TOTAL"):
            asked = {"RequestItems": {res.table: {"Keys": request}}, "ReturnConsumedCapacity": capacity}
            ours, theirs = fast.batch_get_item(**asked), plain.batch_get_item(**asked)
            ours.pop("ResponseMetadata"), theirs.pop("ResponseMetadata")
            assert ours == theirs
    assert taken[:2] == [True, True]  # plain values (consumed capacity too): read with json.loads
    assert taken[2:] == [False] * 4  # a binary value: botocore's parser
    assert {
        type(v)
        for v in (
            fast.batch_get_item(RequestItems={res.table: {"Keys": keys[1:2]}})["Responses"][res.table][0][
                "b"
            ]["B"],
        )
    } == {bytes}
    with pytest.raises(fast.exceptions.ResourceNotFoundException):
        fast.batch_get_item(RequestItems={"no-such-table": {"Keys": keys[:1]}})
