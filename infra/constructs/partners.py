"""Upload roles of the configured sources: each may only put objects under its own landing
prefix ``uploads/<source_id>/`` of the cell its images belong to."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.permissions import allow
from lenslog.config import Config

UPLOAD_PREFIX = "uploads"


def upload_prefix(source_id: str) -> str:
    return f"{UPLOAD_PREFIX}/{source_id}/"


def sources_of_cell(config: Config, cell: str) -> list[str]:
    """Sources bound to ``cell`` and sources bound to none (they may upload into any cell)."""
    return [name for name, src in config.sources.items() if src.cell in (None, cell)]


class PartnerUploadRoles(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: Config,
        cell: str,
        role_name_prefix: str,
        landing: s3.IBucket,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, id)
        self.roles: dict[str, iam.Role] = {}
        for source in sources_of_cell(config, cell):
            role = iam.Role(
                self,
                f"Upload-{source}",
                role_name=f"{role_name_prefix}-upload-{source}"[:64],
                assumed_by=iam.AccountRootPrincipal(),
                description=f"source {source}: put under {upload_prefix(source)} of the {cell} landing",
            )
            allow(
                role,
                sid="UploadOwnPrefix",
                actions=["s3:PutObject"],
                resources=[landing.arn_for_objects(f"{upload_prefix(source)}*")],
                reason=f"source {source} writes any object name under its own {upload_prefix(source)} only",
            )
            allow(
                role,
                sid="EncryptUploads",
                actions=["kms:GenerateDataKey"],
                resources=[key.key_arn],
                reason="uploads are encrypted with the cell key (bucket default)",
            )
            self.roles[source] = role
