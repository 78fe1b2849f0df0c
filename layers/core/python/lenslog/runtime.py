"""Composition root of the functions: settings, clients and services, built on first use and
cached per container (and per cell, so the local worker can serve several cells in one process)."""

from __future__ import annotations

import threading
from functools import lru_cache, partial
from typing import Any

from lenslog.config import Config
from lenslog.settings import CellResources, Settings, cached_config

_session_lock = threading.Lock()


@lru_cache(maxsize=1)
def _session() -> Any:
    """One botocore session per process: its clients share the loaded endpoint and model data, so
    the second client of a cold start costs a fraction of the first. botocore, not boto3: the
    functions use clients only, and boto3 would import s3transfer (and multiprocessing) for
    nothing."""
    import botocore.session

    return botocore.session.Session()


@lru_cache(maxsize=32)
def client(service: str, region: str, endpoint_url: str | None = None, validate: bool = True) -> Any:
    """``validate=False``: botocore does not check the request against the service's model before
    sending it (DynamoDB still validates it); for requests a lenslog adapter builds from typed
    values alone, where the check walks every key of every request (the near-duplicate index)."""
    from botocore.config import Config as BotoConfig

    retries = BotoConfig(
        retries={"mode": "standard", "max_attempts": 5},
        connect_timeout=5,
        read_timeout=30,
        parameter_validation=validate,
    )
    with _session_lock:  # creating clients from one session is not thread-safe; using them is
        return _session().create_client(
            service, region_name=region, endpoint_url=endpoint_url, config=retries
        )


def config_of(settings: Settings) -> Config:
    return cached_config(settings.config_path)


def resources_of(settings: Settings, cell: str | None = None) -> CellResources:
    return settings.resources(config_of(settings), cell)


@lru_cache(maxsize=8)
def ingest_service(settings: Settings) -> Any:
    from lenslog.adapters.dynamo import DynamoLedger
    from lenslog.adapters.nearindex import NearIndex
    from lenslog.adapters.s3 import S3ObjectStore
    from lenslog.services.ingest import IngestService, Peer

    config = config_of(settings)
    res = resources_of(settings)

    def store(region: str) -> S3ObjectStore:
        return S3ObjectStore(client("s3", region, settings.endpoint_url), region)

    peers = {}
    for cell in config.cells:
        if cell != res.cell:
            peer = resources_of(settings, cell)
            peers[cell] = Peer(resources=peer, open_store=partial(store, peer.region))
    return IngestService(
        config=config,
        resources=res,
        store=store(res.region),
        ledger=DynamoLedger(
            client("dynamodb", res.region, settings.endpoint_url),
            res.table,
            res.cell,
            shards=config.counters.shards,
        ),
        peers=peers,
        # The index's lookups are 8 BatchGetItem of up to 100 keys that NearIndex builds from
        # integers; validating them on the client was ~10% of a worker's CPU per image.
        near_index=NearIndex(
            client("dynamodb", res.region, settings.endpoint_url, validate=False), res.table
        ),
    )


def erasure_service(settings: Settings) -> Any:
    from lenslog.services.erasure import ErasureService

    ingest = ingest_service(settings)
    return ErasureService(
        resources=ingest.res,
        store=ingest.store,
        ledger=ingest.ledger,
        near=ingest.near,
        bands=ingest.config.near_duplicates.bands,
        reports=report_store(settings),
        config=ingest.config,
        snapshots=snapshot_service(settings),
    )


def report_store(settings: Settings) -> Any:
    """The stored reports: files in the reports bucket, their index in the home cell's table."""
    from lenslog.adapters.reports import ReportStore

    home = resources_of(settings, config_of(settings).home_cell)
    return ReportStore(
        client("s3", home.region, settings.endpoint_url),
        settings.reports_bucket,
        client("dynamodb", home.region, settings.endpoint_url),
        home.table,
    )


@lru_cache(maxsize=8)
def audit_service(settings: Settings, open_uploads: bool = False) -> Any:
    """The audit API's service for the settings' cell. ``open_uploads`` only for the local API."""
    from lenslog.adapters.audit import TableReader
    from lenslog.adapters.reports import ReportStore
    from lenslog.services.audit import AuditService

    config = config_of(settings)
    res = resources_of(settings)
    home = resources_of(settings, config.home_cell)
    return AuditService(
        config=config,
        cell=res.cell,
        reader=TableReader(client("dynamodb", res.region, settings.endpoint_url), res.table, res.cell),
        reports=ReportStore(
            client("s3", home.region, settings.endpoint_url),
            settings.reports_bucket,
            client("dynamodb", home.region, settings.endpoint_url),
            home.table,
        ),
        s3_client=lambda region: client("s3", region, settings.endpoint_url),
        prefix=settings.prefix,
        suffix=settings.suffix,
        open_uploads=open_uploads,
        eraser=erasure_service(settings).erase,
        snapshots=snapshot_queries(settings),
    )


