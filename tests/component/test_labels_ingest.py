"""Label files through the real gate under moto: recognised and kept (never decided as images,
never rewritten), paired with their images whichever arrives first, exactly once under replay and
reordering, counted, and refused with reasons when bad."""

from __future__ import annotations

import json

import pytest

from lenslog.config import default_config_path, load_config
from tests.images import jpeg

META = {"camera-id": "cam-01", "captured-at": "2026-11-18T09:15:00+01:00"}
DATA_YAML = b"names:\n  0: cup\n  1: spoon\n"
LABEL_COUNTERS = ("class", "class_instances", "label_status", "split_class", "split_class_instances")


def label_counters(eu) -> dict[tuple[str, str], int]:
    return {k: v for k, v in eu.counters().items() if k[0] in LABEL_COUNTERS and v}


def capture(eu) -> list[str]:
    """The queued notifications, taken off the queue (to deliver them again, in any order)."""
    sqs = eu.stack.client("sqs", "eu")
    url = eu.stack.queue_urls["eu"]
    bodies: list[str] = []
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not msgs:
            return bodies
        bodies += [m["Body"] for m in msgs]
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)],
        )


def deliver(eu, bodies: list[str]) -> None:
    sqs = eu.stack.client("sqs", "eu")
    for body in bodies:
        sqs.send_message(QueueUrl=eu.stack.queue_urls["eu"], MessageBody=body)
        eu.drain()


def test_a_yolo_label_arriving_before_its_image_is_attached_in_the_images_decision(eu):
    eu.put("ds/data.yaml", DATA_YAML)
    eu.put("ds/labels/train/a.txt", b"\xef\xbb\xbf0 0.5 0.5 0.2 0.2 \r\n1 0.3 0.3 0.1 0.1\r\n")
    eu.drain()
    put = eu.put("ds/images/train/a.jpg", jpeg(1, (800, 600)), META)
    eu.drain()

    d = eu.decision("ds/images/train/a.jpg", put)
    assert d["status"] == "accepted"
    assert d["labels"]["status"] == "labelled" and d["labels"]["format"] == "yolo"
    assert [(o["class"], o["box"]) for o in d["labels"]["objects"]] == [
        ("cup", [0.5, 0.5, 0.2, 0.2]),
        ("spoon", [0.3, 0.3, 0.1, 0.1]),
    ]
    assert d["metadata"]["classes"] == ["cup", "spoon"] and d["metadata"]["provenance"]["classes"] == "labels"
    assert eu.ledger.get_image(d["image_id"])["labels"] == d["labels"]
    assert eu.landing() == []
    kept = {k.split("/", 2)[2]: k for k in eu.curated() if k.startswith("labels/")}
    assert sorted(kept) == ["ds/data.yaml", "ds/labels/train/a.txt"]
    stored = eu.s3.get_object(Bucket=eu.res.curated_bucket, Key=kept["ds/labels/train/a.txt"])["Body"].read()
    assert stored == b"\xef\xbb\xbf0 0.5 0.5 0.2 0.2 \r\n1 0.3 0.3 0.1 0.1\r\n"  # never rewritten
    split = d["split"]
    assert label_counters(eu) == {
        ("class", "cup"): 1,
        ("class", "spoon"): 1,
        ("class_instances", "cup"): 1,
        ("class_instances", "spoon"): 1,
        ("label_status", "labelled"): 1,
        ("split_class", f"{split}|cup"): 1,
        ("split_class", f"{split}|spoon"): 1,
        ("split_class_instances", f"{split}|cup"): 1,
        ("split_class_instances", f"{split}|spoon"): 1,
    }


