"""Labels in the gate: label files in the landing bucket, pairing, and attaching labels to images
exactly once, whichever arrives first.

A label file (YOLO ``.txt``, VOC ``.xml``, COCO ``.json``, ``data.yaml``/``classes.txt``) is never
decided as an image and never rewritten: it is copied as it is to the curated bucket under
``labels/<version>/<key>`` (a COCO file that cannot be read at all, or a class map that cannot, to
quarantine under ``labels_invalid/<version>/<key>`` with a ``.reason.json``), what it says about
each image is written as a pointer item under every image stem it may pair with, and only then is
it deleted from landing.

- **Label first**: the image's own processing reads the pointers of its stem (one query) and
  decides with its labels, in its one transaction (counters included).
- **Image first**: the image's transaction wrote a ``STEM`` item; the label file's processing finds
  it and re-evaluates the image's labels (a COCO file: every image it covers). The image record,
  its decision and the counters change in one transaction conditional on the record being as it
  was read, so a replay or a concurrent label file changes nothing twice.
- **Both at once**: an image looks at its pointers once more after its commit, so a label file
  that wrote its pointers while the image was being decided is not missed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from lenslog.adapters.dynamo import DynamoLedger, decision_pk, decision_sk, image_pk, version_of
from lenslog.adapters.labels import LabelStore, needmap_action, seq_of, stem_action
from lenslog.config import Config
from lenslog.domain.aggregates import dataset_increments
from lenslog.domain.labels import classmap, coco, keys, sidecar, validate, voc, yolo
from lenslog.domain.labels.keys import KeyKind
from lenslog.domain.labels.models import Carried, LabelFormat, LabelLimits, Labels, LabelStatus
from lenslog.domain.models import Decision, ImageMetadata, ObjectRef, Status
from lenslog.ports import ObjectPrefix, ObjectStore
from lenslog.settings import CellResources

log = logging.getLogger(__name__)

LABELS_PREFIX = "labels/"
INVALID_PREFIX = "labels_invalid/"
DATASET_STATUSES = (Status.accepted, Status.near_duplicate)
ATTACH_ATTEMPTS = 8
MAX_BYTES = {KeyKind.yolo: yolo.MAX_BYTES, KeyKind.voc: voc.MAX_BYTES, KeyKind.coco: coco.MAX_BYTES}


class NotLabels(Exception):
    """A ``.json`` that is no COCO file: the caller treats it as a sidecar."""


def labels_key(version: str, key: str) -> str:
    return f"{LABELS_PREFIX}{version}/{key}"


def invalid_key(version: str, key: str) -> str:
    return f"{INVALID_PREFIX}{version}/{key}"


@dataclass
class LabelContext:
    """What is known about an image's labels before it is decided: its carriers and, for YOLO
    ids, the dataset's class map."""

    carriers: list[Carried] = field(default_factory=list)
    class_map: dict[str, str] | None = None

    @property
    def sources(self) -> list[str]:
        return sorted(f"{c.source}@{c.version}" for c in self.carriers)


def derive_classes(metadata: ImageMetadata, labels: Labels) -> ImageMetadata:
    """``metadata.classes`` from the objects whenever labels exist (a null image has none)."""
    if labels.status in (LabelStatus.labelled, LabelStatus.null):
        provenance = {**metadata.provenance, "classes": "labels"}
        return metadata.model_copy(update={"classes": labels.classes, "provenance": provenance})
    if metadata.provenance.get("classes") == "labels":
        provenance = {k: v for k, v in metadata.provenance.items() if k != "classes"}
        return metadata.model_copy(update={"classes": [], "provenance": provenance})
    return metadata


# Carriers whose file describes one image: erasing the image erases the file. A COCO file describes
# many: it stays (docs/labels.md), but the image's pointer to it, with its boxes, goes.
SINGLE_IMAGE_FILES = (LabelFormat.yolo, LabelFormat.voc)


def forget_image(ledger: DynamoLedger, decision: Decision) -> list[dict[str, str]]:
    """Remove an erased image from the label items it wrote (its stem's set and label pointers, the
    folders where it waited for a class map) and the records of its own label files; returns where
    those files' kept copies are (``{"bucket", "key"}``), for the erasure to delete every version."""
    if not decision.image_id:
        return []
    store = LabelStore(ledger.client, ledger.table)
    stem = keys.stem(decision.key)
    store.forget_image(decision.bucket, stem, decision.image_id)
    for folder in _waiting_folders(decision.labels):
        store.done_waiting(decision.bucket, folder, decision.image_id)
    return store.forget_stem(decision.bucket, stem, SINGLE_IMAGE_FILES)


