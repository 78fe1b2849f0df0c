"""What every router needs: the service of the request's cell and the caller's identity."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from lenslog.services.audit import AuditService

SERVICE_KEY = "audit_service"

Limit = Annotated[int, Query(ge=1, le=100, description="page size, 1..100")]
Cursor = Annotated[
    str | None,
    Query(max_length=2048, pattern=r"^[A-Za-z0-9_-]*$", description="next_cursor of the previous page"),
]
From = Annotated[
    str | None,
    Query(alias="from", max_length=40, description="start: YYYY-MM-DD or ISO 8601 date-time (UTC if naive)"),
]
To = Annotated[
    str | None,
    Query(alias="to", max_length=40, description="end: YYYY-MM-DD (inclusive) or ISO 8601 date-time"),
]
ImageId = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="sha256 of the image bytes")]


def service(router: APIGatewayRouter) -> AuditService:
    svc: AuditService = router.context[SERVICE_KEY]
    return svc


def caller(router: APIGatewayRouter) -> str | None:
    """The IAM principal of the request (API Gateway IAM authorisation), None locally."""
    identity = router.current_event.request_context.identity
    return identity.user_arn or None
