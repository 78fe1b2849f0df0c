"""Erasures: remove everything of an image, camera, consent or source from this cell, and prove it."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from lenslog.api.deps import caller, service
from lenslog.services.audit_models import ErasureBody, ErasureOutcome

router = APIGatewayRouter()


@router.post(
    "/erasures",
    tags=["erasures"],
    summary="Erase a subject from this cell and verify nothing of it remains",
    responses={
        200: {"description": "what was erased and the verification", "content": {
            "application/json": {"model": ErasureOutcome}}},
        403: {"description": "no authenticated caller"},
    },
)  # fmt: skip
def erase(request: Annotated[ErasureBody, Body()]) -> ErasureOutcome:
    return service(router).erase(request, caller(router))
