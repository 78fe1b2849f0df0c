"""Labels at the door: what reading, pairing and validating labels costs the gate.

python -m bench.labels [--images 24] [--repeat 5]

1. **Parse cost per image** of each carrier, in microseconds: a YOLO txt and a VOC XML of 10 boxes,
   and a COCO file's share per image (a 2,000-image, 14,000-box file split once, divided by its
   images) plus the validation of one image's boxes against its decoded size.
2. **The gate in-process**: ``gate.inspect`` of the real photos of tests/data/datasets with and
   without parsing and validating their own label files (interleaved image by image, best of
   ``repeat``): the domain cost of labels, relative to the gate's.
3. **The gate's rate under moto**: the ingest service deciding generated 1280x960 photos from a
   landing bucket (S3, DynamoDB transaction, curated copy, landing delete), half of them with a YOLO
   label file uploaded first (the label file's own event is counted in the labelled half's time),
   interleaved, on the same stack. The target: the rate with labels within 10% of the rate without.

Every figure is a ratio measured in the same run, so a loaded machine slows both sides alike; the
machine's load average is printed with them.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DATASETS = Path(__file__).resolve().parents[1] / "tests" / "data" / "datasets"


def best(fn: Callable[[], Any], repeat: int, number: int = 1) -> float:
    """Seconds per call: the best of ``repeat`` runs of ``number`` calls."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return min(times)


def parse_costs(repeat: int) -> dict[str, float]:
    from lenslog.domain.labels import coco, validate, voc, yolo

    names = {str(i): f"class{i}" for i in range(10)}
    yolo_txt = "".join(f"{i} 0.{i + 1}5 0.5 0.05 0.1\n" for i in range(10)).encode()
    voc_xml = (
        "<annotation><size><width>1280</width><height>960</height></size>"
        + "".join(
            f"<object><name>class{i}</name><difficult>0</difficult><bndbox><xmin>{10 + i * 100}</xmin>"
            f"<ymin>100</ymin><xmax>{60 + i * 100}</xmax><ymax>200</ymax></bndbox></object>"
            for i in range(10)
        )
        + "</annotation>"
    ).encode()
    n_images = 2000
    coco_doc = json.dumps(
        {
            "images": [
                {"id": i, "file_name": f"{i}.jpg", "width": 1280, "height": 960} for i in range(n_images)
            ],
            "categories": [{"id": i * 3 + 1, "name": f"class{i}"} for i in range(10)],
            "annotations": [
                {
                    "id": i * 7 + k,
                    "image_id": i,
                    "category_id": k * 3 + 1,
                    "bbox": [k * 100, 10, 50, 80],
                    "iscrowd": 0,
                }
                for i in range(n_images)
                for k in range(7)
            ],
        }
    ).encode()
    y = yolo.parse(yolo_txt, "a.txt")
    v = voc.parse(voc_xml, "a.xml")
    per_image, _ = coco.split(coco.load(coco_doc), "a.json")
    one = per_image["0.jpg"]
    return {
        "yolo_parse_us": best(lambda: yolo.parse(yolo_txt, "a.txt"), repeat, 200) * 1e6,
        "yolo_validate_us": best(lambda: validate.resolve([y], 1280, 960, id_map=names), repeat, 200) * 1e6,
        "voc_parse_us": best(lambda: voc.parse(voc_xml, "a.xml"), repeat, 200) * 1e6,
        "voc_validate_us": best(lambda: validate.resolve([v], 1280, 960), repeat, 200) * 1e6,
        "coco_split_per_image_us": best(lambda: coco.split(coco.load(coco_doc), "a.json"), repeat)
        * 1e6
        / n_images,
        "coco_validate_us": best(lambda: validate.resolve([one], 1280, 960), repeat, 200) * 1e6,
        "coco_file_mb": len(coco_doc) / 1e6,
    }


