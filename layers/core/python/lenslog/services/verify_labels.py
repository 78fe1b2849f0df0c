"""Reconciliation of label files (see ``lenslog.services.verify``): every kept label file is named by
its record, and a label file none of whose images was ingested is reported as an *orphan label*
(not an error: its images may still arrive; an operator decides)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LabelAccounting:
    kept: set[tuple[str, str]] = field(default_factory=set)  # (bucket, key) named by a label file record
    orphan_labels: list[str] = field(default_factory=list)  # "<label key>[: <file_name>]"


def account(items: Iterable[Mapping[str, Any]]) -> LabelAccounting:
    out = LabelAccounting()
    stems: set[str] = set()
    pointers: dict[tuple[str, str, str], set[str]] = defaultdict(set)  # (bucket, label key, target) -> stems
    for item in items:
        kind = item.get("kind", {}).get("S")
        pk = item.get("PK", {}).get("S", "")
        if kind == "label_file" or kind == "class_map_file":
            try:
                stored = json.loads(item["doc"]["S"]).get("stored") or {}
            except (KeyError, TypeError, ValueError):
                continue
            if stored.get("bucket") and stored.get("key"):
                out.kept.add((str(stored["bucket"]), str(stored["key"])))
        elif kind == "stem" and item.get("image_ids", {}).get("SS"):
            stems.add(pk.removeprefix("STEM#"))
        elif kind == "label_pointer":
            where = pk.removeprefix("LABELS#")
            bucket = where.split("/", 1)[0]
            label_key = item.get("label_key", {}).get("S", "")
            target = item.get("target", {}).get("S", "")
            pointers[(bucket, label_key, target)].add(where)
    for (bucket, label_key, target), candidates in sorted(pointers.items()):
        if not candidates & stems:
            out.orphan_labels.append(f"s3://{bucket}/{label_key}" + (f": {target}" if target else ""))
    return out
