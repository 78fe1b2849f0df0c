"""Concurrent uploads: the conditional writes decide, whatever the interleaving."""

from __future__ import annotations

import importlib.util
from concurrent.futures import ThreadPoolExecutor

import pytest

from lenslog import runtime
from lenslog.domain.models import ObjectRef
from tests.images import encode, jpeg, scene
from tests.reliability.support import META, reconcile

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("concurrency")]
N = 20


def _race(eu, stack, bodies: list[bytes]) -> list[dict]:
    """Upload every body, then decide them all at once through the ingest service."""
    refs, puts = [], []
    for i, body in enumerate(bodies):
        put = eu.put(f"race/{i:02d}.jpg", body, META)
        puts.append((f"race/{i:02d}.jpg", put))
        refs.append(
            ObjectRef(bucket=eu.res.landing_bucket, key=f"race/{i:02d}.jpg", version_id=put["VersionId"])
        )
    ingest = runtime.ingest_service(stack.settings("eu"))
    with ThreadPoolExecutor(max_workers=N) as pool:
        outcomes = list(pool.map(ingest.handle, refs))
    assert all(o is not None for o in outcomes)
    eu.drain()  # the notifications of the uploads arrive too: replays, they change nothing
    return [eu.decision(key, put) for key, put in puts]


def test_twenty_parallel_uploads_of_the_same_bytes_make_one_image_and_nineteen_sightings(
    eu, stack, serialised_dynamodb
):
    decisions = _race(eu, stack, [jpeg(601)] * N)
    statuses = sorted(d["status"] for d in decisions)
    assert statuses == ["accepted"] + ["duplicate"] * (N - 1)
    original = next(d for d in decisions if d["status"] == "accepted")
    assert {d["duplicate_of"] for d in decisions if d["status"] == "duplicate"} == {original["image_id"]}
    assert len(eu.items("IMG#")) == 1 and len(eu.curated()) == 1
    assert len(eu.items("OBJ#")) == N and eu.landing() == []
    counters = eu.counters()
    assert counters[("images", "all")] == 1
    assert counters[("decision", "duplicate")] == N - 1
    assert reconcile(stack).orphans == []


@pytest.mark.skipif(
    importlib.util.find_spec("lenslog.domain.neardup") is None,
    reason="the near-duplicate index (lenslog.domain.neardup) is not on this branch yet",
)
def test_twenty_parallel_near_identical_uploads_make_one_cluster(eu, stack, serialised_dynamodb):
    base = scene(602, (640, 480))
    bodies = [encode(base, "JPEG", quality=70 + i) for i in range(N)]  # same picture, other bytes
    decisions = _race(eu, stack, bodies)
    assert len({d["image_id"] for d in decisions}) == N
    assert len({d["cluster_id"] for d in decisions}) == 1
    assert sum(d["status"] == "accepted" for d in decisions) == 1
    assert reconcile(stack).orphans == []
