"""Runtime settings of a function or of the local stack, validated once from the environment.

Resource names follow one convention (``{prefix}-{cell}-{role}{suffix}``) so that a cell can name a
peer cell's resources from the config alone (relocation of misrouted images), the CDK app and the
local stack agree, and no ``os.getenv(..., "")`` is scattered through the code.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field

from lenslog.config import Config, load_config

ENV_PREFIX = "LENSLOG_"


class CellResources(BaseModel):
    model_config = ConfigDict(frozen=True)

    cell: str
    region: str
    table: str
    landing_bucket: str
    curated_bucket: str
    quarantine_bucket: str
    queue: str
    dlq: str
    snapshot_dlq: str  # the snapshot function's failed hand-ons (deployed cells only)
    leakage_dlq: str  # the scheduled leakage check's failed runs (deployed cells only)


def cell_resources(config: Config, cell: str, prefix: str = "lenslog", suffix: str = "") -> CellResources:
    """The names of everything a cell owns. ``suffix`` (for example ``-<account id>``) makes bucket
    names globally unique in a real deployment."""
    region = config.cells[cell].region

    def name(role: str) -> str:
        return f"{prefix}-{cell}-{role}{suffix}"

    return CellResources(
        cell=cell,
        region=region,
        table=name("records"),
        landing_bucket=name("landing"),
        curated_bucket=name("curated"),
        quarantine_bucket=name("quarantine"),
        queue=name("ingest"),
        dlq=name("ingest-dlq"),
        snapshot_dlq=name("snapshot-dlq"),
        leakage_dlq=name("leakage-dlq"),
    )


def reports_bucket_name(prefix: str = "lenslog", suffix: str = "") -> str:
    return f"{prefix}-reports{suffix}"


class Settings(BaseModel):
    """What a function needs to know about where it runs."""

    model_config = ConfigDict(frozen=True)

    cell: str = Field(description="LENSLOG_CELL: the cell this function serves")
    prefix: str = Field("lenslog", description="LENSLOG_PREFIX: resource name prefix")
    suffix: str = Field("", description="LENSLOG_SUFFIX: resource name suffix (account id)")
    config_path: str | None = Field(None, description="LENSLOG_CONFIG_PATH: config file")
    endpoint_url: str | None = Field(None, description="LENSLOG_ENDPOINT_URL: local AWS endpoint")
    snapshot_function: str | None = Field(
        None, description="LENSLOG_SNAPSHOT_FUNCTION: the function that goes on with a snapshot build"
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values = {
            field: env[ENV_PREFIX + field.upper()]
            for field in cls.model_fields
            if ENV_PREFIX + field.upper() in env
        }
        return cls.model_validate(values)

    def to_env(self) -> dict[str, str]:
        return {ENV_PREFIX + k.upper(): str(v) for k, v in self.model_dump().items() if v not in (None, "")}

    def resources(self, config: Config, cell: str | None = None) -> CellResources:
        return cell_resources(config, cell or self.cell, self.prefix, self.suffix)

    @property
    def reports_bucket(self) -> str:
        return reports_bucket_name(self.prefix, self.suffix)


@lru_cache(maxsize=4)
def cached_config(path: str | None) -> Config:
    """The validated config, read once per container."""
    return load_config(path)