def test_a_label_arriving_after_its_image_updates_record_decision_and_counters_once(eu):
    eu.put("ds/data.yaml", DATA_YAML)
    put = eu.put("ds/images/train/b.jpg", jpeg(2, (800, 600)), META)
    eu.drain()
    before = eu.decision("ds/images/train/b.jpg", put)
    assert before["labels"]["status"] == "unlabelled"
    assert label_counters(eu) == {("label_status", "unlabelled"): 1}

    eu.put("ds/labels/train/b.txt", b"1 0.5 0.5 0.2 0.2\n1 0.2 0.2 0.1 0.1\n")
    eu.drain()
    d = eu.decision("ds/images/train/b.jpg", put)
    assert (
        d["labels"]["status"] == "labelled" and [o["class"] for o in d["labels"]["objects"]] == ["spoon"] * 2
    )
    assert d["metadata"]["classes"] == ["spoon"]
    assert eu.ledger.get_image(d["image_id"])["labels"] == d["labels"]
    split = d["split"]
    assert label_counters(eu) == {
        ("class", "spoon"): 1,
        ("class_instances", "spoon"): 2,
        ("label_status", "labelled"): 1,
        ("split_class", f"{split}|spoon"): 1,
        ("split_class_instances", f"{split}|spoon"): 2,
    }
    assert eu.landing() == []


def test_replayed_and_reordered_label_and_image_events_end_in_the_same_state(eu):
    eu.put("ds/data.yaml", DATA_YAML)
    eu.drain()
    eu.put("ds/labels/val/c.txt", b"0 0.5 0.5 0.4 0.4\n")
    put = eu.put("ds/images/val/c.jpg", jpeg(3, (800, 600)), META)
    label_event, image_event = capture(eu)
    deliver(eu, [image_event, label_event])  # the image first, then its label
    state = (label_counters(eu), eu.curated(), eu.decision("ds/images/val/c.jpg", put)["labels"])
    assert state[2]["status"] == "labelled" and state[0][("class_instances", "cup")] == 1
    deliver(eu, [label_event, image_event, label_event, image_event])  # replays, in either order
    assert (label_counters(eu), eu.curated(), eu.decision("ds/images/val/c.jpg", put)["labels"]) == state
    assert eu.landing() == []


def test_a_class_map_arriving_after_a_yolo_image_resolves_its_class_ids(eu):
    eu.put("ds/labels/d.txt", b"0 0.5 0.5 0.4 0.4\n")
    eu.drain()
    put = eu.put("ds/images/d.jpg", jpeg(4, (800, 600)), META)
    eu.drain()
    first = eu.decision("ds/images/d.jpg", put)["labels"]
    assert first["status"] == "invalid" and first["warnings"][0].startswith("no_class_map")
    eu.put("ds/data.yaml", DATA_YAML)
    eu.drain()
    labels = eu.decision("ds/images/d.jpg", put)["labels"]
    assert labels["status"] == "labelled" and labels["objects"][0]["class"] == "cup"
    assert label_counters(eu)[("label_status", "labelled")] == 1
    assert ("label_status", "invalid") not in label_counters(eu)
    assert eu.items("NEEDMAP#") == []


def coco_file(images: list[tuple[int, str, tuple[int, int]]], annotations: list[dict]) -> bytes:
    return json.dumps(
        {
            "images": [{"id": i, "file_name": n, "width": w, "height": h} for i, n, (w, h) in images],
            "categories": [{"id": 3, "name": "car"}, {"id": 18, "name": "dog"}],
            "annotations": annotations,
        }
    ).encode()