def _waiting_folders(labels: Labels) -> list[str]:
    """Where a class map would serve labels whose YOLO ids found none."""
    if labels.format != LabelFormat.yolo or not any(w.startswith("no_class_map") for w in labels.warnings):
        return []
    source = labels.sources[0] if labels.sources else ""
    key = source.rpartition("@")[0] or source
    return keys.class_map_lookup_folders(key) if key else []


class LabelService:
    def __init__(self, config: Config, resources: CellResources, store: ObjectStore, ledger: DynamoLedger):
        self.config = config
        self.res = resources
        self.store = store
        self.ledger = ledger
        self.labels = LabelStore(ledger.client, ledger.table)

    # the image's side ------------------------------------------------------------------------------
    def context(self, bucket: str, image_key: str, sidecar_content: Mapping[str, Any] | None) -> LabelContext:
        ctx = LabelContext(carriers=self.labels.carriers(bucket, keys.stem(image_key)))
        native = sidecar.parse(sidecar_content)
        if native is not None:
            ctx.carriers.append(native)
        for c in ctx.carriers:
            if c.format is LabelFormat.yolo:
                ctx.class_map = self.labels.class_map(bucket, keys.class_map_lookup_folders(c.source))
                break
        return ctx

    def resolve(
        self, ctx: LabelContext, metadata: ImageMetadata, width: int | None, height: int | None
    ) -> Labels:
        src = self.config.sources.get(metadata.source_id or "")
        given = src.classes if src else ()
        policy = self.config.policy_for(metadata.source_id)
        return validate.resolve(
            ctx.carriers,
            width,
            height,
            metadata.orientation,
            id_map=ctx.class_map or {str(i): n for i, n in enumerate(given)},
            known=frozenset(given),
            limits=LabelLimits(max_boxes=policy.max_boxes),
        )

    def quarantines(self, metadata: ImageMetadata, labels: Labels) -> bool:
        return (
            labels.status is LabelStatus.invalid
            and self.config.policy_for(metadata.source_id).labels == "quarantine"
        )

    def stem_actions(self, decision: Decision) -> list[dict[str, Any]]:
        """The items a dataset image writes in its own transaction: its stem (for label files
        arriving later) and, when its YOLO ids found no class map, where one may still arrive."""
        if decision.status not in DATASET_STATUSES or not decision.image_id:
            return []
        table, bucket, image_id = self.ledger.table, decision.bucket, decision.image_id
        out = [stem_action(table, bucket, keys.stem(decision.key), image_id)]
        out += [needmap_action(table, bucket, f, image_id) for f in _waiting_folders(decision.labels)]
        return out

    def after_commit(self, decision: Decision, ctx: LabelContext) -> Decision:
        """A label file (or class map) that was written while the image was decided: attach now."""
        if decision.status not in DATASET_STATUSES or not decision.image_id:
            return decision
        folders = _waiting_folders(decision.labels)
        if folders and self.labels.class_map(decision.bucket, folders) is not None:
            return self.attach(decision.image_id) or decision
        now = LabelContext(carriers=self.labels.carriers(decision.bucket, keys.stem(decision.key)))
        if sorted(
            f"{c.source}@{c.version}" for c in now.carriers if c.format is not LabelFormat.sidecar
        ) == sorted(s for s in ctx.sources if not s.startswith("sidecar")):
            return decision
        return self.attach(decision.image_id) or decision

    # the label file's side -------------------------------------------------------------------------
    def on_label_file(self, ref: ObjectRef) -> None:
        """Keep, index and attach one label file; raises :class:`NotLabels` for a plain sidecar."""
        kind = keys.classify(ref.key)
        limit = MAX_BYTES.get(kind, classmap.MAX_BYTES)
        # One ranged GET (never more than the limit read) names the version, size and bytes; the
        # event's own version is read by HEAD + GET only when the key was overwritten since.
        found = self.store.get_prefix(ref.bucket, ref.key, limit + 1)
        if found is not None and ref.version_id not in (None, found.version_id):
            old = self.store.head(ref.bucket, ref.key, ref.version_id)
            body = self.store.get(ref.bucket, ref.key, ref.version_id) if old and old.size <= limit else b""
            found = (
                None
                if old is None or body is None
                else ObjectPrefix(body, old.size, old.version_id, old.etag)
            )
        if found is None:
            return  # already processed and removed (a replay), or deleted before we saw it
        head = found
        version = head.version_id or head.etag or "unversioned"
        data = b"" if head.size > limit else head.data
        carried: list[tuple[str, str, Carried]] = []  # (stem, target, carried)
        errors: list[str] = []
        if head.size > limit:
            errors.append(f"too_large: {head.size} bytes > {limit}")
        if kind is KeyKind.class_map:
            if not errors:
                try:
                    names = classmap.parse(ref.key, data)
                except classmap.ClassMapError as exc:
                    errors.append(classmap.error_text(exc))
            if errors:
                return self._keep_invalid(ref, head.version_id, version, str(kind), errors)
            stored = self._keep(ref, head.version_id, version)
            for folder in keys.class_map_scopes(ref.key):
                self.labels.put_class_map(ref.bucket, folder, ref.key, names, ref.sequencer)
            self._record(ref, version, str(kind), stored, 0, [])
            for folder in keys.class_map_scopes(ref.key):
                for image_id in self.labels.waiting_for_map(ref.bucket, folder):
                    updated = self.attach(image_id)
                    # every folder the image waited in (its YOLO file's folder and ancestors)
                    source = updated.labels.sources[0] if updated and updated.labels.sources else ""
                    label_key = source.rpartition("@")[0] or source
                    waited = keys.class_map_lookup_folders(label_key) if label_key else [folder]
                    if not _waiting_folders(updated.labels if updated else Labels()):
                        for f in {folder, *waited}:
                            self.labels.done_waiting(ref.bucket, f, image_id)
            self._delete_landing(ref.bucket, ref.key, head.version_id)
            return
        seq = seq_of(ref.sequencer)  # orders the versions of one key
        dropped: list[str] = []  # image stems an earlier version of a COCO file listed, this one not
        if kind is KeyKind.coco:
            if errors:
                return self._keep_invalid(ref, head.version_id, version, str(kind), errors)
            try:
                doc = coco.load(data)
            except coco.CocoError as exc:
                return self._keep_invalid(ref, head.version_id, version, str(kind), [str(exc)])
            if not coco.looks_like_coco(doc):
                raise NotLabels(ref.key)
            per_image, errors = coco.split(doc, ref.key, version)
            for name, c in per_image.items():
                carried += [(st, name, c) for st in keys.coco_image_stems(ref.key, name)]
            newer, dropped = self._coco_versions(ref, version, seq, {st for st, _, _ in carried})
            if newer:  # a later version was processed first: it says what the images carry
                carried = []
        else:
            parse = yolo.parse if kind is KeyKind.yolo else voc.parse
            one = parse(data if not errors else b"", ref.key, version)
            if errors:
                one = Carried(format=one.format, source=ref.key, version=version, errors=errors)
            carried = [(st, "", one) for st in keys.image_stems_for(ref.key)]
        stored = self._keep(ref, head.version_id, version)
        for st, target, c in carried:
            self.labels.put_pointer(ref.bucket, st, c, target, ref.sequencer)
        gone = [st for st in dropped if self.labels.drop_pointer(ref.bucket, st, ref.key, seq)]
        self._record(ref, version, str(kind), stored, len({t for _, t, _ in carried}), errors)
        for image_id in self.labels.images_at(ref.bucket, [*(st for st, _, _ in carried), *gone]):
            self.attach(image_id)
        self._delete_landing(ref.bucket, ref.key, head.version_id)

    def attach(self, image_id: str) -> Decision | None:
        """Re-evaluate an image's labels from its stem's pointers; commit a change (record,
        decision, counters) once, conditional on the record being unchanged since read."""
        for _ in range(ATTACH_ATTEMPTS):
            item = self.ledger.get_item(image_pk(image_id), "IMAGE")
            if not item:
                return None
            old_doc = item["doc"]["S"]
            prior = Decision.model_validate_json(old_doc)
            if prior.labels.format == LabelFormat.sidecar:
                return prior  # native labels in the sidecar take precedence over files
            ctx = self.context(prior.bucket, prior.key, None)
            labels = self.resolve(ctx, prior.metadata, prior.image.width, prior.image.height)
            if labels == prior.labels:
                return prior  # a replay, or nothing new
            updated = prior.model_copy(
                update={"labels": labels, "metadata": derive_classes(prior.metadata, labels)}
            )
            new_doc = json.dumps(updated.to_json_dict(), sort_keys=True)
            increments = [*dataset_increments(prior, sign=-1), *dataset_increments(updated)]
            classes = sorted(set(updated.metadata.classes))
            image_update: dict[str, Any] = {
                "TableName": self.ledger.table,
                "Key": {"PK": {"S": image_pk(image_id)}, "SK": {"S": "IMAGE"}},
                "ConditionExpression": "#doc = :old",
                "ExpressionAttributeNames": {"#doc": "doc"},
            }
            if classes:
                image_update["UpdateExpression"] = "SET #doc = :new, classes = :c"
                image_update["ExpressionAttributeValues"] = {
                    ":old": {"S": old_doc},
                    ":new": {"S": new_doc},
                    ":c": {"SS": classes},
                }
            else:
                image_update["UpdateExpression"] = "SET #doc = :new REMOVE classes"
                image_update["ExpressionAttributeValues"] = {":old": {"S": old_doc}, ":new": {"S": new_doc}}
            actions: list[dict[str, Any]] = [{"Update": image_update}]
            dkey = {
                "PK": {"S": decision_pk(prior.bucket, prior.key)},
                "SK": {"S": decision_sk(version_of(prior), prior.reevaluated)},
            }
            if self.ledger.get_item(dkey["PK"]["S"], dkey["SK"]["S"]):
                actions.append(
                    {
                        "Update": {
                            "TableName": self.ledger.table,
                            "Key": dkey,
                            "UpdateExpression": "SET #doc = :new",
                            "ExpressionAttributeNames": {"#doc": "doc"},
                            "ExpressionAttributeValues": {":new": {"S": new_doc}},
                        }
                    }
                )
            try:
                self.ledger.transact_with_counters(actions, increments, shard_key=image_id)
                return updated
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                continue  # the record changed since read: read again
        raise RuntimeError(f"image {image_id} kept changing while its labels were attached; retried later")

    def _coco_versions(
        self, ref: ObjectRef, version: str, seq: str, stems: set[str]
    ) -> tuple[bool, list[str]]:
        """Whether a later version of this COCO file was already processed, and the image stems the
        latest earlier version pointed at that this one no longer lists (their pointers go, and
        their images are re-evaluated). Versions are ordered by their S3 event sequencer ``seq``."""
        others = [r for r in self.labels.label_files(ref.bucket, ref.key) if r.get("version") != version]
        if any(r.get("seq", "") > seq for r in others):
            return True, []
        earlier = [r for r in others if r.get("status") == "kept" and r.get("format") == str(KeyKind.coco)]
        if not earlier:
            return False, []
        prior = max(earlier, key=lambda r: r.get("seq", ""))
        data = self.store.get(prior["stored"]["bucket"], prior["stored"]["key"])
        try:
            listed, _ = coco.split(coco.load(data or b""), ref.key, prior["version"])
        except coco.CocoError:
            return False, []
        old = {st for name in listed for st in keys.coco_image_stems(ref.key, name)}
        return False, sorted(old - stems)

    # keeping files ---------------------------------------------------------------------------------
    def _keep(self, ref: ObjectRef, version_id: str | None, version: str) -> dict[str, str]:
        dest = labels_key(version, ref.key)
        self.store.copy(ref.bucket, ref.key, self.res.curated_bucket, dest, version_id)
        return {"bucket": self.res.curated_bucket, "key": dest, "region": self.res.region}

    def _keep_invalid(
        self, ref: ObjectRef, version_id: str | None, version: str, kind: str, errors: Sequence[str]
    ) -> None:
        dest = invalid_key(version, ref.key)
        self.store.copy(ref.bucket, ref.key, self.res.quarantine_bucket, dest, version_id)
        reason = {
            "key": ref.key,
            "version": version,
            "format": kind,
            "status": "invalid",
            "reasons": list(errors),
        }
        self.store.put(
            self.res.quarantine_bucket,
            dest + ".reason.json",
            json.dumps(reason, indent=2, sort_keys=True).encode(),
            content_type="application/json",
        )
        stored = {"bucket": self.res.quarantine_bucket, "key": dest, "region": self.res.region}
        self._record(ref, version, kind, stored, 0, errors, status="invalid")
        self._delete_landing(ref.bucket, ref.key, version_id)

    def _record(
        self, ref: ObjectRef, version: str, kind: str, stored: Mapping[str, str], images: int,
        errors: Sequence[str], status: str = "kept",
    ) -> None:  # fmt: skip
        self.labels.put_label_file(
            ref.bucket,
            ref.key,
            version,
            {
                "key": ref.key, "version": version, "format": kind, "status": status, "stored": dict(stored),
                "images": images, "warnings": list(errors)[:50], "seq": seq_of(ref.sequencer),
            },
        )  # fmt: skip

    def _delete_landing(self, bucket: str, key: str, version_id: str | None) -> None:
        if version_id is None and self.store.head(bucket, key) is None:
            return
        self.store.delete(bucket, key, version_id)
