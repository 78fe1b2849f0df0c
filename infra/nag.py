"""cdk-nag (AwsSolutions) registration and acknowledgements.

Every acknowledgement names one finding on one construct and says why it is acceptable there.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def add_checks(app: App) -> AwsSolutionsChecks:
    """Run the AwsSolutions pack on every synthesis of ``app``."""
    checks = AwsSolutionsChecks(app)
    Validations.of(app).add_plugins(checks)
    return checks