def test_a_coco_file_after_its_images_re_evaluates_every_image_it_covers(eu):
    puts = {
        n: eu.put(f"coco/images/{n}", jpeg(10 + i, (800, 600)), META)
        for i, n in enumerate(["e.jpg", "f.jpg"])
    }
    eu.drain()
    eu.put(
        "coco/annotations/instances.json",
        coco_file(
            [(1, "e.jpg", (800, 600)), (2, "f.jpg", (800, 600)), (3, "missing.jpg", (800, 600))],
            [
                {"id": 1, "image_id": 1, "category_id": 18, "bbox": [80, 60, 160, 120], "iscrowd": 0},
                {"id": 2, "image_id": 1, "category_id": 3, "bbox": [0, 0, 400, 300], "iscrowd": 1},
                {"id": 3, "image_id": 2, "category_id": 99, "bbox": [0, 0, 10, 10]},
            ],
        ),
    )
    eu.drain()
    e = eu.decision("coco/images/e.jpg", puts["e.jpg"])["labels"]
    assert e["format"] == "coco" and e["status"] == "labelled"
    assert [(o["class"], o["box"], o["iscrowd"]) for o in e["objects"]] == [
        ("dog", [0.2, 0.2, 0.2, 0.2], 0),
        ("car", [0.25, 0.25, 0.5, 0.5], 1),
    ]
    f = eu.decision("coco/images/f.jpg", puts["f.jpg"])["labels"]
    assert f["status"] == "invalid" and f["warnings"] == [
        "unknown_class: annotation 3: class id 99 not in the class map"
    ]
    assert label_counters(eu)[("label_status", "labelled")] == 1
    assert label_counters(eu)[("label_status", "invalid")] == 1


DOG = {"category_id": 18, "bbox": [80, 60, 160, 120]}


def _coco_versions(eu) -> tuple[dict[str, object], list[str]]:
    """Two images, then two versions of their COCO file (the second no longer lists g.jpg), each
    version's notification taken off the queue: [v1, v2]."""
    puts = {
        n: eu.put(f"cv/images/{n}", jpeg(60 + i, (800, 600)), META) for i, n in enumerate(["g.jpg", "h.jpg"])
    }
    eu.drain()
    both = [(1, "g.jpg", (800, 600)), (2, "h.jpg", (800, 600))]
    both_dogs = [{"id": 1, "image_id": 1, **DOG}, {"id": 2, "image_id": 2, **DOG}]
    v1 = eu.put("cv/annotations/instances.json", coco_file(both, both_dogs))
    (first,) = capture(eu)
    v2 = eu.put("cv/annotations/instances.json", coco_file(both[1:], both_dogs[1:]))
    (second,) = capture(eu)
    return puts, [as_s3_sends(first, v1["VersionId"], 1), as_s3_sends(second, v2["VersionId"], 2)]


def as_s3_sends(body: str, version_id: str, n: int) -> str:
    """The notification with what S3 puts in every record of a versioned bucket and moto leaves
    out: the object's ``versionId`` and a ``sequencer`` increasing per key."""
    event = json.loads(body)
    event["Records"][0]["s3"]["object"].update(versionId=version_id, sequencer=f"0064F1A2B3C4D5E6{n:02X}")
    return json.dumps(event)


def test_a_new_version_of_a_coco_file_takes_the_labels_off_the_images_it_no_longer_lists(eu):
    puts, (v1, v2) = _coco_versions(eu)
    deliver(eu, [v1])
    assert eu.decision("cv/images/g.jpg", puts["g.jpg"])["labels"]["status"] == "labelled"
    deliver(eu, [v2])
    g = eu.decision("cv/images/g.jpg", puts["g.jpg"])["labels"]
    h = eu.decision("cv/images/h.jpg", puts["h.jpg"])["labels"]
    assert g["status"] == "unlabelled" and g["objects"] == []
    assert h["status"] == "labelled" and [o["class"] for o in h["objects"]] == ["dog"]
    counted = label_counters(eu)
    assert counted[("label_status", "labelled")] == 1 and counted[("label_status", "unlabelled")] == 1
    assert counted[("class_instances", "dog")] == 1


