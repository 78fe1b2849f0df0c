"""Erasure: remove everything a cell holds of a subject (an image, a camera, a consent, a source),
then prove it.

What goes: every version of the curated and quarantined objects (and their reason and sidecar
documents), the image records, every decision on them (exact-duplicate sightings included: they
are the same bytes), pending and origin items, near-duplicate index entries; the counters are
lowered by exactly what the erased items had added, and a counter brought to zero is deleted, as is
every counter still naming an erased camera (``camera``, ``camera_hour``, ``intake_camera``), found
by its ``dimension`` and ``value`` attributes on every day of the cell, whatever its sort key (so
sharded counters go too); images of a cluster whose root is erased are re-rooted on the oldest
survivor. Stored reports that name an erased camera (the camera erased, or every camera left with
no image by a source or consent erasure) are redacted in place: its rows go, totals stay, older
versions of the files are deleted (``lenslog.audit.redact``). Every snapshot of the cell that
lists an erased image gets a new manifest version without it (the old version's objects are
deleted, every version of them; the snapshot keeps its id and counts what was removed).

What stays: a tombstone in the audit log with what was asked, by whom, when and how much was
removed, and the reports it redacted; never the erased ids or hashes themselves. A camera, consent
or source erasure keeps the value asked for: the tombstone is the proof, and the one item allowed
to name it.

The verification pass then scans every object version of the cell's buckets, every item of its
table, every counter, every stored report and every version of every snapshot manifest: anything
still naming an erased image, object or camera is a leftover, and the erasure is not verified.

Selecting by camera, consent or source is a filtered scan of the cell's table: erasure is rare, and
an index per subject would cost on every write. Selecting an image is a key lookup.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from lenslog.adapters.dynamo import DynamoLedger, image_pk, origin_pk, pending_pk, shard_key_of
from lenslog.adapters.nearindex import NearIndex
from lenslog.adapters.reports import ReportStore
from lenslog.audit.redact import names_any, redact_report
from lenslog.config import Config
from lenslog.domain.aggregates import CAMERA_DIMENSIONS, Increment, dataset_increments, intake_increments
from lenslog.domain.models import Decision
from lenslog.ports import ObjectStore
from lenslog.services import leakage
from lenslog.services.labels import forget_image
from lenslog.services.snapshots import SnapshotService
from lenslog.settings import CellResources

Subject = Literal["image", "camera", "consent", "source"]
SUBJECT_ATTRIBUTE = {
    "image": "image_id",
    "camera": "camera_id",
    "consent": "consent_id",
    "source": "source_id",
}
DOCUMENT_SUFFIXES = ("", ".reason.json", ".sidecar.json")


@dataclass(frozen=True)
class ErasureRequest:
    subject: Subject
    value: str
    requested_by: str
    reason: str = ""


@dataclass
class ErasureResult:
    erasure_id: str
    cell: str
    subject: Subject
    images: int = 0
    decisions: int = 0
    object_versions: int = 0
    index_entries: int = 0
    reclustered: int = 0
    aggregates: int = 0
    reports: list[str] = field(default_factory=list)
    snapshots: dict[str, int] = field(default_factory=dict)  # snapshot id -> images removed from it
    leftovers: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return not self.leftovers

    def to_dict(self) -> dict[str, Any]:
        return {
            "erasure_id": self.erasure_id,
            "cell": self.cell,
            "subject": self.subject,
            "images": self.images,
            "decisions": self.decisions,
            "object_versions": self.object_versions,
            "index_entries": self.index_entries,
            "reclustered": self.reclustered,
            "aggregates": self.aggregates,
            "reports": self.reports,
            "snapshots": self.snapshots,
            "verified": self.verified,
            "leftovers": self.leftovers,
        }


def _doc(item: dict[str, Any]) -> Decision:
    return Decision.model_validate(json.loads(item["doc"]["S"]))


class ErasureService:
    def __init__(
        self,
        resources: CellResources,
        store: ObjectStore,
        ledger: DynamoLedger,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        near: NearIndex | None = None,
        bands: int = 8,
        reports: ReportStore | None = None,
        config: Config | None = None,
        snapshots: SnapshotService | None = None,
    ):
        self.res = resources
        self.store = store
        self.ledger = ledger
        self.clock = clock
        self.near = near  # the cell's near-duplicate index
        self.bands = bands
        self.reports = reports  # the stored reports (home cell), redacted for erased cameras
        self.config = config
        self.snapshots = snapshots  # the cell's snapshots: an erased image leaves every manifest

    def erase(self, request: ErasureRequest) -> ErasureResult:
        result = ErasureResult(erasure_id=uuid.uuid4().hex, cell=self.res.cell, subject=request.subject)
        images, decisions = self._select(request)
        for image_id in sorted(images):
            decisions.update(
                {(i["PK"]["S"], i["SK"]["S"]): _doc(i) for i in self.ledger.decisions_of_image(image_id)}
            )
        erased_objects: set[tuple[str, str]] = set()
        cameras: set[str] = {request.value} if request.subject == "camera" else set()
        days: set[str] = set()

        def lower(increments: list[Increment], counted: Decision) -> None:
            # in the counter shard that counted it (the same key the commit sharded by)
            days.update(i.day.isoformat() for i in increments)
            result.aggregates += self.ledger.bump(increments, shard_key=shard_key_of(counted))

        for (pk, sk), decision in sorted(decisions.items()):
            if self.ledger.delete_item(pk, sk):
                result.decisions += 1
                if not self._superseded(pk, sk, decisions):
                    lower(intake_increments(decision, sign=-1), decision)
            if decision.metadata.camera_id:
                cameras.add(decision.metadata.camera_id)
            self.ledger.delete_item(pending_pk(decision.bucket, decision.key), "PENDING")
            if decision.relocated_from:
                self.ledger.delete_item(origin_pk(decision.relocated_from), "ORIGIN")
            if decision.stored and decision.stored.bucket == self.res.quarantine_bucket:
                erased_objects.add((decision.stored.bucket, decision.stored.key))

        for image_id in sorted(images):
            record = self.ledger.get_item(image_pk(image_id), "IMAGE")
            if record is None:
                continue
            decision = _doc(record)
            members = [m for m in self.ledger.items_with("cluster_id", image_id) if m["kind"]["S"] == "image"]
            self.ledger.delete_item(image_pk(image_id), "IMAGE")
            for kept in forget_image(self.ledger, decision):  # label items and files (services/labels.py)
                erased_objects.add((kept["bucket"], kept["key"]))
            result.images += 1
            lower(dataset_increments(decision, sign=-1), decision)
            if decision.metadata.camera_id:
                cameras.add(decision.metadata.camera_id)
            if self.near is not None and decision.hashes and decision.hashes.phash:
                phash = int(decision.hashes.phash, 16)
                keys = _index_keys(phash, decision.hashes.crop_phashes, self.bands)
                result.index_entries += self.near.remove(image_id, phash, self.bands, keys)
            if decision.stored:
                erased_objects.add((decision.stored.bucket, decision.stored.key))
            result.reclustered += self._reroot(image_id, members, images)

        leakage.forget(self.ledger, images)  # the leakage check's examples naming them
        for bucket, key in sorted(erased_objects):
            for suffix in DOCUMENT_SUFFIXES:
                result.object_versions += self.store.delete_all_versions(bucket, key + suffix)

        # A camera is erased when it was asked for, or when nothing of it is left in the cell.
        cameras = {c for c in cameras if c == request.value or not self.ledger.items_with("camera_id", c)}
        if request.subject != "camera":
            cameras.discard("unknown")
        sweep_days = sorted(set(self.ledger.aggregate_days()) | days) if cameras else sorted(days)
        result.aggregates += self.ledger.sweep_counters(
            sweep_days, lambda dim, value: dim in CAMERA_DIMENSIONS and names_any(value, cameras)
        )
        result.reports = self._redact_reports(cameras)
        if self.snapshots is not None:
            result.snapshots = {r.snapshot_id: r.removed for r in self.snapshots.remove_images(images)}
        result.leftovers = self.verify(images, erased_objects, cameras)
        self.ledger.put_tombstone(
            {
                "erasure_id": result.erasure_id,
                "erased_at": self.clock().isoformat(),
                "requested_by": request.requested_by,
                "reason": request.reason,
                "subject": request.subject,
                # The value names a camera, consent or source; an image is only referred to by a
                # one-way digest, so the tombstone holds no id or hash of erased bytes.
                "value": request.value
                if request.subject != "image"
                else "sha256:" + hashlib.sha256(request.value.encode()).hexdigest()[:16],
                **{k: v for k, v in result.to_dict().items() if k not in ("erasure_id", "cell", "subject")},
            }
        )
        return result

    def _select(self, request: ErasureRequest) -> tuple[set[str], dict[tuple[str, str], Decision]]:
        """The image ids and the decision items that the request names."""
        images: set[str] = set()
        decisions: dict[tuple[str, str], Decision] = {}
        if request.subject == "image":
            images.add(request.value)
            return images, decisions
        for item in self.ledger.items_with(SUBJECT_ATTRIBUTE[request.subject], request.value):
            doc = _doc(item)
            if item["kind"]["S"] == "decision":
                decisions[(item["PK"]["S"], item["SK"]["S"])] = doc
            if doc.image_id:
                images.add(doc.image_id)
        return images, decisions

    @staticmethod
    def _superseded(pk: str, sk: str, decisions: dict[tuple[str, str], Decision]) -> bool:
        """A first decision that a re-evaluation replaced was already withdrawn from the counters."""
        return not sk.endswith("#R") and (pk, sk + "#R") in decisions

    def _reroot(self, root: str, members: Iterable[dict[str, Any]], erased: set[str]) -> int:
        survivors = sorted(
            (m["first_seen"]["S"], m["PK"]["S"].removeprefix("IMG#"))
            for m in members
            if m["PK"]["S"].removeprefix("IMG#") not in erased
        )
        if not survivors:
            return 0
        new_root = survivors[0][1]
        for _, image_id in survivors:
            self.ledger.set_cluster(image_id, new_root)
            record = self.ledger.get_image(image_id)
            hashes = (record or {}).get("hashes", {})
            phash = hashes.get("phash")
            if self.near is not None and phash:
                own = int(phash, 16)
                self.near.recluster(
                    image_id,
                    own,
                    self.bands,
                    None if image_id == new_root else new_root,
                    _index_keys(own, hashes.get("crop_phashes") or (), self.bands),
                )
        return len(survivors)

    def _redact_reports(self, cameras: set[str]) -> list[str]:
        """Rewrite every stored report that names an erased camera; the ids of those touched."""
        if self.reports is None or not cameras:
            return []
        from lenslog.audit import render_csv, render_eml, render_html, render_json
        from lenslog.audit.models import Report

        touched = []
        for record in self.reports.all_reports():
            raw = self.reports.read_file(record.report_id, "report.json")
            texts = [raw or b""] + [
                self.reports.read_file(record.report_id, f.name) or b"" for f in record.files
            ]
            if not any(names_any(x.decode("utf-8", "replace"), cameras) for x in texts):
                continue
            report = Report.model_validate(redact_report(json.loads(raw or b"{}"), cameras))
            files = {"report.json": render_json(report), "report.html": render_html(report).encode()}
            files.update({name: text.encode() for name, text in render_csv(report).items()})
            if self.config is not None:
                r = self.config.report
                files["report.eml"] = render_eml(report, sender=r.sender, recipients=r.recipients)
            files = {n: b for n, b in files.items() if n in {f.name for f in record.files}}
            summary = {"verdict": str(report.verdict), "headline": report.headline}
            self.reports.replace_files(record, files, summary)
            touched.append(record.report_id)
        return touched

    def verify(
        self, images: set[str], objects: set[tuple[str, str]], cameras: set[str] | None = None
    ) -> list[str]:
        """Scan every object version of the cell's buckets, every item of its table (counters
        included) and every stored report: what of the subject still exists. Only the erasure's
        own tombstone, and a revoked consent's record (it refuses new uploads citing it), may name
        an erased camera."""
        cameras = cameras or set()
        names = {(bucket, key + suffix) for bucket, key in objects for suffix in DOCUMENT_SUFFIXES}
        leftovers = [
            f"object s3://{bucket}/{o.key} ({o.version_id})"
            for bucket in (self.res.curated_bucket, self.res.quarantine_bucket, self.res.landing_bucket)
            for o in self.store.list_objects(bucket, versions=True)
            if (bucket, o.key) in names or any(i in o.key for i in images) or names_any(o.key, cameras)
        ]
        for item in self.ledger.scan_items():
            text = json.dumps(item)
            if any(i in text for i in images) or (
                item.get("kind", {}).get("S") not in ("erasure", "consent") and names_any(text, cameras)
            ):
                leftovers.append(f"item {item['PK']['S']} / {item['SK']['S']}")
        if self.reports is not None and cameras:
            for record in self.reports.all_reports():
                if names_any(record.model_dump_json(), cameras):
                    leftovers.append(f"report {record.report_id} (index)")
                for f in record.files:
                    body = self.reports.read_file(record.report_id, f.name) or b""
                    if names_any(body.decode("utf-8", "replace"), cameras):
                        leftovers.append(f"report {record.report_id}/{f.name}")
        if self.snapshots is not None and images:
            leftovers += self.snapshots.manifests_naming(images)
        return leftovers


def _index_keys(phash: int, crop_phashes: Iterable[str], bands: int) -> list[tuple[int, int]]:
    """Every key an image was indexed under: its own bands and those of its recorded crop views."""
    from lenslog.domain.neardup import index_keys

    return index_keys(phash, [int(h, 16) for h in crop_phashes], bands)