def snapshot_queries(settings: Settings) -> Any:
    """The API's snapshot answers: a build that outlives the request goes on in the snapshot
    function (deployed), or in a thread of the local API's process."""
    from lenslog.services.snapshot_api import SnapshotQueries

    res = resources_of(settings)
    return SnapshotQueries(
        snapshot_service(settings, continue_build=snapshot_continuation(settings)),
        client("s3", res.region, settings.endpoint_url),
    )


def snapshot_continuation(settings: Settings) -> Any:
    """How an unfinished build goes on: an asynchronous invocation of the snapshot function
    (``LENSLOG_SNAPSHOT_FUNCTION``), else (the local API) a thread of this process."""
    import json
    import threading

    if settings.snapshot_function:
        lam = client("lambda", resources_of(settings).region, settings.endpoint_url)

        def invoke(snapshot_id: str) -> None:
            lam.invoke(
                FunctionName=settings.snapshot_function,
                InvocationType="Event",
                Payload=json.dumps({"snapshot_id": snapshot_id}).encode(),
            )

        return invoke

    def in_thread(snapshot_id: str) -> None:
        threading.Thread(
            target=snapshot_service(settings).step, args=(snapshot_id,), daemon=True, name="snapshot"
        ).start()

    return in_thread


def report_service(settings: Settings, send: bool = True) -> Any:
    """The report function's service: every cell's ledger (aggregates cross cells, nothing else),
    the report store in the home cell, SES in the home cell's region."""
    from lenslog.adapters.dynamo import DynamoLedger
    from lenslog.adapters.reports import ReportStore
    from lenslog.services.report import ReportService, ses_sender

    config = config_of(settings)
    ledgers = {}
    for cell in config.cells:
        res = resources_of(settings, cell)
        ledgers[cell] = DynamoLedger(
            client("dynamodb", res.region, settings.endpoint_url), res.table, cell, config.counters.shards
        )
    home = resources_of(settings, config.home_cell)
    store = ReportStore(
        client("s3", home.region, settings.endpoint_url),
        settings.reports_bucket,
        client("dynamodb", home.region, settings.endpoint_url),
        home.table,
    )
    sender = (
        ses_sender(
            client("ses", home.region, settings.endpoint_url), config.report.sender, config.report.recipients
        )
        if send
        else None
    )
    return ReportService(config=config, ledgers=ledgers, store=store, send_raw_email=sender)


def snapshot_service(settings: Settings, continue_build: Any = None) -> Any:
    """The cell's snapshots: records in its table, manifests in its curated bucket (never another
    cell's). ``continue_build(snapshot_id)`` hands an unfinished build to another invocation."""
    from lenslog.adapters.s3 import S3ObjectStore
    from lenslog.adapters.snapshots import ImageRecords, SnapshotStore
    from lenslog.domain.snapshot import config_version
    from lenslog.services.snapshots import SnapshotService

    config = config_of(settings)
    res = resources_of(settings)
    ddb = client("dynamodb", res.region, settings.endpoint_url)
    store = S3ObjectStore(client("s3", res.region, settings.endpoint_url), res.region)
    return SnapshotService(
        cell=res.cell,
        store=SnapshotStore(ddb, res.table, store, res.curated_bucket),
        records=ImageRecords(ddb, res.table),
        config_version=config_version(config.model_dump_json()),
        continue_build=continue_build,
    )


def leakage_check(settings: Settings, settle_seconds: int | None = None) -> dict[str, Any]:
    """One incremental leakage check of the settings' cell, on its own table and index only (the
    hashes never leave the cell; the report reads the stored figures)."""
    from lenslog.adapters.dynamo import DynamoLedger
    from lenslog.adapters.nearindex import NearIndex
    from lenslog.services import leakage

    config = config_of(settings)
    res = resources_of(settings)
    ddb = client("dynamodb", res.region, settings.endpoint_url)
    ledger = DynamoLedger(ddb, res.table, res.cell, config.counters.shards)
    return leakage.run(ledger, NearIndex(ddb, res.table), config, settle_seconds=settle_seconds)
