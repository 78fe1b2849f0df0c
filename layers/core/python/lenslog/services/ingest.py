"""The ingest service: one uploaded object in, one committed decision out.

Ordering is the safety argument. For every object: (1) copy the bytes to their destination
(curated, content-addressed; or quarantine with a reason document), (2) commit the decision, the
image record and the counters in one conditional DynamoDB transaction, (3) only then delete the
landing object. A crash between any two steps leaves the landing object in place, so the event is
retried; the retry finds the committed decision and only finishes step 3. Exact duplicates are
decided by the conditional write on the image id, so N concurrent uploads of the same bytes make
one image and N-1 duplicate sightings.

Sidecars (``<key>.json``) may arrive before or after their image. Before: the image's processing
reads it. After: the image was quarantined ``metadata_incomplete`` with a pending item, and the
sidecar's event re-evaluates it from quarantine without a new upload.

Label files (YOLO, VOC, COCO, class maps) are handled by ``lenslog.services.labels``: an image reads
the labels of its stem before it is decided, and a label file arriving later attaches to it there.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from lenslog import retention
from lenslog.adapters.dynamo import DynamoLedger, version_of
from lenslog.adapters.nearindex import NearIndex
from lenslog.config import Config, Policy
from lenslog.domain import consent, gate, residency
from lenslog.domain.aggregates import (
    MIN_LABEL_COUNTER_BUDGET,
    Increment,
    dataset_increments,
    intake_increments,
    label_increments,
)
from lenslog.domain.labels.models import LabelStatus
from lenslog.domain.models import Decision, ImageMetadata, ObjectRef, Reason, Refusal, Status, StoredAt
from lenslog.domain.splits import assign_split
from lenslog.ports import AlreadyDecided, ImageExists, IndexChanged, ObjectHead, ObjectStore
from lenslog.services.labels import LabelContext, LabelService, NotLabels, derive_classes
from lenslog.services.near import NearPlan, apply_near_duplicates
from lenslog.settings import CellResources

SIDECAR_SUFFIX = ".json"
SIDECAR_MAX_BYTES = 64 * 1024
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "BMP": "bmp"}
# S3 metadata that lenslog itself sets on a relocated copy; never taken as image metadata.
ORIGIN_META = "lenslog-origin"
HOLD_META = "lenslog-hold"
CURATED_STATUSES = (Status.accepted, Status.near_duplicate)
# Look up again when a band item changed between lookup and commit: with k near-identical uploads
# racing, each round commits one of them, so k rounds settle all; beyond that SQS retries.
NEAR_RETRIES = 25
# DynamoDB's limit of actions in one TransactWriteItems.
TRANSACTION_ITEMS = 100


def utcnow() -> datetime:
    return datetime.now(UTC)


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))


def user_metadata(metadata: Mapping[str, str]) -> dict[str, str]:
    """S3 user metadata as the uploader gave it, without the marks lenslog sets itself."""
    return {k: v for k, v in metadata.items() if not k.startswith("lenslog-")}


def claim_increments(decision: Decision, fixed: int, withdrawn: Sequence[Increment] = ()) -> list[Increment]:
    """The counters an image's claim commits. When they and its ``fixed`` other items would pass
    DynamoDB's 100 items a transaction (many classes and crop-view index entries together can),
    its labels get a smaller counter budget, kept on them so that an erasure counts the same way."""

    def increments() -> list[Increment]:
        return [*dataset_increments(decision), *intake_increments(decision), *withdrawn]

    out = increments()
    over = fixed + len({(i.day, i.dimension, i.value) for i in out}) - TRANSACTION_ITEMS
    if over <= 0 or decision.labels.status not in (LabelStatus.labelled, LabelStatus.null):
        return out
    decision.labels.counter_budget = max(MIN_LABEL_COUNTER_BUDGET, len(label_increments(decision)) - over)
    return increments()


def curated_key(image_id: str, fmt: str | None) -> str:
    return f"images/{image_id[:2]}/{image_id}.{EXTENSIONS.get(fmt or '', 'bin')}"


def quarantine_key(reason: str, version: str, key: str) -> str:
    return f"{reason}/{version}/{key}"


@dataclass(frozen=True)
class Peer:
    """Another cell, as far as relocation needs it: its landing bucket, through its own region.
    The store is opened when first needed: only a misrouted upload needs it."""

    resources: CellResources
    open_store: Callable[[], ObjectStore]

    @property
    def store(self) -> ObjectStore:
        return self.open_store()


@dataclass(frozen=True)
class Sidecar:
    content: Mapping[str, Any] | None = None
    error: str | None = None
    version: str | None = None
    size: int | None = None

    @property
    def present(self) -> bool:
        return self.content is not None or self.error is not None


def parse_sidecar(body: bytes, size: int | None = None) -> Sidecar:
    """``size``: the object's whole size when ``body`` is only its first bytes."""
    size = len(body) if size is None else size
    if size > SIDECAR_MAX_BYTES:
        return Sidecar(error=f"sidecar is {size} bytes > {SIDECAR_MAX_BYTES}")
    try:
        content = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Sidecar(error=f"sidecar is not valid JSON: {exc}")
    if not isinstance(content, dict):
        return Sidecar(error="sidecar is not a JSON object")
    return Sidecar(content=content)


