"""Shared fixtures. AWS is moto (``mock_aws``): the real adapters and handlers run against it."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")


@pytest.fixture
def config():
    from lenslog.config import load_config

    return load_config()
