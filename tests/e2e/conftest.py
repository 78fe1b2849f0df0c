from __future__ import annotations

import threading

import pytest

from lenslog import runtime
from lenslog.local.aws import EmbeddedAws, provision
from lenslog.local.worker import Worker


@pytest.fixture
def embedded_stack(config):
    """The embedded AWS with the cells provisioned, and no worker."""
    runtime.client.cache_clear()
    runtime.ingest_service.cache_clear()
    with EmbeddedAws() as aws:
        yield provision(config, aws.endpoint_url)
    runtime.client.cache_clear()
    runtime.ingest_service.cache_clear()


@pytest.fixture
def local_stack(config):
    """What `lenslog local` runs: a moto server on loopback, the cells, the worker in a thread."""
    runtime.client.cache_clear()
    runtime.ingest_service.cache_clear()
    with EmbeddedAws() as aws:
        stack = provision(config, aws.endpoint_url)
        stop = threading.Event()
        thread = threading.Thread(target=Worker(stack).run_forever, args=(stop.is_set,), daemon=True)
        thread.start()
        yield stack
        stop.set()
        thread.join(timeout=10)
    runtime.client.cache_clear()
    runtime.ingest_service.cache_clear()
