"""cdk-nag (AwsSolutions) registration and acknowledgements, and checkov skips.

Every acknowledgement names one finding on one construct and says why it is acceptable there.
A checkov skip is the same for checkov, which reads the synthesised templates from outside: it is
written into the resource's template metadata (``Metadata: checkov: skip: [{id, comment}]``), with
the reason as its comment (tests/infra/test_checkov.py runs checkov and requires both).
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, CfnResource, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

CHECKOV_METADATA = "checkov"


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def add_checks(app: App) -> AwsSolutionsChecks:
    """Run the AwsSolutions pack on every synthesis of ``app``."""
    checks = AwsSolutionsChecks(app)
    Validations.of(app).add_plugins(checks)
    return checks


def skip_checkov(scope: IConstruct, check_id: str, reason: str) -> None:
    """Tell checkov that ``check_id`` does not apply to ``scope``'s CloudFormation resource, and why."""
    resource = scope if isinstance(scope, CfnResource) else scope.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{scope.node.path}: no CloudFormation resource to skip {check_id} on")
    current = resource.get_metadata(CHECKOV_METADATA) or {}
    skips = [*current.get("skip", []), {"id": check_id, "comment": reason}]
    resource.add_metadata(CHECKOV_METADATA, {"skip": skips})
