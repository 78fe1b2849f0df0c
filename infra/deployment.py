"""What the CDK app knows about one deployment: the validated config, the account and the naming
convention shared with the functions (``lenslog.settings``).

Every name and ARN a stack needs, including a peer cell's, is computed here from the config
alone, so no stack looks anything up in AWS and synthesis needs no credentials.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws

from lenslog.config import Config
from lenslog.retention import shortest_days
from lenslog.settings import CellResources, Settings, cell_resources, reports_bucket_name

PREFIX = "lenslog"
# Account used when none is configured or supplied: synthesis stays offline and deterministic.
PLACEHOLDER_ACCOUNT = "123456789012"
POWERTOOLS_METRICS_NAMESPACE = "lenslog"


@dataclass(frozen=True)
class Deployment:
    config: Config
    account: str
    prefix: str = PREFIX

    @property
    def suffix(self) -> str:
        return f"-{self.account}"

    @property
    def home_region(self) -> str:
        return self.config.cells[self.config.home_cell].region

    @property
    def log_days(self) -> int:
        """How long any log (server and API access logs, function logs) is kept: the config's
        shortest retention (lenslog.retention.shortest_days)."""
        return shortest_days(self.config)

    def resources(self, cell: str) -> CellResources:
        return cell_resources(self.config, cell, prefix=self.prefix, suffix=self.suffix)

    def settings(self, cell: str) -> Settings:
        """The runtime settings of a function serving ``cell`` (its environment is ``to_env()``)."""
        return Settings(
            cell=cell,
            prefix=self.prefix,
            suffix=self.suffix,
            snapshot_function=self.function_name(cell, "snapshot"),
        )

    def peers(self, cell: str) -> list[str]:
        return [c for c in self.config.cells if c != cell]

    @property
    def reports_bucket(self) -> str:
        return reports_bucket_name(self.prefix, self.suffix)

    def key_alias(self, cell: str) -> str:
        """The alias of a cell's KMS key; peers authorise on it (``kms:ResourceAliases``) because a
        key's id is random and cannot be known in another region's stack without a lookup."""
        return f"alias/{self.prefix}-{cell}"

    @property
    def reports_key_alias(self) -> str:
        return f"alias/{self.prefix}-reports"

    def function_name(self, cell: str, function: str) -> str:
        return f"{self.prefix}-{cell}-{function.replace('_', '-')}"

    # ARNs built from names, valid in any region of the account.

    def bucket_arn(self, bucket: str) -> str:
        return f"arn:{Aws.PARTITION}:s3:::{bucket}"

    def queue_arn(self, cell: str) -> str:
        r = self.resources(cell)
        return f"arn:{Aws.PARTITION}:sqs:{r.region}:{self.account}:{r.queue}"

    def table_arn(self, cell: str) -> str:
        r = self.resources(cell)
        return f"arn:{Aws.PARTITION}:dynamodb:{r.region}:{self.account}:table/{r.table}"

    def keys_arn_pattern(self, region: str) -> str:
        """Every key of the account in ``region``: only ever used with an alias condition."""
        return f"arn:{Aws.PARTITION}:kms:{region}:{self.account}:key/*"
