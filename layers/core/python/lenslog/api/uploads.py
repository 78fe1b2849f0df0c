"""Uploads: presigned POST forms into the landing bucket of the source's data region, bounded by a
policy (key prefix, byte limit, content type and metadata)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from lenslog.api.deps import caller, service
from lenslog.services.audit_models import UploadRequest, UploadTicket

router = APIGatewayRouter()


@router.post(
    "/uploads",
    tags=["uploads"],
    summary="A presigned POST for one image of a camera the caller may upload for, bounded by its policy",
    responses={
        201: {"description": "the upload ticket", "content": {"application/json": {"model": UploadTicket}}},
        403: {"description": "the caller may not upload for this source"},
    },
)
def create_upload(request: Annotated[UploadRequest, Body()]) -> Response[UploadTicket]:
    ticket = service(router).presign_upload(request, caller(router))
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=ticket.model_dump(mode="json"),  # type: ignore[arg-type]  # serialised as the model declares
    )
