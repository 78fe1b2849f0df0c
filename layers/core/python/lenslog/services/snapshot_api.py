"""The audit API's snapshot questions: take one, list them, read one (with presigned links to its
manifest parts). Models and answers over a ``SnapshotService``; errors are the audit service's
(422 naming the field, 404), mapped to HTTP in ``lenslog.api.app``.

API Gateway answers within 29 seconds, so ``POST /snapshots`` builds for at most
``API_BUILD_SECONDS``: a small cell's snapshot is complete in the answer (201); a large one is
handed to the snapshot function, which goes on from the continuation, invocation after
invocation, and the answer says ``building`` (202): poll ``GET /snapshots/{id}``.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from lenslog.adapters.audit import InvalidCursor, decode_cursor, encode_cursor
from lenslog.adapters.snapshots import SNAPSHOTS_PK, SnapshotRecord
from lenslog.domain.snapshot import FILTER_VALUE_PATTERN, MAX_FILTERS, NAME_PATTERN, SnapshotInputError
from lenslog.services.audit import InvalidInput, NotFound
from lenslog.services.audit_models import Page
from lenslog.services.snapshots import SnapshotNotFound

API_BUILD_SECONDS = 20.0
PART_LINK_SECONDS = 900

FilterKey = Literal["camera_id", "source_id", "source_type", "site", "split", "status", "class", "labels"]
FilterValue = Annotated[str, Field(pattern=FILTER_VALUE_PATTERN, max_length=128)]


class SnapshotBody(BaseModel):
    """A snapshot to take: an optional name and filters (a key's values: either; keys: all)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, pattern=NAME_PATTERN, max_length=64)
    filters: dict[FilterKey, Annotated[list[FilterValue], Field(min_length=1, max_length=MAX_FILTERS)]] = (
        Field(
            default_factory=dict,
            max_length=8,
            description='e.g. {"split": ["train"], "class": ["pallet", "person"]}; split is '
            "train|val|test, status accepted|near_duplicate, labels labelled|null|unlabelled|invalid",
        )
    )


class SnapshotSummary(BaseModel):
    snapshot_id: str
    name: str | None = None
    cell: str
    status: Literal["building", "complete"]
    created_at: datetime
    config_version: str
    version: int = Field(description="manifest version: 1, plus one per erasure that changed it")
    content_hash: str | None = Field(None, description="sha256 over the parts' digests; null while building")
    images: int
    splits: dict[str, int]
    removed: int = Field(description="images removed by erasures since it was taken")


class SnapshotPart(BaseModel):
    key: str
    sha256: str
    images: int
    url: str = Field(description="presigned GET of the part (JSON Lines, one image a line)")


class SnapshotDetail(SnapshotSummary):
    updated_at: datetime
    filters: dict[str, list[str]]
    counts: dict[str, Any] = Field(description="images, splits, labels, classes, classes_by_split")
    erasures: int
    parts: list[SnapshotPart]
    links_expire_in: int


class SnapshotPage(Page):
    items: list[SnapshotSummary]


def _summary(record: SnapshotRecord) -> dict[str, Any]:
    return {
        "snapshot_id": record.snapshot_id,
        "name": record.name,
        "cell": record.cell,
        "status": record.status,
        "created_at": record.created_at,
        "config_version": record.config_version,
        "version": record.version,
        "content_hash": record.content_hash,
        "images": int(record.counts.get("images", 0)),
        "splits": dict(record.counts.get("splits") or {}),
        "removed": record.removed,
    }


class SnapshotQueries:
    def __init__(self, snapshots: Any, s3_client: Any, build_seconds: float = API_BUILD_SECONDS):
        self.snapshots = snapshots  # the cell's SnapshotService
        self.s3_client = s3_client  # signs part links in the cell's region
        self.build_seconds = build_seconds

    def create(self, body: SnapshotBody) -> SnapshotDetail:
        started = time.monotonic()
        if sum(len(v) for v in body.filters.values()) > MAX_FILTERS:
            raise InvalidInput("filters", f"at most {MAX_FILTERS} values in all", "body")
        try:
            record = self.snapshots.create(
                name=body.name,
                filters=body.filters,
                should_stop=lambda: time.monotonic() - started > self.build_seconds,
            )
        except SnapshotInputError as exc:
            raise InvalidInput(
                "filters" if exc.field == "filter" else exc.field, exc.message, "body"
            ) from None
        return self._detail(record)

    def list(self, limit: int, cursor: str | None) -> SnapshotPage:
        start = None
        if cursor:
            try:
                _, start = decode_cursor(cursor, None, (SNAPSHOTS_PK,))
            except InvalidCursor as exc:
                raise InvalidInput("cursor", str(exc)) from None
        records, lek = self.snapshots.store.page(limit, start)
        return SnapshotPage(
            items=[SnapshotSummary(**_summary(r)) for r in records],
            next_cursor=encode_cursor(0, lek) if lek else None,
        )

    def get(self, snapshot_id: str) -> SnapshotDetail:
        try:
            return self._detail(self.snapshots.get(snapshot_id))
        except SnapshotNotFound:
            raise NotFound("snapshot", snapshot_id) from None

    def _detail(self, record: SnapshotRecord) -> SnapshotDetail:
        parts = [
            SnapshotPart(
                key=p.key,
                sha256=p.sha256,
                images=p.images,
                url=self.s3_client.generate_presigned_url(
                    "get_object", Params={"Bucket": record.bucket, "Key": p.key}, ExpiresIn=PART_LINK_SECONDS
                ),
            )
            for p in record.parts
        ]
        return SnapshotDetail(
            **_summary(record),
            updated_at=record.updated_at,
            filters=record.filters,
            counts=record.counts,
            erasures=record.erasures,
            parts=parts,
            links_expire_in=PART_LINK_SECONDS,
        )