def test_coco_versions_delivered_out_of_order_or_twice_end_as_the_latest_says(eu):
    puts, (v1, v2) = _coco_versions(eu)
    deliver(eu, [v2, v1, v2, v1])  # the later version first, then both replayed
    assert eu.decision("cv/images/g.jpg", puts["g.jpg"])["labels"]["status"] == "unlabelled"
    assert eu.decision("cv/images/h.jpg", puts["h.jpg"])["labels"]["status"] == "labelled"
    counted = label_counters(eu)
    assert counted[("label_status", "labelled")] == 1 and counted[("class_instances", "dog")] == 1


def test_a_voc_annotation_with_a_wrong_declared_size_is_invalid_and_the_image_accepted_with_warnings(eu):
    eu.put(
        "voc/Annotations/g.xml",
        b"<annotation><size><width>640</width><height>480</height></size><object><name>car</name>"
        b"<bndbox><xmin>1</xmin><ymin>1</ymin><xmax>100</xmax><ymax>100</ymax></bndbox></object></annotation>",
    )
    eu.drain()
    put = eu.put("voc/JPEGImages/g.jpg", jpeg(20, (800, 600)), META)
    eu.drain()
    d = eu.decision("voc/JPEGImages/g.jpg", put)
    assert d["status"] == "accepted"
    assert d["labels"]["status"] == "invalid" and d["labels"]["warnings"][0].startswith("size_mismatch")


class TestAQuarantiningPolicy:
    """``labels = "quarantine"`` (in [defaults] or a source's policy) holds an image whose labels
    have no valid box."""

    @pytest.fixture
    def config(self, tmp_path, monkeypatch):
        text = default_config_path().read_text(encoding="utf-8")
        strict = text.replace("[defaults]\n", '[defaults]\nlabels = "quarantine"\n', 1)
        assert strict != text
        path = tmp_path / "lenslog.toml"
        path.write_text(strict, encoding="utf-8")
        monkeypatch.setenv("LENSLOG_CONFIG_PATH", str(path))
        return load_config(path)

    def test_an_image_with_only_invalid_labels_is_quarantined_with_the_reason(self, eu):
        eu.put("q/labels/h.txt", b"0 0.5 0.5 0.2 0.2\n")  # no class map anywhere
        eu.drain()
        put = eu.put("q/images/h.jpg", jpeg(21, (800, 600)), META)
        eu.drain()
        d = eu.decision("q/images/h.jpg", put)
        assert d["status"] == "quarantined" and d["reasons"] == ["labels_invalid"]
        assert d["reason_details"][0].startswith("labels_invalid: no_class_map")
        assert d["labels"]["status"] == "invalid"


def test_an_unreadable_coco_file_is_quarantined_with_its_reason_and_nothing_is_lost(eu):
    eu.put("bad/annotations.json", b'{"images": [' + b"[" * 50_000)
    eu.drain()
    assert eu.landing() == []
    kept = [k for k in eu.quarantine() if k.startswith("labels_invalid/")]
    assert len(kept) == 2 and kept[1].endswith(".reason.json")
    reason = json.loads(eu.s3.get_object(Bucket=eu.res.quarantine_bucket, Key=kept[1])["Body"].read())
    assert reason["status"] == "invalid" and reason["reasons"][0].split(":")[0] in ("too_deep", "malformed")


def test_a_json_that_is_no_coco_file_is_still_the_sidecar_of_its_image(eu):
    put = eu.put("cam/photo", jpeg(22, (800, 600)))
    eu.drain()
    assert eu.decision("cam/photo", put)["status"] == "quarantined"  # no camera or time yet
    eu.put(
        "cam/photo.json", json.dumps({"camera_id": "cam-01", "captured_at": "2026-11-18T09:00:00Z"}).encode()
    )
    eu.drain()
    assert eu.ledger.get_pending(eu.res.landing_bucket, "cam/photo") is None
    assert eu.landing() == []


