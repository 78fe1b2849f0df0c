"""Decisions: the gate's audit log by decision day."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from lenslog.api.deps import Cursor, From, Limit, To, service
from lenslog.domain.models import Reason, Status
from lenslog.services.audit_models import DecisionPage

router = APIGatewayRouter()


@router.get(
    "/decisions", tags=["decisions"], summary="The audit log, newest first (default: the last 7 days)"
)
def list_decisions(
    status: Annotated[Status | None, Query()] = None,
    reason: Annotated[Reason | None, Query()] = None,
    from_: From = None,
    to: To = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> DecisionPage:
    return service(router).decisions(
        status=status, reason=reason, from_=from_, to=to, limit=limit, cursor=cursor
    )
