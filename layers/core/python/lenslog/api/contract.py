"""The API as a contract: what every request is checked against before its route sees it, and
what the OpenAPI document adds to what the routes' signatures say.

- **The query string, once for every route.** A declared query parameter given empty, blank
  (whitespace only) or more than once is a 422 naming it, whatever its type: a date, an enum, a
  cursor or a limit. No parameter of this API is a list, and "absent" is spelled by leaving the
  parameter out, never by sending it empty. Undeclared parameters are ignored, as before.
- **Methods.** A path the API serves, asked with a method it does not declare, is a 405 with an
  ``Allow`` header (not a 404: the resource exists).
- **The document.** Every operation's error responses with their shapes (the generated 422 of the
  framework describes a body this API never sends), and OpenAPI links from the lists to the items
  they name, so that a client (or a stateful fuzzer) reaches every operation with real ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

from pydantic import BaseModel, Field

# errors -------------------------------------------------------------------------------------------------


class FieldError(BaseModel):
    field: str = Field(description="the parameter or body field, as the client spells it")
    in_: Literal["query", "path", "body", "header", "request"] = Field(alias="in")
    message: str


class InvalidRequest(BaseModel):
    """422: the request names what is wrong, field by field."""

    error: Literal["invalid_request"]
    message: str
    fields: list[FieldError] = Field(min_length=1)


class Error(BaseModel):
    """Every other error: a machine-readable code and a sentence (500s add the request id)."""

    error: str = Field(description="not_found, forbidden, unsupported_media_type, internal_error, ...")
    message: str
    request_id: str | None = Field(default=None, description="500 only: quote it to the operators")


def invalid_request(fields: list[dict[str, str]]) -> dict[str, Any]:
    """The 422 body for ``fields`` (each ``{"field", "in", "message"}``)."""
    names = ", ".join(dict.fromkeys(f["field"] for f in fields)) or "request"
    return {"error": "invalid_request", "message": f"invalid {names}", "fields": fields}


# routes as the checks need them ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteShape:
    method: str
    rule: re.Pattern[str]
    route: Any  # the resolver's route: its dependant (built on first use, then kept) declares the query

    def query(self) -> frozenset[str]:
        """The declared query parameter names, as spelled on the wire."""
        return frozenset(f.alias for f in self.route.dependant.query_params)


def route_shapes(resolver: Any) -> list[RouteShape]:
    """Method and path rule of every route of a Powertools resolver (its route table, as its own
    matching reads it)."""
    routes = list(resolver._static_routes) + list(resolver._dynamic_routes)
    return [RouteShape(route.method.upper(), route.rule, route) for route in routes]


def check_query(query: dict[str, list[str]], declared: Iterable[str]) -> list[dict[str, str]]:
    """The errors of a query string (every value of each name) against the declared names."""
    errors = []
    for name in sorted(set(declared) & set(query)):
        values = query[name]
        if len(values) > 1:
            errors.append({"field": name, "in": "query", "message": "given more than once; give it once"})
        elif not values or not values[0].strip():
            errors.append(
                {"field": name, "in": "query", "message": "empty; leave the parameter out for its default"}
            )
    return errors


def query_of(event: dict[str, Any]) -> dict[str, list[str]]:
    """Every value of every query parameter of an API Gateway REST proxy event."""
    multi = event.get("multiValueQueryStringParameters")
    if multi:
        return {str(k): [str(v) for v in (vs if isinstance(vs, list) else [vs])] for k, vs in multi.items()}
    single = event.get("queryStringParameters") or {}
    return {str(k): [str(v)] for k, v in single.items()}


def precheck(shapes: list[RouteShape], event: dict[str, Any]) -> tuple[HTTPStatus, dict[str, Any]] | None:
    """(status, body) when the request breaks the contract before any route is called, else None:
    405 for a method the path does not declare, 422 for a blank or repeated query parameter."""
    method = str(event.get("httpMethod") or "").upper()
    path = str(event.get("path") or "/")
    matching = [s for s in shapes if s.rule.match(path)]
    if not matching:
        return None  # the resolver's 404
    mine = [s for s in matching if s.method == method]
    if not mine:
        allow = ", ".join(sorted({s.method for s in matching}))
        return HTTPStatus.METHOD_NOT_ALLOWED, {
            "error": "method_not_allowed",
            "message": f"{method} is not allowed here; allowed: {allow}",
            "allow": allow,
        }
    errors = check_query(query_of(event), mine[0].query())
    if errors:
        return HTTPStatus.UNPROCESSABLE_ENTITY, invalid_request(errors)
    return None


# the document ---------------------------------------------------------------------------------------------

# (path, method) of the source operation -> link name -> (target path, method, parameters)
LINKS: dict[tuple[str, str], dict[str, tuple[str, str, dict[str, str]]]] = {
    ("/reports", "get"): {
        "GetReport": ("/reports/{report_id}", "get", {"report_id": "$response.body#/items/0/report_id"}),
        "NextReports": ("/reports", "get", {"cursor": "$response.body#/next_cursor"}),
    },
    ("/images", "get"): {
        "GetImage": ("/images/{image_id}", "get", {"image_id": "$response.body#/items/0/image_id"}),
        "GetDuplicates": (
            "/images/{image_id}/duplicates",
            "get",
            {"image_id": "$response.body#/items/0/image_id"},
        ),
        "GetCamera": ("/cameras/{camera_id}", "get", {"camera_id": "$response.body#/items/0/camera_id"}),
    },
    ("/images/{image_id}", "get"): {
        "GetDuplicates": ("/images/{image_id}/duplicates", "get", {"image_id": "$response.body#/image_id"}),
    },
    ("/images/{image_id}/duplicates", "get"): {
        "GetImage": ("/images/{image_id}", "get", {"image_id": "$response.body#/image_id"}),
    },
    ("/cameras", "get"): {
        "GetCamera": ("/cameras/{camera_id}", "get", {"camera_id": "$response.body#/items/0/camera_id"}),
        "ImagesOfCamera": ("/images", "get", {"camera_id": "$response.body#/items/0/camera_id"}),
    },
    ("/cameras/{camera_id}", "get"): {
        "GetLastImage": ("/images/{image_id}", "get", {"image_id": "$response.body#/last_image_id"}),
    },
    ("/decisions", "get"): {
        "GetImage": ("/images/{image_id}", "get", {"image_id": "$response.body#/items/0/image_id"}),
    },
    ("/snapshots", "post"): {
        "GetSnapshot": ("/snapshots/{snapshot_id}", "get", {"snapshot_id": "$response.body#/snapshot_id"}),
    },
    ("/snapshots", "get"): {
        "GetSnapshot": (
            "/snapshots/{snapshot_id}",
            "get",
            {"snapshot_id": "$response.body#/items/0/snapshot_id"},
        ),
        "NextSnapshots": ("/snapshots", "get", {"cursor": "$response.body#/next_cursor"}),
    },
}

_ERROR_RESPONSES = {
    404: "no such resource (unknown id, or a path the API does not serve)",
    403: "the caller may not do this (uploads: not listed for the source; erasures: no caller)",
    415: "the body is not application/json",
    500: "a fault of ours: the request id is in the body, the details only in the logs",
}


def _ref(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter is absent or has a value: ``X | None`` is ``X`` on the wire (never "null")."""
    options = schema.get("anyOf")
    if not options:
        return schema
    kept = [o for o in options if o.get("type") != "null"]
    if len(kept) != 1:
        return schema
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    return {**kept[0], **rest}


