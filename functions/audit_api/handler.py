"""Audit API function: an API Gateway REST proxy event in, the audit resolver's response out.

Thin by design: the routers (``lenslog.api``) parse and validate, the audit service answers, and
``lenslog.api.app`` maps errors to HTTP. The caller is authorised by API Gateway (IAM); its ARN
reaches the upload route through the request context.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from lenslog import runtime
from lenslog.api.app import resolve
from lenslog.settings import Settings

logger = Logger(service="lenslog-audit-api")
tracer = Tracer(service="lenslog-audit-api")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(event, context, runtime.audit_service(Settings.from_env()))
