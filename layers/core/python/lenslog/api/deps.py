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
    Query(
        min_length=1,
        max_length=2048,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="next_cursor of the previous page (opaque; only a cursor of the same query is accepted)",
        openapi_examples={"start": {"summary": "the first page, as a cursor", "value": "eyJwIjowfQ"}},
    ),
]

# A time bound: a date, or a date-time with an optional offset (naive = UTC). The offset's "+" may
# arrive as a space (an unencoded "+" in a query string). Years 1000..9999.
_DAY = r"[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_TIME = r"T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
_OFFSET = r"(Z|[-+ ]([01][0-9]|2[0-3]):[0-5][0-9])"
BOUND_PATTERN = f"^{_DAY}({_TIME}{_OFFSET}?)?$"
From = Annotated[
    str | None,
    Query(
        alias="from",
        max_length=40,
        pattern=BOUND_PATTERN,
        description="start: YYYY-MM-DD or an ISO 8601 date-time (UTC if naive)",
    ),
]
To = Annotated[
    str | None,
    Query(
        alias="to",
        max_length=40,
        pattern=BOUND_PATTERN,
        description="end: YYYY-MM-DD (inclusive) or an ISO 8601 date-time (inclusive)",
    ),
]
ImageId = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="sha256 of the image bytes")]


def service(router: APIGatewayRouter) -> AuditService:
    svc: AuditService = router.context[SERVICE_KEY]
    return svc


def caller(router: APIGatewayRouter) -> str | None:
    """The IAM principal of the request (API Gateway IAM authorisation), None locally."""
    identity = router.current_event.request_context.identity
    return identity.user_arn or None
