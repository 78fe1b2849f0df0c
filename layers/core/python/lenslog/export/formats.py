"""The training formats, as pure functions over a snapshot's manifest lines.

- **YOLO** (Ultralytics): ``data.yaml`` (``path``, ``train``/``val``/``test`` folders, ``names``),
  one ``labels/<split>/<stem>.txt`` per image with ``<class index> cx cy w h`` normalised, an
  empty file for a null image. Boxes are in the upright frame; Ultralytics applies the EXIF
  orientation when it loads an image, so they match what it trains on.
- **COCO** (pycocotools, FiftyOne, supervision): ``annotations/instances_<split>.json``, boxes
  ``[x, y, w, h]`` in pixels of the upright image, category ids from 1 in class-name order.
- **Augmented manifest** (SageMaker, Rekognition Custom Labels): one JSON line per image with its
  ``source-ref`` (``s3://``) and the Ground Truth object-detection label attribute.

Which images: labelled ones, and those labelled as holding nothing (``null``); unlabelled images
only when asked for, then as null images. Images whose labels were refused (``invalid``) are never
exported as training images (their boxes are unknown, and "nothing here" would be a lie).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lenslog.domain.snapshot import SPLITS

EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "BMP": "bmp"}
LABEL_ATTRIBUTE = "bounding-box"


def exported(line: Mapping[str, Any], include_unlabelled: bool) -> bool:
    status = line["labels"]["status"]
    return status in ("labelled", "null") or (include_unlabelled and status == "unlabelled")


def file_name(line: Mapping[str, Any]) -> str:
    """``<image id>.<ext>``: content-addressed, so one name per image whatever its upload key."""
    ext = EXTENSIONS.get(str(line["image"].get("format") or "").upper())
    if ext is None:
        key = str(line["s3"]["key"])
        ext = key.rsplit(".", 1)[-1].lower() if "." in key.rsplit("/", 1)[-1] else "jpg"
    return f"{line['image_id']}.{ext}"


def class_names(lines: Iterable[Mapping[str, Any]]) -> list[str]:
    return sorted({o["class"] for line in lines for o in line["labels"]["objects"]})


def yolo_label(line: Mapping[str, Any], index: Mapping[str, int]) -> str:
    rows = []
    for o in line["labels"]["objects"]:
        cx, cy, w, h = (min(max(float(v), 0.0), 1.0) for v in o["box"])
        rows.append(f"{index[o['class']]} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n")
    return "".join(rows)


def _yaml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def yolo_data_yaml(root: str, names: Sequence[str], snapshot_id: str, content_hash: str | None) -> str:
    lines = [
        f"# lenslog snapshot {snapshot_id} ({content_hash or 'building'})",
        f"path: {_yaml_str(root)}",
        *(f"{split}: images/{split}" for split in SPLITS),
        "names:",
        *(f"  {i}: {_yaml_str(name)}" for i, name in enumerate(names)),
    ]
    if not names:
        lines[-1] = "names: {}"
    return "\n".join(lines) + "\n"


def coco_document(
    lines: Sequence[Mapping[str, Any]], names: Sequence[str], split: str, snapshot_id: str
) -> dict[str, Any]:
    categories = [{"id": i + 1, "name": n, "supercategory": "object"} for i, n in enumerate(names)]
    category = {n: i + 1 for i, n in enumerate(names)}
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        w, h = int(line["image"]["width"]), int(line["image"]["height"])
        images.append(
            {
                "id": number,
                "file_name": file_name(line),
                "width": w,
                "height": h,
                "lenslog_id": line["image_id"],
            }
        )
        for o in line["labels"]["objects"]:
            cx, cy, bw, bh = (float(v) for v in o["box"])
            x0, y0 = max(cx - bw / 2, 0.0) * w, max(cy - bh / 2, 0.0) * h
            x1, y1 = min(cx + bw / 2, 1.0) * w, min(cy + bh / 2, 1.0) * h
            box = [round(x0, 3), round(y0, 3), round(x1 - x0, 3), round(y1 - y0, 3)]
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": number,
                    "category_id": category[o["class"]],
                    "bbox": box,
                    "area": round(box[2] * box[3], 3),
                    "iscrowd": 0,
                    "segmentation": [],
                }
            )
    return {
        "info": {"description": f"lenslog snapshot {snapshot_id}, split {split}", "version": snapshot_id},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }


def augmented_manifest_line(
    line: Mapping[str, Any], names: Sequence[str], snapshot_id: str, created: str
) -> dict[str, Any]:
    """One image in SageMaker Ground Truth's object-detection output shape."""
    index = {n: i for i, n in enumerate(names)}
    w, h = int(line["image"]["width"]), int(line["image"]["height"])
    annotations = []
    for o in line["labels"]["objects"]:
        cx, cy, bw, bh = (float(v) for v in o["box"])
        left, top = max(cx - bw / 2, 0.0) * w, max(cy - bh / 2, 0.0) * h
        annotations.append(
            {
                "class_id": index[o["class"]],
                "left": round(left),
                "top": round(top),
                "width": round(min(cx + bw / 2, 1.0) * w - left),
                "height": round(min(cy + bh / 2, 1.0) * h - top),
            }
        )
    classes = sorted({o["class"] for o in line["labels"]["objects"]}, key=index.__getitem__)
    return {
        "source-ref": f"s3://{line['s3']['bucket']}/{line['s3']['key']}",
        LABEL_ATTRIBUTE: {"image_size": [{"width": w, "height": h, "depth": 3}], "annotations": annotations},
        f"{LABEL_ATTRIBUTE}-metadata": {
            "objects": [{"confidence": 1} for _ in annotations],
            "class-map": {str(index[c]): c for c in classes},
            "type": "groundtruth/object-detection",
            "human-annotated": "yes",
            "creation-date": created,
            "job-name": f"lenslog-{snapshot_id}",
        },
        "lenslog": {
            "image_id": line["image_id"],
            "sha256": line["sha256"],
            "split": line["split"],
            "labels": line["labels"]["status"],
        },
    }
