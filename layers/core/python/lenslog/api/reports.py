"""Reports: the index of audit reports and presigned links to their files."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from lenslog.adapters.reports import REPORT_ID_PATTERN
from lenslog.api.deps import Cursor, Limit, service
from lenslog.services.audit_models import ReportDetail, ReportPage

router = APIGatewayRouter()


@router.get("/reports", tags=["reports"], summary="Audit reports, newest period first")
def list_reports(limit: Limit = 20, cursor: Cursor = None) -> ReportPage:
    return service(router).reports(limit=limit, cursor=cursor)


@router.get("/reports/<report_id>", tags=["reports"], summary="One report and presigned links to its files")
def get_report(report_id: Annotated[str, Path(pattern=REPORT_ID_PATTERN)]) -> ReportDetail:
    return service(router).report(report_id)