def complete_document(doc: dict[str, Any]) -> dict[str, Any]:
    """Add to the generated document what the routes' signatures cannot say: error responses with
    the bodies this API sends, the 405 of an undeclared method, and the links between operations."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for model in (FieldError, InvalidRequest, Error):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=True)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)

    for ops in doc.get("paths", {}).values():
        for op in ops.values():
            for param in op.get("parameters", []):
                param["schema"] = _without_null(param.get("schema", {}))

    ids = {(p, m): op["operationId"] for p, ops in doc.get("paths", {}).items() for m, op in ops.items()}
    for path, ops in doc.get("paths", {}).items():
        for method, op in ops.items():
            responses = op.setdefault("responses", {})
            responses["422"] = {
                "description": "invalid input: every offending parameter or field is named",
                "content": _ref("InvalidRequest"),
            }
            codes = [500]
            if "{" in path:
                codes.append(404)
            if method in ("post", "put", "patch"):
                codes += [403, 415]
            for code in codes:
                responses.setdefault(str(code), {"description": _ERROR_RESPONSES[code]})
                responses[str(code)]["content"] = _ref("Error")
            links = LINKS.get((path, method))
            if links:
                ok = next(c for c in ("200", "201") if c in responses)
                responses[ok]["links"] = {
                    name: {"operationId": ids[(target, tmethod)], "parameters": params}
                    for name, (target, tmethod, params) in links.items()
                }
    return doc