def in_process(repeat: int) -> dict[str, float]:
    """The gate's domain work with and without the labels of each real photo."""
    from lenslog.config import load_config
    from lenslog.domain import gate
    from lenslog.domain.labels import classmap, coco, keys, validate, voc, yolo

    config = load_config()
    yaml_names = classmap.parse_data_yaml((DATASETS / "yolo" / "data.yaml").read_bytes())
    coco_json = DATASETS / "coco" / "annotations" / "instances_default.json"
    coco_per_image, _ = coco.split(
        coco.load(coco_json.read_bytes()), "coco/annotations/instances_default.json"
    )
    photos: list[tuple[bytes, Callable[[], list[Any]]]] = []
    for path in sorted(DATASETS.rglob("*.jpg")):
        rel = path.relative_to(DATASETS).as_posix()
        label: Callable[[], list[Any]]
        if rel.startswith("yolo/"):
            txt = (DATASETS / keys.stem(rel.replace("/images/", "/labels/"))).with_suffix(".txt").read_bytes()
            label = lambda txt=txt: [yolo.parse(txt, "l.txt")]  # noqa: E731
        elif rel.startswith("voc/"):
            xml = (
                (DATASETS / keys.stem(rel.replace("JPEGImages", "Annotations")))
                .with_suffix(".xml")
                .read_bytes()
            )
            label = lambda xml=xml: [voc.parse(xml, "l.xml")]  # noqa: E731
        else:
            carried = coco_per_image[path.name]
            label = lambda carried=carried: [carried]  # noqa: E731
        photos.append((path.read_bytes(), label))

    # The two costs add up (labels change nothing of the gate's own work), so each is measured
    # alone, image by image, as its best of ``repeat`` runs: on a loaded machine the difference of
    # two noisy end-to-end timings is noise, the best of each is not.
    t_without = t_with = 0.0
    for data, label in photos:
        inspection = gate.inspect(gate.GateInput(key="cam/x.jpg", data=data), config)
        info, orientation = inspection.info, inspection.metadata.orientation
        gate_s = best(
            lambda data=data: gate.inspect(gate.GateInput(key="cam/x.jpg", data=data), config), repeat
        )
        label_s = best(
            lambda label=label, info=info, orientation=orientation: validate.resolve(
                label(), info.width, info.height, orientation, id_map=yaml_names
            ),
            repeat,
            20,
        )
        t_without += gate_s
        t_with += gate_s + label_s
    return {
        "photos": len(photos),
        "gate_ms_per_image": t_without * 1e3 / len(photos),
        "gate_with_labels_ms_per_image": t_with * 1e3 / len(photos),
        "in_process_rate_ratio": t_without / t_with,
    }


