"""Snapshot function: goes on with one snapshot build from its continuation, then hands the rest
to its own next invocation (asynchronous), so that a build of any size never meets Lambda's
15-minute limit.

Event: ``{"snapshot_id": "snap-..."}`` (sent by the audit API when a build outlives its request,
and by this function to itself). Each invocation writes manifest parts until fewer than
``MARGIN_MS`` of its time remain (a part takes seconds), saves the continuation and invokes the
function again. The build is idempotent per part: a retried invocation goes on from the last
saved part; a second one running concurrently loses the conditional write and stops.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from lenslog import runtime
from lenslog.settings import Settings

logger = Logger(service="lenslog-snapshot")
tracer = Tracer(service="lenslog-snapshot")

MARGIN_MS = 120_000


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    from lenslog.adapters.snapshots import Conflict

    settings = Settings.from_env()
    service = runtime.snapshot_service(settings)
    snapshot_id = str(event["snapshot_id"])
    try:
        record = service.step(snapshot_id, lambda: context.get_remaining_time_in_millis() < MARGIN_MS)
    except Conflict:  # another invocation saved a part meanwhile: that one goes on
        logger.info("snapshot build taken over", extra={"snapshot_id": snapshot_id})
        return {"snapshot_id": snapshot_id, "status": "taken_over"}
    if record.status != "complete":
        runtime.snapshot_continuation(settings)(snapshot_id)
    logger.info(
        "snapshot step",
        extra={"snapshot_id": snapshot_id, "status": record.status, "parts": len(record.parts)},
    )
    return {"snapshot_id": snapshot_id, "status": record.status, "parts": len(record.parts)}
