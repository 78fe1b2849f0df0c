"""Cameras: the registry and each camera's coverage from the aggregates."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from lenslog.api.deps import From, To, service
from lenslog.services.audit_models import CameraDetail, CameraList

router = APIGatewayRouter()

CameraId = Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


@router.get("/cameras", tags=["cameras"], summary="Cameras and their coverage (default: the last 28 days)")
def list_cameras(from_: From = None, to: To = None) -> CameraList:
    return service(router).cameras(from_=from_, to=to)


@router.get("/cameras/<camera_id>", tags=["cameras"], summary="One camera: registry, coverage, last image")
def get_camera(camera_id: CameraId, from_: From = None, to: To = None) -> CameraDetail:
    return service(router).camera(camera_id, from_=from_, to=to)
