"""One synthesis of the app per test session (and one of a variant config), shared by every
infra test: properties are asserted on the templates, never snapshots."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from infra.app import AUDIT_STACK_ID, build_app, cell_stack_id
from infra.deployment import PLACEHOLDER_ACCOUNT, Deployment
from lenslog.config import Config, load_config

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_PATH = REPO_ROOT / "config" / "lenslog.toml"
# Unit tests never bundle the layers (the layer-size test runs the bundler itself).
SKIP_BUNDLING = {"aws:cdk:bundling-stacks": []}


@dataclass
class Synth:
    app: App
    config: Config
    deployment: Deployment
    stacks: dict[str, Stack]
    templates: dict[str, Template]

    def cell(self, cell: str) -> Template:
        return self.templates[cell_stack_id(cell)]

    @property
    def audit(self) -> Template:
        return self.templates[AUDIT_STACK_ID]

    def resources(self, type_: str) -> list[tuple[str, str, dict[str, Any]]]:
        """(stack id, logical id, resource) of every resource of ``type_`` in every template."""
        return [
            (stack_id, logical_id, resource)
            for stack_id, template in self.templates.items()
            for logical_id, resource in template.find_resources(type_).items()
        ]


def synthesise(config_path: Path, outdir: Path) -> Synth:
    app = build_app(config_path, outdir=str(outdir), context=dict(SKIP_BUNDLING), nag=False)
    stacks = {child.node.id: child for child in app.node.children if isinstance(child, Stack)}
    config = load_config(config_path)
    return Synth(
        app=app,
        config=config,
        deployment=Deployment(config=config, account=PLACEHOLDER_ACCOUNT),
        stacks=stacks,
        templates={stack_id: Template.from_stack(stack) for stack_id, stack in stacks.items()},
    )


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synthesise(CONFIG_PATH, tmp_path_factory.mktemp("cdk.out"))


VARIANT_CONFIG = """
home_cell = "us"
architecture = "x86_64"
dlq_max_receive_count = 3

[cells.eu]
region = "eu-west-1"
retention_days = 400

[cells.us]
region = "us-west-2"

[cells.ap]
region = "ap-southeast-2"

[defaults]
quarantine_retention_days = 12

[sources.fleet]
cell = "ap"

[sources.lab]
policy = { retention_days = 90 }

[report]
sender = "audit@lenslog.example.org"
schedule = "cron(30 7 ? * FRI *)"

[scaling]
images_per_second = 200
seconds_per_image = 0.5
ingest_max_concurrency = 120
ingest_reserved_concurrency = 150
api_reserved_concurrency = 20
report_reserved_concurrency = 2
queue_age_alarm_seconds = 600
dlq_age_alarm_hours = 24
"""


@pytest.fixture(scope="session")
def variant(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """Other values everywhere the infra reads one: three cells, another home, x86_64, a
    retention, another receive count, schedule and sender, another rate and concurrency."""
    folder = tmp_path_factory.mktemp("variant")
    path = folder / "lenslog.toml"
    path.write_text(VARIANT_CONFIG)
    return synthesise(path, folder / "cdk.out")
