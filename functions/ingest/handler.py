"""Ingest function: an SQS batch of S3 events in, one gate decision per object, partial failures out.

Thin by design: parse, call the ingest service, log and count the outcome. Log lines name no
object, camera or image: a status, reasons and the SQS message id (see docs/privacy.md). The service is
idempotent on bucket + key + version/etag through the ledger's conditional decision write. A record
whose processing raises is reported in ``batchItemFailures`` and retried by SQS; after the queue's
maxReceiveCount it lands in the DLQ, its object still in the landing bucket.

Cold start: importing this module loads nothing heavy. Powertools, pydantic, botocore, numpy and
Pillow are imported by the first invocation, and the X-Ray SDK only where tracing is on (in Lambda
with tracing enabled); everything is then cached for the life of the container.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _observed() -> Any:
    """The Powertools-wrapped handler, built once per container."""
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    from lenslog import runtime
    from lenslog.domain.events import objects_in_message
    from lenslog.settings import Settings

    logger = Logger(service="lenslog-ingest")
    metrics = Metrics(namespace="lenslog", service="ingest")
    processor = BatchProcessor(event_type=EventType.SQS)
    tracer = _tracer()

    def record_handler(record: Any) -> list[dict[str, Any]]:
        ingest = runtime.ingest_service(Settings.from_env())
        outcomes = []
        for ref in objects_in_message(record.body):
            decision = ingest.handle(ref)
            # The outcome and an opaque reference (the SQS message id) only: object keys carry
            # camera ids and capture times, and ids, hashes and metadata live in the ledger, where
            # an erasure or a relocation can reach them; a log line would outlive both.
            if decision is None:
                logger.info("nothing to decide", extra={"message_id": record.message_id})
                continue
            outcome = {"status": str(decision.status), "reasons": decision.reasons}
            logger.info("decided", extra={"message_id": record.message_id, **outcome})
            metrics.add_metric(name=f"decision_{decision.status}", unit=MetricUnit.Count, value=1)
            if decision.hashes and (decision.hashes.near_index or "").startswith("degraded"):
                # a full near-duplicate band item: the cell's NearIndexDegraded alarm watches this
                metrics.add_metric(name="near_index_degraded", unit=MetricUnit.Count, value=1)
            outcomes.append(outcome)
        return outcomes

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return process_partial_response(
            event=event, record_handler=traced_record, processor=processor, context=context
        )

    traced_record = tracer.capture_method(record_handler) if tracer else record_handler
    wrapped = metrics.log_metrics(handle)
    if tracer:
        wrapped = tracer.capture_lambda_handler(wrapped)
    return logger.inject_lambda_context(wrapped)


def _tracer() -> Any:
    """A Powertools Tracer where X-Ray tracing is on; None elsewhere, where Powertools would disable
    it anyway but still import the X-Ray SDK (about half of an untraced cold start)."""
    disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").lower() in ("1", "true", "yes", "on")
    if disabled or not os.environ.get("LAMBDA_TASK_ROOT"):
        return None
    from aws_lambda_powertools import Tracer

    return Tracer(service="lenslog-ingest")


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result: dict[str, Any] = _observed()(event, context)
    return result