def under_moto(n_images: int) -> dict[str, float]:
    """The ingest service's rate with and without labels, on one moto stack, interleaved."""
    from moto import mock_aws

    from bench.images import photo
    from lenslog import runtime
    from lenslog.config import load_config
    from lenslog.domain.models import ObjectRef
    from lenslog.local.aws import LOCAL_CREDENTIALS, provision

    os.environ.update(LOCAL_CREDENTIALS)
    bodies = []
    for seed in range(n_images):
        buf = io.BytesIO()
        photo(1000 + seed, (1280, 960)).save(buf, "JPEG", quality=88)
        bodies.append(buf.getvalue())
    meta = {"camera-id": "cam-01", "captured-at": "2026-11-18T09:15:00+01:00"}
    with mock_aws():
        runtime.client.cache_clear()
        runtime.ingest_service.cache_clear()
        stack = provision(load_config(), endpoint_url=None)
        service = runtime.ingest_service(stack.settings("eu"))
        calls: list[str] = []
        items: list[int] = []

        def count(params: Any, model: Any, **_: Any) -> None:
            calls.append(model.name)
            if model.name == "TransactWriteItems":
                items.append(len(params.get("TransactItems", [])))

        for c in {
            id(service.store.client): service.store.client,
            id(service.ledger.client): service.ledger.client,
        }.values():
            c.meta.events.register("before-parameter-build.*.*", count)
        s3 = stack.client("s3", "eu")
        bucket = stack.cells["eu"].landing_bucket
        s3.put_object(Bucket=bucket, Key="ds/data.yaml", Body=b"names: [car, person, dog]\n")
        service.handle(ObjectRef(bucket=bucket, key="ds/data.yaml"))
        # a warm-up image each way, not timed (first-call costs: clients, imports)
        spent = {"with": 0.0, "without": 0.0, "label_events": 0.0}
        requests = {"with": 0, "without": 0}
        txn_items = {"with": 0, "without": 0}
        for i, body in enumerate(bodies):
            labelled = i % 2 == 0
            split = "with" if labelled else "without"
            key = f"ds/images/{split}-{i}.jpg"
            if labelled:
                label_key = f"ds/labels/{split}-{i}.txt"
                s3.put_object(
                    Bucket=bucket,
                    Key=label_key,
                    Body=b"0 0.5 0.5 0.2 0.2\n1 0.3 0.3 0.1 0.2\n2 0.7 0.6 0.2 0.1\n",
                )
                calls.clear()
                t0 = time.perf_counter()
                service.handle(ObjectRef(bucket=bucket, key=label_key))
                dt = time.perf_counter() - t0
                if i >= 2:
                    spent["label_events"] += dt
                    spent["with"] += dt
                    requests["with"] += len(calls)
            s3.put_object(Bucket=bucket, Key=key, Body=body, Metadata=meta)
            calls.clear()
            items.clear()
            t0 = time.perf_counter()
            decision = service.handle(ObjectRef(bucket=bucket, key=key))
            dt = time.perf_counter() - t0
            assert decision is not None and decision.status == "accepted", decision
            assert (decision.labels.status == "labelled") == labelled
            if i >= 2:
                spent[split] += dt
                requests[split] += len(calls)
                txn_items[split] += sum(items)
        runtime.client.cache_clear()
        runtime.ingest_service.cache_clear()
    timed = (n_images - 2) // 2
    rate_with, rate_without = timed / spent["with"], timed / spent["without"]
    return {
        "images_per_side": timed,
        "rate_without_per_s": rate_without,
        "rate_with_labels_per_s": rate_with,
        "label_event_ms": spent["label_events"] * 1e3 / timed,
        "requests_per_image_without": requests["without"] / timed,
        "requests_per_image_with_labels": requests["with"] / timed,
        "transaction_items_without": txn_items["without"] / timed,
        "transaction_items_with_labels": txn_items["with"] / timed,
        "moto_rate_ratio": rate_with / rate_without,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.labels")
    parser.add_argument(
        "--images", type=int, default=24, help="images through the moto stack (half labelled)"
    )
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    load = os.getloadavg()
    out: dict[str, Any] = {"load_average": [round(x, 2) for x in load], "cpus": os.cpu_count()}
    out["parse"] = parse_costs(args.repeat)
    out["in_process"] = in_process(args.repeat)
    out["moto"] = under_moto(max(6, args.images))
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    p, g, m = out["parse"], out["in_process"], out["moto"]
    print(f"load average {out['load_average']} -> {out['load_average_after']} on {out['cpus']} CPUs")
    lines = [
        "parse + validate per image: "
        f"YOLO {p['yolo_parse_us']:.0f} + {p['yolo_validate_us']:.0f} us, "
        f"VOC {p['voc_parse_us']:.0f} + {p['voc_validate_us']:.0f} us, "
        f"COCO {p['coco_split_per_image_us']:.0f} (share of a {p['coco_file_mb']:.1f} MB file) "
        f"+ {p['coco_validate_us']:.0f} us",
        f"gate in-process on {g['photos']} real photos: {g['gate_ms_per_image']:.2f} ms/image "
        f"without labels, {g['gate_with_labels_ms_per_image']:.2f} with; "
        f"rate ratio with/without {g['in_process_rate_ratio']:.3f}",
        f"gate under moto, {m['images_per_side']} images each way: "
        f"{m['rate_without_per_s']:.1f} images/s without, {m['rate_with_labels_per_s']:.1f} with labels "
        f"(label file event {m['label_event_ms']:.1f} ms); rate ratio {m['moto_rate_ratio']:.3f} "
        "(target >= 0.90)",
        f"AWS requests per image {m['requests_per_image_without']:.1f} -> "
        f"{m['requests_per_image_with_labels']:.1f} (label file included); transaction items "
        f"{m['transaction_items_without']:.1f} -> {m['transaction_items_with_labels']:.1f}",
    ]
    print("\n".join(lines))
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
