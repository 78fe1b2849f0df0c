"""Snapshots: take an immutable manifest of this cell's dataset, list them, read one."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from lenslog.api.deps import Cursor, Limit, service
from lenslog.domain.snapshot import SNAPSHOT_ID_PATTERN
from lenslog.services.audit import NotAllowed
from lenslog.services.snapshot_api import SnapshotBody, SnapshotDetail, SnapshotPage, SnapshotQueries

router = APIGatewayRouter()


def _queries() -> SnapshotQueries:
    queries = service(router).snapshots
    if queries is None:
        raise NotAllowed("snapshots are not enabled for this API")
    return queries  # type: ignore[no-any-return]


@router.post(
    "/snapshots",
    tags=["snapshots"],
    summary="Take a snapshot of this cell's dataset (accepted images, their splits and labels)",
    responses={
        201: {"description": "the snapshot, complete", "content": {
            "application/json": {"model": SnapshotDetail}}},
        202: {"description": "the snapshot, still being built (poll GET /snapshots/{snapshot_id})",
              "content": {"application/json": {"model": SnapshotDetail}}},
    },
)  # fmt: skip
def create_snapshot(request: Annotated[SnapshotBody, Body()]) -> Response[SnapshotDetail]:
    detail = _queries().create(request)
    return Response(
        status_code=201 if detail.status == "complete" else 202,
        content_type=content_types.APPLICATION_JSON,
        body=detail.model_dump(mode="json"),  # type: ignore[arg-type]  # serialised as the model declares
    )


@router.get("/snapshots", tags=["snapshots"], summary="This cell's snapshots, newest first")
def list_snapshots(limit: Limit = 20, cursor: Cursor = None) -> SnapshotPage:
    return _queries().list(limit, cursor)


@router.get(
    "/snapshots/<snapshot_id>",
    tags=["snapshots"],
    summary="One snapshot: counts, content hash and presigned links to its manifest parts",
)
def get_snapshot(snapshot_id: Annotated[str, Path(pattern=SNAPSHOT_ID_PATTERN)]) -> SnapshotDetail:
    return _queries().get(snapshot_id)
