"""Least-privilege statements with their reason.

``allow`` adds one statement of explicit actions to a role. A resource ending in a wildcard (an
object prefix, the indexes of a table, the keys behind an alias) is acknowledged to cdk-nag
(AwsSolutions-IAM5) on that role with the same reason, so every exception sits next to the
permission it explains.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from aws_cdk import aws_iam as iam

from infra.nag import acknowledge


def allow(
    role: iam.Role,
    *,
    sid: str,
    actions: list[str],
    resources: list[str],
    reason: str,
    conditions: dict[str, Any] | None = None,
) -> iam.PolicyStatement:
    if any("*" in action for action in actions):
        raise ValueError(f"{sid}: wildcard actions are not allowed ({actions})")
    statement = iam.PolicyStatement(sid=sid, actions=actions, resources=resources, conditions=conditions)
    role.add_to_principal_policy(statement)
    for resource in resources:
        rendered = nag_resource(role, resource)
        if "*" in rendered:
            acknowledge(role, f"AwsSolutions-IAM5[Resource::{rendered}]", f"{sid}: {reason}")
    return statement


def nag_resource(scope: iam.Role, value: str) -> str:
    """How cdk-nag names a resource in a finding: ``<Logical.Arn>`` for attributes, ``<X>`` for refs."""
    return _render(Stack.of(scope).resolve(value))


def _render(value: Any) -> str:
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_render(p) for p in parts)
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return f"<{logical_id}.{attribute}>"
    if "Ref" in value:
        return f"<{value['Ref']}>"
    raise ValueError(f"cannot render {value!r}")


def alias_condition(alias: str, service: str, region: str) -> dict[str, Any]:
    """Keys of another region have random ids: name them by alias, used through one service."""
    return {
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": alias},
        "StringEquals": {"kms:ViaService": f"{service}.{region}.amazonaws.com"},
    }
