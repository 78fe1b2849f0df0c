"""Small readers of synthesised CloudFormation used by several infra tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return as_list(document.get("Statement", []))


def text(value: Any) -> str:
    """A resource value as one string, whatever intrinsic functions it is built from."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def iam_statements(template_resources: dict[str, dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(logical id of the policy or role, statement) of every identity policy in a template."""
    for logical_id, resource in template_resources.items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Policy":
            for st in statements(props["PolicyDocument"]):
                yield logical_id, st
        elif resource["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                for st in statements(policy["PolicyDocument"]):
                    yield logical_id, st
