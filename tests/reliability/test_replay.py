"""Every event delivered one to three times, in random order, sidecars before or after their
images: the final state is the one a single clean delivery gives, item for item, object for object.

Both runs use the same upload timeline (a late sidecar is uploaded after its image was decided in
both) and a fixed clock. What legitimately differs between two runs is normalised: S3 version ids
(random per upload) are replaced by the name of the upload.
"""

from __future__ import annotations

import json
import random

import pytest

from tests.images import encode, jpeg, scene
from tests.reliability.support import META, capture_events, deliver, fresh_stack, reconcile, snapshot

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("replay")]

SIDECAR = {"camera_id": "cam-02", "captured_at": "2026-11-18T09:15:00+01:00", "classes": ["pallet"]}

A_BYTES = jpeg(101)  # generated once: the factories add unseeded noise

# (phase, key, body or sidecar dict, S3 metadata)
TIMELINE: list[tuple[int, str, bytes | dict, dict[str, str]]] = [
    (1, "depot/a.jpg", A_BYTES, META),
    (1, "depot/b.jpg.json", SIDECAR, {}),  # sidecar before its image
    (1, "depot/b.jpg", jpeg(102), {}),
    (1, "depot/d.jpg", jpeg(103), {}),  # no metadata: quarantined, cured in phase 2
    (1, "depot/e.jpg", jpeg(104), {}),  # partly described in phase 2, cured in phase 3
    (1, "depot/trunc.jpg", jpeg(105)[:4000], META),
    (1, "depot/f.png", encode(scene(106, (320, 300)), "PNG"), META),
    (1, "depot/g.jpg", jpeg(107), META),
    (1, "depot/g.jpg", jpeg(108), META),  # a second version of the same key
    (2, "depot/c.jpg", A_BYTES, META),  # exact duplicate of a.jpg
    (2, "depot/d.jpg.json", SIDECAR, {}),  # late sidecar: re-evaluates d.jpg
    (2, "depot/e.jpg.json", {"camera_id": "cam-01"}, {}),  # still incomplete
    (2, "depot/gif.jpg", encode(scene(109, (300, 300)), "GIF"), META),
    (3, "depot/e.jpg.json", SIDECAR, {}),  # now complete
]


def _upload(cell, phase: int, versions: dict[str, str]) -> None:
    for p, key, body, meta in TIMELINE:
        if p != phase:
            continue
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        put = cell.put(key, data, meta)
        versions[put["VersionId"]] = (
            f"<{key}@{sum(1 for v in versions.values() if v.startswith(f'<{key}@'))}>"
        )


def _run(config, plan) -> tuple:
    """Upload phase by phase; ``plan(phase, new_bodies, earlier_bodies)`` gives the deliveries."""
    with fresh_stack(config) as cell:
        versions: dict[str, str] = {}
        earlier: list[str] = []
        delivered = 0
        for phase in (1, 2, 3):
            _upload(cell, phase, versions)
            new = capture_events(cell)
            deliveries = plan(phase, new, earlier)
            delivered += len(deliveries)
            deliver(cell, deliveries)
            cell.drain()
            earlier += new
        report = reconcile(cell.stack)
        return snapshot(cell).normalised(versions), report, delivered, cell.worker.failures


def clean(phase, new, earlier):
    return list(new)


def messy(seed: int):
    rng = random.Random(seed)

    def plan(phase, new, earlier):
        out = [b for b in new for _ in range(rng.randint(1, 3))]
        out += [b for b in earlier if rng.random() < 0.5]  # old events arrive again, late
        rng.shuffle(out)
        return out

    return plan


@pytest.fixture(scope="module")
def clean_run(request):
    from lenslog.config import load_config

    return _run(load_config(), clean)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_duplicated_and_reordered_events_end_in_the_state_of_one_clean_delivery(config, clean_run, seed):
    expected, clean_report, _, _ = clean_run
    got, report, delivered, failures = _run(config, messy(seed))
    assert delivered > len(TIMELINE)  # some events really were delivered more than once
    assert failures == 0
    assert got.objects == expected.objects
    assert got.items == expected.items
    assert report.orphans == [] and clean_report.orphans == []
    assert report.pending == []


def test_the_clean_run_reaches_every_outcome_the_timeline_is_meant_to_cover(clean_run):
    state, _, _, _ = clean_run
    items = [json.loads(v) for (pk, _), v in state.items.items() if pk.startswith("OBJ#")]
    statuses = {i["status"]["S"] for i in items}
    assert {"accepted", "duplicate", "rejected", "quarantined"} <= statuses
    assert any(json.loads(i["doc"]["S"])["reevaluated"] for i in items)
    assert not [k for k in state.objects["landing_bucket"] if k.endswith("#latest")]
