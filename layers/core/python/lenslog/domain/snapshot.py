"""Snapshots as values: which image records a snapshot takes, the manifest line of each, the counts
and the content hash. Pure functions over the records' JSON documents (the ``doc`` attribute of an
image record); the service (``lenslog.services.snapshots``) reads and writes them.

A manifest line never holds anything of the snapshot itself (its id, its time), so that the same
images with the same labels and splits give the same lines, the same parts and the same content
hash, whenever and however often they are taken.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SPLITS = ("train", "val", "test")
DATASET_STATUSES = ("accepted", "near_duplicate")  # near duplicates linked to their cluster (policy link)
LABEL_STATUSES = ("labelled", "null", "unlabelled", "invalid")
SNAPSHOT_ID_PATTERN = r"^snap-[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
FILTER_VALUE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
MAX_FILTERS = 16

# The metadata a manifest line carries: what a training job groups or weighs by. Never GPS, serial
# numbers, operators or consent ids (personal or identifying; they stay in the ledger).
MANIFEST_METADATA = (
    "camera_id",
    "captured_at",
    "source_id",
    "source_type",
    "site",
    "shift",
    "scene",
    "weather",
    "conditions",
    "classes",
)

# filter key -> how a record's line is read for it
FILTER_KEYS = ("camera_id", "source_id", "source_type", "site", "split", "status", "class", "labels")


class SnapshotInputError(ValueError):
    """A snapshot request is invalid; ``field`` names what (``filter``, ``name``...)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def parse_filters(pairs: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """``k=v`` pairs into filters: the same key given twice is either value, different keys all
    hold. Unknown keys and malformed values are refused, naming them."""
    out: dict[str, list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().lower()
        if not sep or not key:
            raise SnapshotInputError("filter", f"expected KEY=VALUE, got {pair!r}")
        out.setdefault(key, []).append(value.strip())
    return check_filters(out)


def check_filters(filters: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    if sum(len(v) for v in filters.values()) > MAX_FILTERS:
        raise SnapshotInputError("filter", f"at most {MAX_FILTERS} filter values")
    checked: dict[str, tuple[str, ...]] = {}
    for key, values in sorted(filters.items()):
        if key not in FILTER_KEYS:
            raise SnapshotInputError("filter", f"unknown key {key!r} (one of {', '.join(FILTER_KEYS)})")
        allowed = {"split": SPLITS, "status": DATASET_STATUSES, "labels": LABEL_STATUSES}.get(key)
        for value in values:
            if allowed is not None and value not in allowed:
                raise SnapshotInputError(
                    "filter", f"{key} must be one of {', '.join(allowed)}, got {value!r}"
                )
            if not re.match(FILTER_VALUE_PATTERN, value):
                raise SnapshotInputError("filter", f"{key}: invalid value {value!r}")
        checked[key] = tuple(sorted(set(values)))
    return checked


def config_version(config_json: str) -> str:
    """The version of the configuration a snapshot was taken under: a digest of the validated
    config (splits, policies and thresholds decide what a snapshot holds)."""
    return "cfg-" + hashlib.sha256(config_json.encode()).hexdigest()[:16]


def labels_of(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The record's labels as the labels contract spells them; a missing ``labels`` is unlabelled."""
    labels = doc.get("labels")
    if not isinstance(labels, dict):
        return {"format": None, "status": "unlabelled", "objects": [], "warnings": []}
    objects = [
        {"class": str(o["class"]), "box": [float(x) for x in o["box"]]}
        for o in labels.get("objects") or []
        if isinstance(o, dict) and "class" in o and isinstance(o.get("box"), list) and len(o["box"]) == 4
    ]
    return {
        "format": labels.get("format"),
        "status": str(labels.get("status") or ("labelled" if objects else "unlabelled")),
        "objects": objects,
        "warnings": list(labels.get("warnings") or []),
    }


def manifest_line(doc: Mapping[str, Any]) -> dict[str, Any] | None:
    """One image of a snapshot, from its record; None for a record that is not in a dataset (no
    stored copy, no split, not accepted)."""
    stored = doc.get("stored") or {}
    image_id = doc.get("image_id")
    if (
        doc.get("status") not in DATASET_STATUSES
        or not image_id
        or not stored.get("bucket")
        or doc.get("split") not in SPLITS
    ):
        return None
    md = doc.get("metadata") or {}
    image = doc.get("image") or {}
    width, height = image.get("width"), image.get("height")
    if md.get("orientation") in (5, 6, 7, 8) and width and height:
        width, height = height, width  # the upright frame, as the labels are
    return {
        "image_id": image_id,
        "sha256": (doc.get("hashes") or {}).get("sha256") or image_id,
        "split": doc["split"],
        "status": doc["status"],
        "cluster_id": doc.get("cluster_id") or image_id,
        "s3": {"bucket": stored["bucket"], "key": stored["key"], "region": stored.get("region")},
        "image": {
            "format": image.get("format"),
            "width": width,
            "height": height,
            "bytes": image.get("bytes"),
            "orientation": md.get("orientation"),
        },
        "labels": labels_of(doc),
        "metadata": {k: md[k] for k in MANIFEST_METADATA if md.get(k) not in (None, "", [])},
    }


def matches(line: Mapping[str, Any], filters: Mapping[str, Sequence[str]]) -> bool:
    for key, values in filters.items():
        if key == "split":
            have: set[str] = {line["split"]}
        elif key == "status":
            have = {line["status"]}
        elif key == "labels":
            have = {line["labels"]["status"]}
        elif key == "class":
            have = {o["class"] for o in line["labels"]["objects"]} | set(
                line["metadata"].get("classes") or []
            )
        else:
            have = {str(line["metadata"].get(key))}
        if not have & set(values):
            return False
    return True


def encode_line(line: Mapping[str, Any]) -> bytes:
    return (json.dumps(line, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


def decode_lines(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(x) for x in body.decode("utf-8").splitlines() if x.strip()]


@dataclass
class Counts:
    """Images per split, per label status, and per class (images and instances, overall and per
    split). Adds and subtracts lines, so that an erasure lowers them by what it removed."""

    images: int = 0
    splits: dict[str, int] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    classes: dict[str, dict[str, int]] = field(default_factory=dict)
    classes_by_split: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)

    def add(self, line: Mapping[str, Any], sign: int = 1) -> None:
        split = line["split"]
        self.images += sign
        _bump(self.splits, split, sign)
        _bump(self.labels, line["labels"]["status"], sign)
        per_class: dict[str, int] = {}
        for o in line["labels"]["objects"]:
            per_class[o["class"]] = per_class.get(o["class"], 0) + 1
        for cls, n in per_class.items():
            for table in (self.classes, self.classes_by_split.setdefault(split, {})):
                entry = table.setdefault(cls, {"images": 0, "instances": 0})
                entry["images"] += sign
                entry["instances"] += sign * n
                if entry["images"] <= 0:
                    del table[cls]
        if not self.classes_by_split.get(split):
            self.classes_by_split.pop(split, None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "images": self.images,
            "splits": dict(sorted(self.splits.items())),
            "labels": dict(sorted(self.labels.items())),
            "classes": dict(sorted(self.classes.items())),
            "classes_by_split": {
                s: dict(sorted(c.items())) for s, c in sorted(self.classes_by_split.items())
            },
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Counts:
        return cls(
            images=int(d.get("images", 0)),
            splits=dict(d.get("splits") or {}),
            labels=dict(d.get("labels") or {}),
            classes={k: dict(v) for k, v in (d.get("classes") or {}).items()},
            classes_by_split={
                s: {k: dict(v) for k, v in c.items()} for s, c in (d.get("classes_by_split") or {}).items()
            },
        )


def _bump(table: dict[str, int], key: str, sign: int) -> None:
    table[key] = table.get(key, 0) + sign
    if table[key] <= 0:
        del table[key]


def content_hash(part_hashes: Sequence[str]) -> str:
    """The snapshot's content hash: sha256 over its parts' sha256 digests in order. Parts hold a
    fixed number of lines, so the same lines give the same parts and the same hash."""
    return "sha256:" + hashlib.sha256("".join(h + "\n" for h in part_hashes).encode()).hexdigest()


def new_snapshot_id(now: datetime, entropy: bytes) -> str:
    return f"snap-{now.strftime('%Y%m%dT%H%M%SZ')}-{entropy.hex()[:8]}"