class IngestService:
    def __init__(
        self,
        config: Config,
        resources: CellResources,
        store: ObjectStore,
        ledger: DynamoLedger,
        clock: Callable[[], datetime] = utcnow,
        peers: Mapping[str, Peer] | None = None,
        near_index: NearIndex | None = None,
    ):
        self.config = config
        self.res = resources
        self.store = store
        self.ledger = ledger
        self.clock = clock
        self.peers = dict(peers or {})
        self.near = near_index or NearIndex(ledger.client, ledger.table)
        self.labels = LabelService(config, resources, store, ledger)

    # entry -----------------------------------------------------------------------------------------
    def handle(self, ref: ObjectRef) -> Decision | None:
        """Decide one object named by an S3 event; None when there is nothing (more) to decide."""
        kind = ref.kind
        if kind == "coco":
            try:
                self.labels.on_label_file(ref)
                return None
            except NotLabels:
                return self._on_sidecar(ref)  # a .json that is no COCO file: a sidecar after all
        if kind in ("yolo", "voc", "class_map"):
            self.labels.on_label_file(ref)
            return None
        if kind == "sidecar":
            return self._on_sidecar(ref)
        return self._on_image(ref)

    # images ----------------------------------------------------------------------------------------
    def _on_image(self, ref: ObjectRef) -> Decision | None:
        head = self.store.head(ref.bucket, ref.key, ref.version_id)
        version = (ref.version_id or (head.version_id if head else None)) or (
            ref.etag or (head.etag if head else None) or "unversioned"
        )
        prior = self.ledger.latest_decision(ref.bucket, ref.key, version)
        if prior is not None:
            # A replay: the decision is committed, so only the landing clean-up may be missing.
            if head is not None and version in (head.version_id, head.etag):
                self._delete_landing(ref.bucket, ref.key, head.version_id)
            return Decision.model_validate(prior)
        if head is None:
            return None  # deleted before we saw it; nothing to decide
        ref = ref.model_copy(update={"version_id": head.version_id, "etag": head.etag})
        sidecar = self._read_sidecar(ref.bucket, ref.key)
        label_ctx = self.labels.context(ref.bucket, ref.key, sidecar.content)
        inp = gate.GateInput(
            key=ref.key,
            data=b"",
            s3_metadata=user_metadata(head.metadata),
            sidecar=sidecar.content,
            sidecar_error=sidecar.error,
            cell=self.res.cell,
        )
        now = self.clock()
        origin = head.metadata.get(ORIGIN_META)
        context = gate.context_metadata(inp, self.config, now)
        if origin is None:
            # Residency first: what belongs to another cell leaves this one before it is decoded.
            policy = self.config.policy_for(context.source_id)
            home = residency.resolve(context, self.config, self.res.cell, policy)
            if home.cell not in (None, self.res.cell):
                return self._relocate(ref, head, sidecar, home.cell, policy)
        inspection = gate.refuse_unread(context, head.size, self.config)
        if inspection is not None:
            # Too large to download: its header alone (one ranged GET) tells its camera and time.
            prefix = self.store.get_prefix(ref.bucket, ref.key, gate.HEADER_BYTES)
            if prefix is not None and prefix.version_id in (None, head.version_id):
                gate.refused_metadata(inspection, inp, self.config, prefix.data, now)
        else:
            data = self.store.get(ref.bucket, ref.key, head.version_id)
            if data is None:
                return None
            inspection = gate.inspect(replace(inp, data=data), self.config, now, context)
        home = residency.resolve(inspection.metadata, self.config, self.res.cell, inspection.policy)
        if home.cell not in (None, self.res.cell) and origin is None:
            return self._relocate(ref, head, sidecar, home.cell, inspection.policy)
        try:
            decision = self._decide_and_commit(
                ref, inspection, home, now, (ref.bucket, ref.key, head.version_id), head.metadata, label_ctx
            )
        except AlreadyDecided:
            prior = self.ledger.latest_decision(ref.bucket, ref.key, version)
            return Decision.model_validate(prior) if prior else None
        if sidecar.present:
            self._delete_landing(ref.bucket, ref.key + SIDECAR_SUFFIX, sidecar.version)
        self._delete_landing(ref.bucket, ref.key, head.version_id)
        decision = self.labels.after_commit(decision, label_ctx)
        if decision.status is Status.quarantined and Reason.metadata_incomplete in decision.reasons:
            # The sidecar may have landed while we decided: its own event may have missed the
            # pending item, so look once more now that the pending item is committed.
            late = self._read_sidecar(ref.bucket, ref.key)
            if late.present:
                return self._reevaluate(ref.bucket, ref.key, late) or decision
        return decision

    def _decide(
        self, ref: ObjectRef, inspection: gate.Inspection, now: datetime, refusals: Sequence[Refusal]
    ) -> Decision:
        status = gate.verdict(refusals)
        image_id = inspection.hashes.sha256 if inspection.hashes else None
        decision = Decision(
            key=ref.key,
            bucket=ref.bucket,
            cell=self.res.cell,
            status=status,
            reasons=[str(r.reason) for r in refusals],
            reason_details=[f"{r.reason}: {r.detail}" if r.detail else str(r.reason) for r in refusals],
            image_id=image_id,
            data_region=self.res.cell,
            metadata=inspection.metadata,
            quality=inspection.quality,
            hashes=inspection.hashes,
            image=inspection.info,
            decided_at=now,
            version_id=ref.version_id,
            etag=ref.etag,
        )
        if status is Status.accepted and image_id:
            decision.cluster_id = image_id
            decision.split = assign_split(inspection.metadata, self.config.splits)
        return decision

    def _evaluate(
        self,
        ref: ObjectRef,
        inspection: gate.Inspection,
        home: residency.Residency,
        s3_metadata: Mapping[str, str],
        now: datetime,
        label_ctx: LabelContext | None = None,
    ) -> Decision:
        """The verdict on an inspected image that stays in this cell (before near duplicates)."""
        refusals = [
            *inspection.refusals,
            *self._policy_refusals(inspection.metadata, home, held=s3_metadata.get(HOLD_META), today=now),
        ]
        labels = None
        if label_ctx is not None:
            info = inspection.info
            labels = self.labels.resolve(label_ctx, inspection.metadata, info.width, info.height)
            if self.labels.quarantines(inspection.metadata, labels):
                detail = labels.warnings[0] if labels.warnings else "no valid box"
                refusals.append(Refusal(reason=Reason.labels_invalid, detail=detail))
        decision = self._decide(ref, inspection, now, refusals)
        if labels is not None:
            decision.labels = labels
            decision.metadata = derive_classes(decision.metadata, labels)
        decision.data_region = home.cell or self.res.cell
        decision.region_rule = home.rule
        decision.relocated_from = s3_metadata.get(ORIGIN_META)
        return decision

    def _decide_and_commit(
        self,
        ref: ObjectRef,
        inspection: gate.Inspection,
        home: residency.Residency,
        now: datetime,
        source: tuple[str, str, str | None],
        s3_metadata: Mapping[str, str],
        label_ctx: LabelContext | None = None,
    ) -> Decision:
        """Decide (the gate's verdict, then near duplicates against the index) and commit; when a
        band item changed between lookup and commit, look up again (see adapters/nearindex.py)."""
        for attempt in range(NEAR_RETRIES):
            decision = self._evaluate(ref, inspection, home, s3_metadata, now, label_ctx)
            plan = apply_near_duplicates(decision, inspection, self.config, self.near)
            try:
                return self._commit(decision, inspection, source=source, s3_metadata=s3_metadata, plan=plan)
            except IndexChanged:
                _backoff(attempt)
        raise RuntimeError(f"near-duplicate index kept changing for {ref.key}; the event will be retried")

    def _policy_refusals(
        self, metadata: ImageMetadata, home: residency.Residency, held: str | None, today: datetime
    ) -> list[Refusal]:
        """Residency and consent: the refusals that depend on the registry, not on the bytes."""
        out: list[Refusal] = []
        if home.cell is None:
            out.append(Refusal(reason=Reason.region_unresolved, detail=home.detail))
        elif home.cell != self.res.cell:
            out.append(Refusal(reason=Reason.region_misrouted, detail=f"{home.detail}; not relocated twice"))
        if held == str(Reason.region_misrouted):
            out.append(
                Refusal(reason=Reason.region_misrouted, detail="misrouted upload held by the source's policy")
            )
        needed = consent.personal_data(metadata, self.config)
        if needed:
            record = self.ledger.get_consent(metadata.consent_id) if metadata.consent_id else None
            refusal = consent.check(metadata, needed, record, today.date())
            if refusal is not None:
                out.append(refusal)
        return out

    def _relocate(
        self, ref: ObjectRef, head: ObjectHead, sidecar: Sidecar, cell: str, policy: Policy
    ) -> Decision | None:
        """Hand an upload to the cell it belongs to, then purge every version of it here.

        This cell records nothing of the image (no decision, record, hash or metadata): only an
        anonymous counter. The copy carries its origin, so its own cell records where it came from
        and the uploader can still find the decision."""
        peer = self.peers.get(cell)
        if peer is None:
            raise LookupError(f"no route to cell {cell!r} from {self.res.cell!r}")
        version = ref.version_id or ref.etag or "unversioned"
        marks = {ORIGIN_META: f"{ref.bucket}/{ref.key}@{version}"}
        if policy.misrouted == "quarantine":
            marks[HOLD_META] = str(Reason.region_misrouted)
        sidecar_key = ref.key + SIDECAR_SUFFIX
        # Server-side copies through the peer's region: no upload, however large, is read here.
        # An object gone since its HEAD fails the copy; the retry then finds nothing to move.
        landing = peer.resources.landing_bucket
        if sidecar.present:
            peer.store.copy(
                ref.bucket, sidecar_key, landing, sidecar_key, sidecar.version,
                size=sidecar.size, metadata={}, content_type="application/json",
            )  # fmt: skip
        peer.store.copy(
            ref.bucket, ref.key, landing, ref.key, head.version_id,
            size=head.size, metadata={**head.metadata, **marks}, content_type=head.content_type,
        )  # fmt: skip
        self.ledger.bump([Increment(day=self.clock().date(), dimension="relocated_out", value=cell)])
        if sidecar.present:
            self.store.delete_all_versions(ref.bucket, sidecar_key)
        self.store.delete_all_versions(ref.bucket, ref.key)
        return None

    def _as_duplicate(self, decision: Decision, original: Mapping[str, Any]) -> Decision:
        stored = original.get("stored")
        return decision.model_copy(
            update={
                "status": Status.duplicate,
                "duplicate_of": original.get("image_id"),
                "distance": None,
                "burst": False,
                "cluster_id": original.get("cluster_id"),
                "split": original.get("split"),
                "stored": StoredAt.model_validate(stored) if stored else None,
            }
        )

    def _commit(
        self,
        decision: Decision,
        inspection: gate.Inspection,
        source: tuple[str, str, str | None],
        s3_metadata: Mapping[str, str],
        plan: NearPlan | None = None,
    ) -> Decision:
        """Copy, then commit; returns the decision as committed (possibly turned duplicate)."""
        if decision.status in CURATED_STATUSES and decision.image_id:
            return self._claim(decision, source, plan=plan)
        primary = decision.reasons[0] if decision.reasons else "refused"
        qkey = quarantine_key(primary, version_of(decision), decision.key)
        days = self._retention(decision, "quarantine")
        decision.stored = self._copy_to(source, decision, self.res.quarantine_bucket, qkey, days)
        self.store.put(
            self.res.quarantine_bucket,
            qkey + ".reason.json",
            json.dumps(decision.to_json_dict(), indent=2, sort_keys=True).encode(),
            content_type="application/json",
        )
        pending = None
        if decision.status is Status.quarantined and Reason.metadata_incomplete in decision.reasons:
            pending = {"decision": decision.to_json_dict(), "s3_metadata": dict(s3_metadata)}
        self.ledger.commit(
            decision=decision,
            increments=intake_increments(decision),
            pending=pending,
            retention_days=days,
        )
        return decision

    def _claim(
        self,
        decision: Decision,
        source: tuple[str, str, str | None],
        withdrawn: Sequence[Increment] = (),
        resolve_pending: tuple[str, str] | None = None,
        plan: NearPlan | None = None,
    ) -> Decision:
        """Make the image the original (curated copy + conditional record), or a sighting of the
        original that won the conditional write."""
        assert decision.image_id
        days = self._retention(decision, "curated")
        original = self.ledger.get_image(decision.image_id)
        if original is None:
            dest = curated_key(decision.image_id, decision.image.format)
            decision.stored = self._copy_to(source, decision, self.res.curated_bucket, dest, days)
            index_actions = plan.actions(self.near) if plan else ()
            extra_actions = self.labels.stem_actions(decision)
            # decision, image record, pending item resolved, origin, index entries, label pairing
            fixed = 2 + (resolve_pending is not None) + bool(decision.relocated_from)
            increments = claim_increments(
                decision, fixed + len(index_actions) + len(extra_actions), withdrawn
            )
            try:
                self.ledger.commit(
                    decision=decision,
                    increments=increments,
                    claim_image=True,
                    resolve_pending=resolve_pending,
                    retention_days=days,
                    index_actions=index_actions,
                    extra_actions=extra_actions,
                )
                return decision
            except ImageExists:
                original = self.ledger.get_image(decision.image_id) or {}
        decision = self._as_duplicate(decision, original)
        self.ledger.commit(
            decision=decision,
            increments=[*intake_increments(decision), *withdrawn],
            resolve_pending=resolve_pending,
            retention_days=days,
        )
        return decision

    def _retention(self, decision: Decision, role: retention.Role) -> int | None:
        return retention.days_for(self.config, self.res.cell, decision.metadata.source_id, role)

    def _copy_to(
        self, source: tuple[str, str, str | None], decision: Decision, bucket: str, key: str, days: int | None
    ) -> StoredAt:
        self.store.copy(source[0], source[1], bucket, key, source[2], size=decision.image.bytes)
        if days:
            self.store.tag(bucket, key, {retention.RETENTION_TAG: retention.tag_value(days)})
        return StoredAt(bucket=bucket, key=key, region=self.res.region)

    # sidecars --------------------------------------------------------------------------------------
    def _read_sidecar(self, bucket: str, image_key: str) -> Sidecar:
        found = self.store.get_prefix(bucket, image_key + SIDECAR_SUFFIX, SIDECAR_MAX_BYTES)
        if found is None:
            return Sidecar()
        return replace(parse_sidecar(found.data, found.size), version=found.version_id, size=found.size)

    def _on_sidecar(self, ref: ObjectRef) -> Decision | None:
        image_key = ref.key[: -len(SIDECAR_SUFFIX)]
        if self.ledger.get_pending(ref.bucket, image_key) is None:
            return None  # its image has not been decided yet: the image's processing will read it
        sidecar = self._read_sidecar(ref.bucket, image_key)
        if not sidecar.present:
            return None
        return self._reevaluate(ref.bucket, image_key, sidecar)

    def _reevaluate(self, bucket: str, image_key: str, sidecar: Sidecar) -> Decision | None:
        """Decide a pending image again with its late sidecar, from its quarantined copy."""
        pending = self.ledger.get_pending(bucket, image_key)
        if pending is None:
            return None
        prior = Decision.model_validate(pending["decision"])
        assert prior.stored is not None
        data = self.store.get(prior.stored.bucket, prior.stored.key)
        if data is None:
            return None
        now = self.clock()
        s3_metadata = pending.get("s3_metadata", {})
        inp = gate.GateInput(
            key=image_key,
            data=data,
            s3_metadata=user_metadata(s3_metadata),
            sidecar=sidecar.content,
            sidecar_error=sidecar.error,
            cell=self.res.cell,
        )
        inspection = gate.inspect(inp, self.config, now)
        # A late sidecar cannot move an image to another cell from quarantine: the residency
        # check then refuses it as misrouted, for an operator to erase or re-upload.
        home = residency.resolve(inspection.metadata, self.config, self.res.cell, inspection.policy)
        ref = ObjectRef(bucket=bucket, key=image_key, version_id=prior.version_id, etag=prior.etag)
        label_ctx = self.labels.context(bucket, image_key, sidecar.content)
        for attempt in range(NEAR_RETRIES):
            decision = self._evaluate(ref, inspection, home, s3_metadata, now, label_ctx).model_copy(
                update={"reevaluated": True}
            )
            plan = apply_near_duplicates(decision, inspection, self.config, self.near)
            if decision.status.is_refusal:
                # Still refused: keep the sidecar beside the quarantined object; it stays pending.
                self.store.put(
                    prior.stored.bucket,
                    prior.stored.key + ".sidecar.json",
                    json.dumps(sidecar.content or {}, sort_keys=True).encode(),
                    content_type="application/json",
                )
                self._delete_landing(bucket, image_key + SIDECAR_SUFFIX, sidecar.version)
                return prior
            try:
                decision = self._claim(
                    decision,
                    (prior.stored.bucket, prior.stored.key, None),
                    withdrawn=intake_increments(prior, sign=-1),
                    resolve_pending=(bucket, image_key),
                    plan=plan,
                )
                break
            except IndexChanged:
                _backoff(attempt)
            except AlreadyDecided:
                return None
        else:
            raise RuntimeError(f"near-duplicate index kept changing for {image_key}; retried later")
        self.store.delete(prior.stored.bucket, prior.stored.key + ".reason.json")
        # An earlier, insufficient sidecar kept beside the quarantined copy goes with it.
        self.store.delete(prior.stored.bucket, prior.stored.key + ".sidecar.json")
        self.store.delete(prior.stored.bucket, prior.stored.key)
        self._delete_landing(bucket, image_key + SIDECAR_SUFFIX, sidecar.version)
        return decision

    # clean-up --------------------------------------------------------------------------------------
    def _delete_landing(self, bucket: str, key: str, version_id: str | None) -> None:
        """Remove a landing object version once its outcome is committed."""
        if version_id is None and self.store.head(bucket, key) is None:
            return
        self.store.delete(bucket, key, version_id)
