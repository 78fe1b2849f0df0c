"""Coverage: the aggregate counters per day, dimension and value."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from lenslog.api.deps import From, To, service
from lenslog.domain.aggregates import Dimension
from lenslog.services.audit_models import Coverage

router = APIGatewayRouter()


@router.get("/coverage", tags=["coverage"], summary="Aggregate counters by day (default: the last 28 days)")
def get_coverage(
    from_: From = None,
    to: To = None,
    dimension: Annotated[Dimension | None, Query(description="one dimension; all when absent")] = None,
) -> Coverage:
    return service(router).coverage(from_=from_, to=to, dimension=dimension)