def test_sidecar_labels_are_native_and_take_precedence(eu):
    eu.put("s/labels/i.txt", b"0 0.5 0.5 0.2 0.2\n")
    sidecar = {
        "camera_id": "cam-01",
        "captured_at": "2026-11-18T09:00:00Z",
        "labels": [{"class": "forklift", "box": [0.5, 0.5, 0.5, 0.5]}],
    }
    eu.put_sidecar("s/images/i.jpg", sidecar)
    eu.drain()
    put = eu.put("s/images/i.jpg", jpeg(23, (800, 600)))
    eu.drain()
    d = eu.decision("s/images/i.jpg", put)
    assert d["labels"]["format"] == "sidecar" and d["labels"]["objects"][0]["class"] == "forklift"
    assert d["labels"]["warnings"] == ["superseded: yolo s/labels/i.txt"]


def test_erasing_a_labelled_image_leaves_nothing_naming_it_and_withdraws_its_label_counts(eu, stack):
    from lenslog.runtime import erasure_service
    from lenslog.services.erasure import ErasureRequest

    eu.put("ds/data.yaml", DATA_YAML)
    eu.put("ds/labels/e.txt", b"0 0.5 0.5 0.2 0.2\n")
    eu.drain()
    put = eu.put("ds/images/e.jpg", jpeg(30, (800, 600)), META)
    eu.drain()
    image_id = eu.decision("ds/images/e.jpg", put)["image_id"]
    assert label_counters(eu)[("class_instances", "cup")] == 1
    result = erasure_service(stack.settings("eu")).erase(
        ErasureRequest(subject="image", value=image_id, requested_by="dpo@example.com", reason="art. 17")
    )
    assert result.verified, result.leftovers
    assert eu.items("STEM#") == []  # the stem item named no other image: deleted
    assert ("class_instances", "cup") not in label_counters(eu)


def test_the_audit_api_shows_an_images_labels_and_finds_images_by_a_labelled_class(eu, stack, monkeypatch):
    from lenslog import runtime
    from tests.component.test_audit_api import Api

    eu.put("api/data.yaml", DATA_YAML)
    eu.put("api/labels/f.txt", b"1 0.5 0.5 0.2 0.2\n")
    eu.drain()
    put = eu.put("api/images/f.jpg", jpeg(31, (800, 600)), META)
    eu.put("api/images/g.jpg", jpeg(32, (800, 600)), META)  # unlabelled
    eu.drain()
    image_id = eu.decision("api/images/f.jpg", put)["image_id"]
    for k, v in stack.settings("eu").to_env().items():
        monkeypatch.setenv(k, v)
    runtime.audit_service.cache_clear()
    try:
        api = Api(stack.settings("eu"))
        status, body = api.get(f"/images/{image_id}")
        assert status == 200 and body["labels"]["status"] == "labelled"
        assert body["labels"]["objects"] == [{"class": "spoon", "box": [0.5, 0.5, 0.2, 0.2], "kind": "box"}]
        status, page = api.get("/images", class_="spoon")
        assert status == 200 and [i["image_id"] for i in page["items"]] == [image_id]
    finally:
        runtime.audit_service.cache_clear()


