"""Composition root of the functions: settings, clients and services, built on first use and
cached per container (and per cell, so the local worker can serve several cells in one process)."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from lenslog.config import Config
from lenslog.settings import CellResources, Settings, cached_config

_session_lock = threading.Lock()


@lru_cache(maxsize=1)
def _session() -> Any:
    """One boto3 session per process: its clients share the loaded endpoint and model data, so
    the second client of a cold start costs a fraction of the first."""
    import boto3

    return boto3.session.Session()


@lru_cache(maxsize=32)
def client(service: str, region: str, endpoint_url: str | None = None) -> Any:
    from botocore.config import Config as BotoConfig

    retries = BotoConfig(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)
    with _session_lock:  # creating clients from one session is not thread-safe; using them is
        return _session().client(service, region_name=region, endpoint_url=endpoint_url, config=retries)


def config_of(settings: Settings) -> Config:
    return cached_config(settings.config_path)


def resources_of(settings: Settings, cell: str | None = None) -> CellResources:
    return settings.resources(config_of(settings), cell)


@lru_cache(maxsize=8)
def ingest_service(settings: Settings) -> Any:
    from lenslog.adapters.dynamo import DynamoLedger
    from lenslog.adapters.s3 import S3ObjectStore
    from lenslog.services.ingest import IngestService

    res = resources_of(settings)
    return IngestService(
        config=config_of(settings),
        resources=res,
        store=S3ObjectStore(client("s3", res.region, settings.endpoint_url), res.region),
        ledger=DynamoLedger(client("dynamodb", res.region, settings.endpoint_url), res.table, res.cell),
    )


@lru_cache(maxsize=8)
def idempotent_ingest(settings: Settings) -> Any:
    """The ingest service's ``handle`` behind Powertools idempotency, keyed on
    bucket + key + version/etag and stored in the cell's own table."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    from lenslog.domain.models import ObjectRef

    res = resources_of(settings)
    persistence = DynamoDBPersistenceLayer(
        table_name=res.table,
        key_attr="PK",
        sort_key_attr="SK",
        boto3_client=client("dynamodb", res.region, settings.endpoint_url),
    )
    service = ingest_service(settings)
    config = IdempotencyConfig(event_key_jmespath="idempotency_key", expires_after_seconds=24 * 3600)

    @idempotent_function(data_keyword_argument="obj", persistence_store=persistence, config=config)
    def ingest_object(obj: dict[str, Any]) -> dict[str, Any] | None:
        decision = service.handle(ObjectRef.model_validate(obj["ref"]))
        return decision.to_json_dict() if decision else None

    ingest_object.idempotency_config = config  # type: ignore[attr-defined]
    return ingest_object
