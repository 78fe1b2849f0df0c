"""Ingest function: an SQS batch of S3 events in, one gate decision per object, partial failures out.

Thin by design: parse, call the idempotent ingest service, log and count the outcome. A record
whose processing raises is reported in ``batchItemFailures`` and retried by SQS; after the queue's
maxReceiveCount it lands in the DLQ, its object still in the landing bucket.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from lenslog import runtime
from lenslog.domain.events import objects_in_message
from lenslog.settings import Settings

logger = Logger(service="lenslog-ingest")
tracer = Tracer(service="lenslog-ingest")
metrics = Metrics(namespace="lenslog", service="ingest")
processor = BatchProcessor(event_type=EventType.SQS)


@tracer.capture_method
def record_handler(record: SQSRecord) -> list[dict[str, Any]]:
    ingest = runtime.idempotent_ingest(Settings.from_env())
    outcomes = []
    for ref in objects_in_message(record.body):
        decision = ingest(obj={"idempotency_key": ref.idempotency_key, "ref": ref.model_dump()})
        if decision is None:
            logger.info("nothing to decide", extra={"bucket": ref.bucket, "key": ref.key})
            continue
        logger.info("decided", extra={"bucket": ref.bucket, "key": ref.key, **decision})
        metrics.add_metric(name=f"decision_{decision['status']}", unit=MetricUnit.Count, value=1)
        outcomes.append(decision)
    return outcomes


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    runtime.idempotent_ingest(Settings.from_env()).idempotency_config.register_lambda_context(context)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
