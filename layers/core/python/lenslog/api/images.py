"""Images: one record with everything known about it, lists by camera/status/time, duplicates."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from lenslog.api.deps import Cursor, From, ImageId, Limit, To, service
from lenslog.config import SourceType
from lenslog.domain.models import Status
from lenslog.services.audit_models import Duplicates, ImageDetail, ImagePage

router = APIGatewayRouter()

NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


@router.get("/images", tags=["images"], summary="Images by camera, status, source type, split, class, time")
def list_images(
    camera_id: Annotated[
        str | None,
        Query(max_length=64, pattern=NAME, description="served by the camera index (capture time order)"),
    ] = None,
    source_type: Annotated[SourceType | None, Query()] = None,
    status: Annotated[
        Status | None, Query(description="served by the status index without camera_id")
    ] = None,
    split: Annotated[Literal["train", "val", "test"] | None, Query()] = None,
    class_: Annotated[
        str | None, Query(alias="class", max_length=64, pattern=NAME, description="a class")
    ] = None,
    from_: From = None,
    to: To = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> ImagePage:
    return service(router).images(
        camera_id=camera_id,
        source_type=source_type,
        status=status,
        split=split,
        class_=class_,
        from_=from_,
        to=to,
        limit=limit,
        cursor=cursor,
    )


@router.get("/images/<image_id>", tags=["images"], summary="An image: record, provenance, decisions, storage")
def get_image(
    image_id: ImageId,
    presign: Annotated[bool, Query(description="add a short-lived download URL")] = False,
) -> ImageDetail:
    return service(router).image(image_id, presign=presign)


@router.get(
    "/images/<image_id>/duplicates",
    tags=["images"],
    summary="Exact sightings and near-duplicate cluster members",
)
def get_duplicates(image_id: ImageId) -> Duplicates:
    return service(router).duplicates(image_id)
