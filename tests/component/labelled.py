"""A labelled set in a cell, as the ledger holds it once ingested: the image bytes in the curated
bucket and one image record (with its decision and counters) per image, committed through the
ledger's real transaction, each record carrying its ``labels``.

``ingest_labelled_set`` produces the records the snapshot and export tests need in every state the
gate can leave them (a near duplicate, invalid labels, an unlabelled image, chosen splits) without
crafting uploads that land there; ``test_export_through_the_gate`` takes the whole way round,
labelled datasets of real photos decided by the gate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lenslog.domain.aggregates import dataset_increments, intake_increments
from lenslog.domain.labels.models import Labels
from lenslog.domain.models import Decision, Hashes, ImageInfo, ImageMetadata, Status, StoredAt
from lenslog.services.ingest import curated_key
from tests.images import encode, scene


@dataclass(frozen=True)
class Expected:
    image_id: str
    split: str
    status: str
    label_status: str
    width: int
    height: int
    boxes: list[tuple[str, tuple[float, float, float, float]]] = field(default_factory=list)
    camera_id: str = "cam-01"


def _box(cls: str, cx: float, cy: float, w: float, h: float) -> dict[str, Any]:
    return {"class": cls, "box": [cx, cy, w, h]}


# (seed, size, split, status, camera, labels) of each image
PLAN: list[tuple[int, tuple[int, int], str, str, str, dict[str, Any] | None]] = [
    (1, (640, 480), "train", "accepted", "cam-01", {"status": "labelled", "objects": [
        _box("pallet", 0.5, 0.5, 0.25, 0.5), _box("person", 0.2, 0.3, 0.1, 0.2)]}),
    (2, (640, 480), "train", "accepted", "cam-01", {"status": "labelled", "objects": [
        _box("pallet", 0.75, 0.25, 0.2, 0.3)]}),
    (3, (800, 600), "val", "accepted", "cam-02", {"status": "labelled", "objects": [
        _box("forklift", 0.4, 0.6, 0.3, 0.35), _box("pallet", 0.8, 0.8, 0.1, 0.1)]}),
    (4, (512, 512), "test", "accepted", "cam-02", {"status": "labelled", "objects": [
        _box("person", 0.5, 0.5, 0.5, 0.9)]}),
    (5, (640, 480), "train", "near_duplicate", "cam-01", {"status": "labelled", "objects": [
        _box("pallet", 0.5, 0.5, 0.26, 0.5)]}),
    (6, (640, 480), "val", "accepted", "cam-03", {"status": "null", "objects": []}),
    (7, (640, 480), "test", "accepted", "cam-03", None),  # unlabelled
    (8, (640, 480), "train", "accepted", "cam-03", {"status": "invalid", "objects": [],
                                                   "warnings": ["box_out_of_bounds"]}),
]  # fmt: skip


def ingest_labelled_set(
    cell: Any, now: datetime | None = None, consents: dict[int, str] | None = None
) -> list[Expected]:
    """Commit the PLAN into ``cell`` (a tests.component.conftest.Cell); what each image should be.
    ``consents``: the consent id an image (by its seed in the PLAN) was uploaded under."""
    now = now or datetime.now(UTC) - timedelta(minutes=5)
    out = []
    for i, (seed, size, split, status, camera, labels) in enumerate(PLAN):
        body = encode(scene(seed, size=size))
        image_id = hashlib.sha256(body).hexdigest()
        key = curated_key(image_id, "JPEG")
        cell.s3.put_object(Bucket=cell.res.curated_bucket, Key=key, Body=body)
        decided = now + timedelta(seconds=i)
        decision = Decision(
            key=f"uploads/depot-live/{camera}/img-{seed}.jpg",
            bucket=cell.res.landing_bucket,
            cell=cell.name,
            status=Status(status),
            image_id=image_id,
            cluster_id=image_id,
            split=split,
            data_region=cell.name,
            stored=StoredAt(bucket=cell.res.curated_bucket, key=key, region=cell.res.region),
            metadata=ImageMetadata(
                camera_id=camera,
                captured_at=decided - timedelta(hours=1),
                source_id="depot-live",
                source_type="production_live",
                lat=52.5,
                lon=13.4,
                serial="SN-1234",
                consent_id=(consents or {}).get(seed),
            ),
            hashes=Hashes(sha256=image_id),
            image=ImageInfo(format="JPEG", width=size[0], height=size[1], mode="RGB", bytes=len(body)),
            decided_at=decided,
            etag=hashlib.md5(body).hexdigest(),
            labels=Labels.model_validate({"format": "yolo", **labels}) if labels is not None else Labels(),
        )
        cell.ledger.commit(
            decision=decision,
            increments=[*dataset_increments(decision), *intake_increments(decision)],
            claim_image=True,
        )
        out.append(
            Expected(
                image_id=image_id,
                split=split,
                status=status,
                label_status=(labels or {}).get("status", "unlabelled"),
                width=size[0],
                height=size[1],
                boxes=[(o["class"], tuple(o["box"])) for o in (labels or {}).get("objects", [])],
                camera_id=camera,
            )
        )
    return out
