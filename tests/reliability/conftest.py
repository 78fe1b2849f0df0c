"""Reliability tests reuse the component fixtures: moto, the provisioned cells, the real worker."""

from tests.component.conftest import Cell, aws, eu, serialised_dynamodb, stack, worker  # noqa: F401
