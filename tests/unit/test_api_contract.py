"""The API contract's pure parts: the query-string check and the document's completion."""

from __future__ import annotations

from lenslog.api.contract import check_query, complete_document, query_of


def test_blank_and_repeated_declared_parameters_are_named_and_undeclared_ones_ignored():
    query = {"to": [""], "from": ["  "], "limit": ["5", "6"], "status": ["accepted"], "utm": [""]}
    errors = check_query(query, {"to", "from", "limit", "status", "cursor"})
    assert [(e["field"], e["in"]) for e in errors] == [("from", "query"), ("limit", "query"), ("to", "query")]
    assert "more than once" in errors[1]["message"] and "empty" in errors[2]["message"]
    assert check_query({"status": ["accepted"]}, {"status"}) == []


def test_every_value_of_a_rest_event_query_is_seen():
    assert query_of({"multiValueQueryStringParameters": {"a": ["1", "2"]}}) == {"a": ["1", "2"]}
    assert query_of({"queryStringParameters": {"a": ""}}) == {"a": [""]}
    assert query_of({}) == {}


def test_the_document_gets_real_error_bodies_no_null_parameters_and_links():
    doc = {
        "paths": {
            "/reports": {
                "get": {
                    "operationId": "list",
                    "parameters": [
                        {
                            "name": "cursor",
                            "in": "query",
                            "schema": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                        }
                    ],
                    "responses": {"200": {"description": "ok"}, "422": {"description": "framework's"}},
                }
            },
            "/reports/{report_id}": {
                "get": {"operationId": "one", "responses": {"200": {"description": "ok"}}}
            },
        },
        "components": {"schemas": {"HTTPValidationError": {}, "ValidationError": {}}},
    }
    out = complete_document(doc)
    assert set(out["components"]["schemas"]) == {"FieldError", "InvalidRequest", "Error"}
    listing = out["paths"]["/reports"]["get"]
    assert listing["parameters"][0]["schema"] == {"type": "string"}
    assert listing["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/InvalidRequest"
    )
    assert "404" not in listing["responses"] and "500" in listing["responses"]
    assert "404" in out["paths"]["/reports/{report_id}"]["get"]["responses"]
    link = listing["responses"]["200"]["links"]["GetReport"]
    assert link == {"operationId": "one", "parameters": {"report_id": "$response.body#/items/0/report_id"}}
