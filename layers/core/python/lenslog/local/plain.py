"""DynamoDB requests and answers in their plain JSON form, for the embedded AWS
(``lenslog.local.emulator`` installs them): what moto's model-driven parser, serializer and
update-expression machinery would make of a request or a result, computed directly where that is
exactly the JSON, and ``None`` (or ``_NotPlain``) wherever moto must decide. Each is compared with
moto's own answer in ``tests/unit/test_emulator.py``.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

DATA_PLANE = frozenset(
    {"GetItem", "BatchGetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem", "TransactGetItems"}
)
JSON_HEADERS = {"Content-Type": "application/x-amz-json-1.0"}


class _NotPlain(Exception):
    pass


def _wire(value: Any) -> Any:
    """A DynamoDB result in its JSON wire shape (bytes base64, ``None`` members left out), or
    ``_NotPlain`` for anything moto's serializer must handle."""
    if type(value) is str:  # most values: a string member of a typed value
        return value
    if isinstance(value, dict):
        return {k: _string_set(v) if k == "SS" else _wire(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if value is None or isinstance(value, bool | str | int | float):
        return value
    raise _NotPlain(type(value).__name__)


def _string_set(value: Any) -> Any:
    """A typed string set's members as they are (most of a near-duplicate index item); anything
    else under a member named ``SS`` (a table or a map key of that name) is walked as usual."""
    if type(value) is list and (not value or type(value[0]) is str):
        return value
    return _wire(value)


def plain_body(result: Any) -> str | None:
    """The JSON body of a DynamoDB data-plane result, or None when moto's serializer must write it."""
    try:
        return json.dumps(_wire(result))
    except _NotPlain:
        return None


PLAIN_REQUESTS = DATA_PLANE | {"TransactWriteItems", "BatchWriteItem"}
_BINARY_MEMBER = re.compile(r'"BS?"\s*:')


def plain_params(body: bytes | str | None) -> dict[str, Any] | None:
    """A DynamoDB JSON request's parameters as moto's model-driven parser gives them, read with
    ``json.loads``; None when that parser must read it (a binary value, which it base64-decodes,
    or anything but a JSON object). Any member named ``B`` or ``BS`` sends the request to moto."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if not text or _BINARY_MEMBER.search(text):
        return None
    try:
        params = json.loads(text)
    except ValueError:
        return None
    return params if isinstance(params, dict) else None


def has_duplicates(keys: list[Any]) -> bool:
    """moto's ``_contains_duplicates`` (equality of keys) with a set, not a list: a BatchGetItem
    of 100 keys made ~5,000 comparisons of nested dicts."""
    seen: set[Any] = set()
    for k in keys:
        # a key: {name: {type: value}} (members in any order); BatchWriteItem passes JSON text
        frozen = (
            k
            if isinstance(k, str)
            else frozenset((n, frozenset(v.items()) if isinstance(v, dict) else v) for n, v in k.items())
        )
        if frozen in seen:
            return True
        seen.add(frozen)
    return False


_NAME = r"#[A-Za-z0-9_]+|[A-Za-z][A-Za-z0-9_]*"
_SET_ACTION = re.compile(rf"\s*({_NAME})\s*=\s*(:[A-Za-z0-9_]+)\s*")
_ADD_ACTION = re.compile(rf"\s*({_NAME})\s+(:[A-Za-z0-9_]+)\s*")
_CLAUSE = re.compile(r"\b(SET|ADD)\b", re.IGNORECASE)
MAX_PLAIN_ITEM = 64 * 1024  # bytes: bigger items go to moto, which checks DynamoDB's 400 KB


def _attribute(written: str, names: dict[str, str], reserved: Any) -> str | None:
    """The attribute an expression names (``#n`` through ``names``), or None when moto must decide
    (a ``#`` name without its value, a reserved word named plainly)."""
    if written.startswith("#"):
        return names.get(written)
    return None if written.upper() in reserved else written


def plain_update(
    expression: str | None, names: dict[str, str] | None, values: dict[str, Any] | None, reserved: Any
) -> list[tuple[str, str, dict[str, Any]]] | None:
    """``[(op, attribute, value)]`` for an update of the plain form (``SET a = :x`` and ``ADD n :d``
    of a number, top-level attributes, each once), or None for anything moto must parse."""
    if not expression:
        return None
    names, values = names or {}, values or {}
    parts = _CLAUSE.split(expression)
    if parts[0].strip() or len(parts) < 3:
        return None
    plan: list[tuple[str, str, dict[str, Any]]] = []
    seen_clauses: set[str] = set()
    for keyword, body in zip(parts[1::2], parts[2::2], strict=True):
        op = keyword.upper()
        if op in seen_clauses:
            return None
        seen_clauses.add(op)
        pattern = _SET_ACTION if op == "SET" else _ADD_ACTION
        for action in body.split(","):
            match = pattern.fullmatch(action)
            if match is None:
                return None
            written, placeholder = match.groups()
            name = _attribute(written, names, reserved)
            if name is None:
                return None
            value = values.get(placeholder)
            if not isinstance(value, dict) or len(value) != 1:
                return None
            if op == "ADD" and not ("N" in value or (value.get("SS") or value.get("NS"))):
                return None
            plan.append((op, name, value))
    targets = [name for _, name, _ in plan]
    return plan if len(set(targets)) == len(targets) else None


_EXISTS = re.compile(rf"\s*attribute_(not_exists|exists)\(\s*({_NAME})\s*\)\s*")
_EQUALS = re.compile(rf"\s*({_NAME})\s*=\s*(:[A-Za-z0-9_]+)\s*")


def plain_condition(
    condition: str | None, names: dict[str, str] | None, values: dict[str, Any] | None, reserved: Any
) -> tuple[str, str, dict[str, Any] | None] | None:
    """``(test, attribute, value)`` for one of ``attribute_not_exists(a)``, ``attribute_exists(a)``
    and ``a = :v`` (no condition: ``("none", "", None)``), or None for anything moto must parse."""
    if not condition:
        return "none", "", None
    names, values = names or {}, values or {}
    exists, equals = _EXISTS.fullmatch(condition), _EQUALS.fullmatch(condition)
    match = exists or equals
    if match is None:
        return None
    name = _attribute(match.group(2) if exists else match.group(1), names, reserved)
    if name is None:
        return None
    if exists:
        return exists.group(1), name, None
    value = values.get(match.group(2))
    return ("equals", name, value) if isinstance(value, dict) and len(value) == 1 else None


def _holds(test: tuple[str, str, dict[str, Any] | None], item: Any) -> bool:
    from moto.dynamodb.models.dynamo_type import DynamoType

    kind, name, value = test
    present = item is not None and name in item.attrs
    if kind == "not_exists":
        return not present
    if kind == "exists":
        return present
    if kind == "equals" and value is not None:
        return present and item.attrs[name] == DynamoType(value)
    return True


def apply_plain(
    table: Any,
    key: dict[str, Any],
    plan: list[tuple[str, str, dict[str, Any]]],
    test: tuple[str, str, dict[str, Any] | None],
) -> Any:
    """Apply a plain update as moto's executor would (its condition first: moto's
    ``ConditionalCheckFailed`` when it fails); None when moto must do it after all."""
    from moto.dynamodb.exceptions import ConditionalCheckFailed
    from moto.dynamodb.models.dynamo_type import DynamoType

    keys = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    if sorted(key) != sorted(keys) or any(name in keys for _, name, _ in plan):
        return None
    hash_value = DynamoType(key[table.hash_key_attr])
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    item = table.get_item(hash_value, range_value)
    if item is not None:
        if item.size() > MAX_PLAIN_ITEM:
            return None
        for op, name, value in plan:
            if op == "ADD" and name in item.attrs and item.attrs[name].type != next(iter(value)):
                return None
    if not _holds(test, item):
        raise ConditionalCheckFailed
    if item is None:
        table.put_item({k: key[k] for k in keys})
        item = table.get_item(hash_value, range_value)
    for op, name, value in plan:
        new = DynamoType(value)
        if op == "ADD" and new.is_set():
            current = item.attrs.get(name)
            if current is None:
                item.attrs[name] = new
            else:
                current.value.extend(v for v in new.value if v not in current.value)
            continue
        if op == "ADD":
            new = item.attrs.get(name, DynamoType({"N": "0"})) + new
        item.attrs[name] = new
    return item
