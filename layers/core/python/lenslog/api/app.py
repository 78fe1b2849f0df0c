"""The resolver: routers composed, OpenAPI served, and the one place where errors become HTTP.

- an unknown id: 404 ``{"error": "not_found", "message": ...}``;
- a bad filter, body field or cursor: 422 ``{"error": "invalid_request", "message": ...,
  "fields": [{"field", "in", "message"}]}`` naming each offending field as the client spelled it;
- a caller who may not upload for a source: 403;
- a method the path does not declare: 405 with ``Allow``; a blank or repeated query parameter: 422
  (both checked once for every route, before it is called: ``lenslog.api.contract``);
- anything unexpected: 500 with a request id, the details only in the logs (never a stack trace
  or an internal name in a body).
"""

from __future__ import annotations

import base64
import binascii
import json
from functools import lru_cache
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from lenslog.api.contract import complete_document, invalid_request, precheck, route_shapes
from lenslog.services.audit import InvalidInput, NotAllowed, NotFound

TITLE = "lenslog audit API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Every question about an image, a camera, a decision or a report of one lenslog cell. "
    "Lists are cursor-paginated: pass `next_cursor` back as `cursor` until it is null. "
    "Errors: 404 unknown id, 422 invalid input (the field is named), 403 not allowed, "
    "405 a method the path does not serve. A query parameter is given once and never empty "
    "(leave it out for its default)."
)
OPENAPI_PATH = "/openapi.json"

logger = Logger(service="lenslog-audit-api")


def _error(status: HTTPStatus, error: str, message: str, **extra: Any) -> Response[Any]:
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body={"error": error, "message": message, **extra},
    )


def _field_of(loc: tuple[Any, ...] | list[Any], aliases: dict[str, str]) -> tuple[str, str]:
    where = str(loc[0]) if loc else "request"
    rest = list(loc[1:])
    if not rest or isinstance(rest[0], int):  # the whole body (e.g. not JSON: a character offset)
        return where, where
    name = ".".join(str(p) for p in rest)
    return aliases.get(name, name), where


def _validation_message(err: dict[str, Any]) -> str:
    """Pydantic's message without its internals (no input echo, no URLs, no class names)."""
    msg = str(err.get("msg", "invalid value"))
    return msg.removeprefix("Value error, ")[:300]


# Python parameter names that the API spells differently
_ALIASES = {"from_": "from", "class_": "class"}


def _register_errors(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response[Any]:
        fields = []
        for err in exc.errors():
            field, where = _field_of(err.get("loc") or (), _ALIASES)
            fields.append({"field": field, "in": where, "message": _validation_message(err)})
        return _error(HTTPStatus.UNPROCESSABLE_ENTITY, **invalid_request(fields))

    @app.exception_handler(InvalidInput)
    def _invalid_input(exc: InvalidInput) -> Response[Any]:
        return _error(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            "invalid_request",
            f"invalid {exc.field}: {exc.message}",
            fields=[{"field": exc.field, "in": exc.location, "message": exc.message}],
        )

    @app.exception_handler(NotFound)
    def _not_found(exc: NotFound) -> Response[Any]:
        return _error(HTTPStatus.NOT_FOUND, "not_found", str(exc))

    @app.exception_handler(NotFoundError)
    def _no_route(exc: NotFoundError) -> Response[Any]:
        return _error(HTTPStatus.NOT_FOUND, "not_found", "no such resource")

    @app.exception_handler(NotAllowed)
    def _forbidden(exc: NotAllowed) -> Response[Any]:
        return _error(HTTPStatus.FORBIDDEN, "forbidden", str(exc))

    @app.exception_handler(RequestUnsupportedContentType)
    def _media_type(exc: RequestUnsupportedContentType) -> Response[Any]:
        return _error(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "send the body as application/json"
        )

    @app.exception_handler(ServiceError)
    def _service_error(exc: ServiceError) -> Response[Any]:
        status = HTTPStatus(exc.status_code)
        return _error(status, status.phrase.lower().replace(" ", "_"), str(exc.msg))

    @app.exception_handler(json.JSONDecodeError)
    def _bad_json(exc: json.JSONDecodeError) -> Response[Any]:
        return _error(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            "invalid_request",
            "invalid body: not JSON",
            fields=[{"field": "body", "in": "body", "message": "not JSON"}],
        )

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[Any]:
        request_id = app.current_event.request_context.request_id if app.current_event else None
        logger.exception("unhandled error", extra={"request_id": request_id})
        return _error(
            HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "internal error", request_id=request_id
        )


def build_app() -> APIGatewayRestResolver:
    from lenslog.api import (
        cameras,
        coverage,
        decisions,
        erasures,
        images,
        labels,
        reports,
        snapshots,
        uploads,
    )

    app = APIGatewayRestResolver(enable_validation=True)
    for module in (images, decisions, cameras, coverage, labels, reports, uploads, erasures, snapshots):
        app.include_router(module.router)
    _register_errors(app)
    app.enable_swagger(path="/swagger", title=TITLE, version=VERSION, description=DESCRIPTION)

    document = lru_cache(maxsize=1)(lambda: openapi_document(app))  # built on first ask, once

    @app.get(OPENAPI_PATH, include_in_schema=False)
    def openapi_json() -> Response[str]:
        return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=document())

    return app


def openapi_document(app: APIGatewayRestResolver) -> str:
    """The OpenAPI document, deterministic (sorted keys), as served and as kept in docs/."""
    doc = json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION, description=DESCRIPTION))
    return json.dumps(complete_document(doc), indent=2, sort_keys=True) + "\n"


@lru_cache(maxsize=1)
def app() -> APIGatewayRestResolver:
    """The one resolver of this process (routers are module objects: compose them once)."""
    return build_app()


def resolve(event: dict[str, Any], context: Any, service: Any) -> dict[str, Any]:
    """Answer one API Gateway REST proxy event with ``service`` (an AuditService)."""
    from lenslog.api.deps import SERVICE_KEY

    broken = precheck(_shapes(), event)
    if broken is not None:
        status, body = broken
        allow = body.pop("allow", None)
        response = _raw_error(status, body)
        if allow:
            response["headers"]["Allow"] = allow
        return response
    refused = _refuse_non_json_body(event)
    if refused is not None:
        return refused
    resolver = app()
    resolver.append_context(**{SERVICE_KEY: service})
    return resolver.resolve(event, context)


@lru_cache(maxsize=1)
def _shapes() -> list[Any]:
    return route_shapes(app())


def _refuse_non_json_body(event: dict[str, Any]) -> dict[str, Any] | None:
    """Every request body of this API is JSON: refuse another media type with 415 before the
    resolver tries to parse it (a malformed multipart header would otherwise fail inside)."""
    if not event.get("body"):
        return None
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    media = str(headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        if not event.get("isBase64Encoded"):
            return None
        try:
            base64.b64decode(event["body"]).decode("utf-8")
            return None
        except (ValueError, binascii.Error):
            return _raw_error(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                {
                    "error": "invalid_request",
                    "message": "invalid body: not UTF-8 JSON",
                    "fields": [{"field": "body", "in": "body", "message": "not UTF-8 JSON"}],
                },
            )
    return _raw_error(
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        {"error": "unsupported_media_type", "message": "send the body as application/json"},
    )


def _raw_error(status: HTTPStatus, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status.value,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "multiValueHeaders": {},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def write_openapi(path: str) -> None:
    """Rewrite the checked-in copy of the OpenAPI document (``make openapi``)."""
    from pathlib import Path

    Path(path).write_text(openapi_document(app()), encoding="utf-8")
