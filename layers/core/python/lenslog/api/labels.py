"""Labels: the labels' audit of the cell's dataset, or of one camera's, over a window of days."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from lenslog.api.deps import From, To, service
from lenslog.api.images import NAME
from lenslog.services.audit_models import LabelStats

router = APIGatewayRouter()


@router.get(
    "/labels",
    tags=["labels"],
    summary="Label statistics of the dataset, per split, or of one camera (default: the last 28 days)",
)
def get_labels(
    camera_id: Annotated[
        str | None,
        Query(max_length=64, pattern=NAME, description="one camera: read from its dataset records"),
    ] = None,
    from_: From = None,
    to: To = None,
) -> LabelStats:
    return service(router).labels(camera_id=camera_id, from_=from_, to=to)
