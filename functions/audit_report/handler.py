"""Audit report function: on the weekly schedule (or invoked on demand with ``{"period_end":
"YYYY-MM-DD"}``) build the report from every cell's aggregates, store it and email it."""

from __future__ import annotations

from datetime import date
from typing import Any

from aws_lambda_powertools import Logger

from lenslog import runtime
from lenslog.settings import Settings

logger = Logger(service="lenslog-audit-report")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    period_end = event.get("period_end") if isinstance(event, dict) else None
    outcome = runtime.report_service(Settings.from_env()).run(
        date.fromisoformat(period_end) if period_end else None
    )
    result = {
        "report_id": outcome.report.report_id,
        "verdict": str(outcome.report.verdict),
        "stored": outcome.stored,
        "message_id": outcome.message_id,
        "email_error": outcome.email_error,
        "items_read": outcome.items_read,
    }
    if outcome.email_error:
        logger.error("report stored but not emailed", extra=result)
    else:
        logger.info("report sent", extra=result)
    return result