def test_an_image_with_many_classes_fits_its_transaction_and_its_erasure_lowers_the_same_counters(eu, stack):
    """30 boxes of 30 classes, with the crop views' index entries: more counters than one
    DynamoDB transaction holds at the default budget (20 classes fitted once the index moved to
    16-bit bands, which file fewer items an image). The image is still decided; its labels keep
    the smaller budget they were counted with, totals stay exact under label_overflow, and its
    erasure takes out exactly what it added."""
    from lenslog.runtime import erasure_service
    from lenslog.services.erasure import ErasureRequest

    boxes = b"".join(
        b"<object><name>c%02d</name><bndbox><xmin>%d</xmin><ymin>%d</ymin><xmax>%d</xmax><ymax>%d</ymax>"
        b"</bndbox></object>"
        % (i, 10 + 30 * (i % 8), 10 + 40 * (i // 8), 35 + 30 * (i % 8), 45 + 40 * (i // 8))
        for i in range(30)
    )
    size = b"<size><width>800</width><height>600</height></size>"
    eu.put("many/Annotations/m.xml", b"<annotation>" + size + boxes + b"</annotation>")
    eu.drain()
    put = eu.put("many/JPEGImages/m.jpg", jpeg(20, (800, 600)), META)
    eu.drain()
    d = eu.decision("many/JPEGImages/m.jpg", put)
    assert d is not None and d["status"] == "accepted"
    assert len(d["labels"]["objects"]) == 30
    assert d["labels"]["counter_budget"] is not None and d["labels"]["counter_budget"] < 40
    counted = label_counters(eu)
    instances = sum(v for (dim, _), v in counted.items() if dim == "class_instances")
    overflow = eu.counters().get(("label_overflow", "class_instances"), 0)
    assert instances + overflow == 30 and overflow > 0  # exact totals, the rest visible as overflow

    erasure_service(stack.settings("eu")).erase(
        ErasureRequest(subject="image", value=d["image_id"], requested_by="dpo@example.com", reason="t")
    )
    assert label_counters(eu) == {}
    assert not {k: v for k, v in eu.counters().items() if k[0] == "label_overflow" and v}


def test_the_audit_api_gives_label_statistics_of_the_cell_per_split_and_of_one_camera(eu, stack, monkeypatch):
    from lenslog import runtime
    from tests.component.test_audit_api import Api

    eu.put("stats/data.yaml", DATA_YAML)
    eu.put("stats/labels/a.txt", b"0 0.5 0.5 0.2 0.2\n0 0.2 0.2 0.1 0.1\n")  # two cups
    eu.put("stats/labels/b.txt", b"1 0.5 0.5 0.4 0.4\n")  # a spoon
    eu.drain()
    eu.put("stats/images/a.jpg", jpeg(41, (800, 600)), META)  # cam-01
    eu.put("stats/images/b.jpg", jpeg(42, (800, 600)), {**META, "camera-id": "cam-02"})
    eu.put("stats/images/c.jpg", jpeg(43, (800, 600)), META)  # cam-01, unlabelled
    eu.drain()
    for k, v in stack.settings("eu").to_env().items():
        monkeypatch.setenv(k, v)
    runtime.audit_service.cache_clear()
    try:
        api = Api(stack.settings("eu"))
        window = {"from_": "2026-11-01", "to": "2026-11-30"}
        status, cell = api.get("/labels", **window)
        assert status == 200 and cell["source"] == "counters" and cell["from"] == "2026-11-01"
        labels = cell["labels"]
        assert labels["status"] == {"labelled": 2, "null": 0, "unlabelled": 1, "invalid": 0}
        classes = {c["name"]: c for c in labels["classes"]}
        assert (classes["cup"]["images"], classes["cup"]["instances"]) == (1, 2)
        assert (classes["spoon"]["images"], classes["spoon"]["instances"]) == (1, 1)
        for c in classes.values():  # per split: the split each image was given
            assert sum(c["images_by_split"].values()) == c["images"]
        assert labels["drift"] == [] and labels["images"] == 3

        status, cam = api.get("/labels", camera_id="cam-01", **window)
        assert status == 200 and cam["source"] == "records" and cam["camera_id"] == "cam-01"
        assert cam["records_read"] == 2 and not cam["truncated"]
        assert [c["name"] for c in cam["labels"]["classes"]] == ["cup"]  # cam-02's spoon is not here
        assert cam["labels"]["status"]["unlabelled"] == 1 and cam["labels"]["box_sizes"]["medium"] >= 1

        status, other = api.get("/labels", camera_id="cam-99", **window)
        assert status == 200 and other["records_read"] == 0 and other["labels"]["classes"] == []
        status, err = api.get("/labels", camera_id="not a camera")
        assert status == 422 and err["fields"][0]["field"] == "camera_id"
    finally:
        runtime.audit_service.cache_clear()
