"""A cell at fleet scale: ``make bench-scale`` writes ``bench/scale.json``.

Run: ``PYTHONPATH=. python -m bench.fleet_scale [--quick] [--out bench/scale.json]``. Never part of
``make test`` or CI. Every figure says whether it was measured or modelled:

- ``index``: per accepted image, the near-duplicate index's read and write capacity units, its
  requests and its largest item, for 10^3 ... 10^8 indexed images in the cell, for the configured
  layout (``layout``) and, under ``index_by_layout``, for both layouts the config allows (8 bands
  of 8 bits, 4 bands of 16 bits). **Measured** on moto up to ``MEASURED_UP_TO``: N random 64-bit
  hashes are assigned to their band items in memory, the band items that the probes' lookups read
  are written to a moto table in full (every entry they would hold at N, capped at
  ``MAX_ENTRIES`` as the adapter caps them), then each probe is looked up through the real
  adapter (``NearIndex.lookup``, requests counted by a botocore hook) and its commit actions are
  built by the adapter (``insert_actions``); capacity units are computed from the sizes of the
  items read and written, by DynamoDB's rules (strongly consistent reads: 4 KB units per item, a
  missing key costs one; transactional writes: 2 units per KB of the larger of the old and new
  item). Every image is filed with its ten crop views as the default config files it (random
  64-bit hashes for frames and views; entries with their check hash). **Modelled** beyond: the
  same formulas on uniform band loads (N / 2^width frames per band item, N x 10 / 2^width views
  more in the views' bands) with the entry size measured on moto.
- ``hottest_item_wcu_per_s_at_1000_images_per_s``: the real ingest path (the ingest handler
  through the SQS worker on moto) handles a day of images; a botocore hook records every item
  each ``TransactWriteItems`` / ``UpdateItem`` / ``PutItem`` writes; the writes per image of the
  most written item, times 1,000 images/s, times its write units (the item's size read back).
  Band items are taken from the index model at 10^8 (their write rate per image is bands/2^width).
- ``recall``: ``{edit: recall}`` on ``bench/neardup``'s photos, edits and crops (real camera
  photos + generated scenes), computed in process: each photo and each edited copy goes through
  ``gate.inspect`` (the gate's decode and prints), and a copy counts as found when one of the keys
  it reads holds one of its original's entries and the whole rule links them (dihedral variants,
  crop views, check hashes, colour layouts; ``bench.neardup_offline.found``). The pipeline run
  (``bench/neardup.py``) gives the same figures through moto, in minutes.
- ``in_memory_index``: an exact in-memory binary index (faiss-cpu ``IndexBinaryMultiHash``, 4
  tables of 16 bits, 2 flips: exact for Hamming <= 11), built from N random hashes in this process:
  build time, memory, lookup time per image (8 variants). **Measured** to 10^7 (10^6 with
  --quick), modelled (linear) beyond. What the next index design would cost, not what runs.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import random
import resource
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SIZES = [10**k for k in range(3, 9)]
# Measured on moto up to: 8-bit bands hold N/256 entries an item (10^6 would put 2,048 items of
# 340 KB, 700 MB, into the emulator); 16-bit bands N/65,536.
MEASURED_UP_TO = {8: 10**5, 4: 10**6}
PROBES = 20
RATE = 1000  # images/s per cell
QUERIES = 50
FLEET_LAYOUT = "4x16"  # lookups timed per size of the in-memory index (8 variants each)


# DynamoDB sizes and units ---------------------------------------------------------------------------
def _value_size(v: dict[str, Any]) -> int:
    (kind, val), *_ = v.items()
    if kind == "S":
        return len(val.encode())
    if kind == "N":
        return (len(val.lstrip("-").replace(".", "")) + 1) // 2 + 1
    if kind == "SS":
        return sum(len(x.encode()) for x in val)
    if kind == "BOOL":
        return 1
    return len(json.dumps(val))


def item_size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it: attribute names plus values."""
    return sum(len(k.encode()) + _value_size(v) for k, v in item.items())


def read_units(size: int) -> int:
    """Strongly consistent read of one item (a missing one still costs a unit)."""
    return max(1, math.ceil(size / 4096))


def transact_write_units(size: int) -> int:
    return 2 * max(1, math.ceil(size / 1024))


# the index on moto --------------------------------------------------------------------------------
def _entry(i: int, h: int, view: str | None = None) -> Any:
    """An index entry as the service files it: with its 256-bit check hash, and its view's name."""
    from lenslog.domain import neardup as nd

    return nd.Entry(
        image_id=f"{(i * 0x9E3779B97F4A7C15) % 2**256:064x}",
        phash=h,
        cluster_id=None,
        split="train",
        camera_id=f"cam-{i % 97:03d}",
        captured_at=1_780_000_000 + i,
        view=view,
        check=(i * 0x2545F4914F6CDD1D) % 2**256 | 1 << 255,
    )


def _members(
    hashes: Any, views: Any, bands: int, needed: set[tuple[int, int]]
) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """For each needed band key, the (image, view) pairs filed under it (view -1: the frame), as
    ``neardup.index_entries`` files them: frames in every band, views in ``view_bands``."""
    import numpy as np

    from lenslog.domain import neardup as nd

    width = 64 // bands
    mask = np.uint64((1 << width) - 1)
    out: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for band in range(bands):
        shift = np.uint64(64 - width * (band + 1))
        wanted = np.array(sorted(v for b, v in needed if b == band), dtype=np.uint64)
        columns = [(-1, hashes)]
        if band in nd.view_bands(bands):
            columns += [(k, views[:, k]) for k in range(views.shape[1])]
        for k, column in columns:
            values = (column >> shift) & mask
            for i in np.flatnonzero(np.isin(values, wanted)).tolist():
                out[(band, int(values[i]))].append((i, k))
    return out


def measure_index(n: int, bands: int, rng: random.Random) -> dict[str, Any]:
    """Lookup + commit of PROBES near copies against an index of n images, on moto; each image
    filed with its crop views as the default config files it (random hashes for frames and views)."""
    import boto3
    import numpy as np
    from moto import mock_aws

    from lenslog.adapters.nearindex import BAND_SK, MAX_ENTRIES, NearIndex, near_pk
    from lenslog.adapters.schema import create_table_kwargs
    from lenslog.config import load_config
    from lenslog.domain import neardup as nd

    cfg = load_config().near_duplicates
    n_views = len(nd.VIEW_NAMES) if cfg.crop_views else 0
    radius = nd.radius_for(cfg.max_distance, bands)
    gen = np.random.default_rng(rng.getrandbits(32))
    hashes = gen.integers(0, 2**64, size=n, dtype=np.uint64)
    views = gen.integers(0, 2**64, size=(n, n_views), dtype=np.uint64)
    probes = []
    for _ in range(PROBES):
        target = rng.randrange(n)
        q = int(hashes[target])
        for k in rng.sample(range(64), 5):  # a near copy, 5 bits away
            q ^= 1 << k
        own_check = _entry(target, 0).check or 0
        query = nd.Query(
            variants=(q, *(rng.getrandbits(64) for _ in range(7))),
            views=tuple(rng.getrandbits(64) for _ in range(n_views)),
            checks=(own_check, *(rng.getrandbits(256) for _ in range(7))),
            view_checks=tuple(rng.getrandbits(256) for _ in range(n_views)),
        )
        probes.append((target, q, query))
    needed = {k for _, _, query in probes for k in nd.query_keys(query.variants, query.views, bands, radius)}
    members = _members(hashes, views, bands, needed)

    def text(i: int, k: int) -> str:
        h = int(hashes[i]) if k < 0 else int(views[i, k])
        return _entry(i, h, None if k < 0 else nd.VIEW_NAMES[k]).encode()

    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-central-1")
        client.create_table(**create_table_kwargs("bench"))
        index = NearIndex(client, "bench")
        batch: list[dict[str, Any]] = []
        for key in sorted(needed):
            filed = members.get(key, [])
            if not filed:
                continue
            item = {
                "PK": {"S": near_pk(*key)},
                "SK": {"S": BAND_SK},
                "e": {"SS": sorted({text(i, k) for i, k in filed[:MAX_ENTRIES]})},
                "n": {"N": str(len(filed))},
                "kind": {"S": "near_band"},
            }
            batch.append({"PutRequest": {"Item": item}})
            if len(batch) == 25:
                client.batch_write_item(RequestItems={"bench": batch})
                batch = []
        if batch:
            client.batch_write_item(RequestItems={"bench": batch})
        calls: Counter[str] = Counter()
        client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))
        sizes: dict[str, int] = {}

        def sized(parsed: dict[str, Any], model: Any, **_: Any) -> None:
            if model.name == "BatchGetItem":
                for item in parsed.get("Responses", {}).get("bench", []):
                    sizes[item["PK"]["S"]] = item_size(item)

        client.meta.events.register("after-call.dynamodb", lambda **kw: sized(kw["parsed"], kw["model"]))
        rcu = wcu = found = 0
        max_item = 0
        for target, q, query in probes:
            keys = nd.query_keys(query.variants, query.views, bands, radius)
            sizes.clear()
            seen = index.lookup(keys)
            rcu += sum(read_units(sizes.get(near_pk(*k), 0)) for k in keys)
            max_item = max(max_item, *sizes.values(), 0)
            match = nd.best_match(query, seen.entries, cfg.max_distance, cfg.burst_seconds)
            found += match is not None and match.image_id == _entry(target, 0).image_id
            new = _entry(n + 1, q)
            filing = nd.index_entries(new, query.views, query.view_checks, bands)
            for a in index.insert_many_actions(filing, seen):
                pk = a["Update"]["Key"]["PK"]["S"]
                before = sizes.get(pk, 0)
                added = sum(len(t) + 1 for t in a["Update"]["ExpressionAttributeValues"][":e"]["SS"])
                wcu += transact_write_units(max(before, (before or 60) + added))
        entry_bytes = len(_entry(1, 1, nd.VIEW_NAMES[0]).encode()) + 1
    lookups = calls["BatchGetItem"] / PROBES
    return {
        "rcu_per_image": rcu / PROBES,
        "wcu_per_image": wcu / PROBES,
        "requests_per_image": lookups + 1,  # the lookups and the commit transaction
        "requests_detail": f"{lookups:g} BatchGetItem + the commit's TransactWriteItems",
        "max_item_kb": round(max_item / 1024, 2),
        "found": f"{found}/{PROBES}",
        "entry_bytes": entry_bytes,
        "crop_views": n_views,
        "degraded": any(len(members.get(k, [])) >= MAX_ENTRIES for k in needed),
        "source": "measured (moto)",
    }


def model_index(n: int, bands: int, entry_bytes: int) -> dict[str, Any]:
    """The same figures from uniform band loads: n / 2^width frames per band item, and in the
    crop views' bands n x views / 2^width views more; the keys a lookup reads as
    ``neardup.query_keys`` counts them (at most, no two keys the same)."""
    from lenslog.adapters.nearindex import MAX_ENTRIES
    from lenslog.config import load_config
    from lenslog.domain import neardup as nd

    cfg = load_config().near_duplicates
    n_views = len(nd.VIEW_NAMES) if cfg.crop_views else 0
    width = 64 // bands
    radius = nd.radius_for(cfg.max_distance, bands)
    within = [sum(math.comb(width, r) for r in range(k + 1)) for k in range(radius + 1)]
    central = min(nd.CENTRAL_VIEWS, n_views)
    keys = bands * (within[radius] + 7 + central * within[nd.view_radius(radius)] + (n_views - central))
    with_views = len(nd.view_bands(bands)) if n_views else 0
    loads = [n / 2**width] * (bands - with_views) + [n * (1 + n_views) / 2**width] * with_views
    sizes = [60 + min(load, MAX_ENTRIES) * entry_bytes for load in loads]
    rcu = keys / bands * sum(read_units(int(size)) for size in sizes)
    wcu = sum(transact_write_units(int(size + entry_bytes)) for size in sizes)  # the frame, each band
    wcu += n_views * with_views * transact_write_units(int(sizes[-1] + entry_bytes))  # each view's items
    return {
        "rcu_per_image": round(rcu),
        "wcu_per_image": wcu,
        "requests_per_image": math.ceil(keys / 100) + 1,
        "requests_detail": f"{math.ceil(keys / 100)} BatchGetItem + the commit's TransactWriteItems",
        "max_item_kb": round(max(sizes) / 1024, 2),
        "degraded": max(loads) >= MAX_ENTRIES,
        "band_item_writes_per_image": (bands + n_views * with_views) / 2**width,
        # the fullest band item (a crop views' band): written by 1 + views of every 2^width images
        "hottest_band_item_wcu_per_s": round(
            RATE
            * (1 + n_views if with_views else 1)
            / 2**width
            * transact_write_units(int(max(sizes) + entry_bytes)),
            1,
        ),
        "source": "modelled (uniform band loads, entry size measured on moto)",
    }


def model_widths(n: int, widths: Sequence[int], radius: int, entry_bytes: int) -> dict[str, Any]:
    """A layout the config does not offer (bands of unequal widths), modelled the same way: how
    flat an exact multi-index lookup can be made at 10^8, and at what constant."""
    own = sum(sum(math.comb(w, r) for r in range(radius + 1)) for w in widths)
    keys = own + 7 * len(widths)
    size = max(60 + n / 2**w * entry_bytes for w in widths)
    rcu = sum(
        sum(math.comb(w, r) for r in range(radius + 1)) * read_units(int(60 + n / 2**w * entry_bytes))
        for w in widths
    ) + 7 * sum(read_units(int(60 + n / 2**w * entry_bytes)) for w in widths)
    return {
        "rcu_per_image": rcu,
        "wcu_per_image": sum(transact_write_units(int(60 + (n / 2**w + 1) * entry_bytes)) for w in widths),
        "requests_per_image": math.ceil(keys / 100) + 1,
        "max_item_kb": round(size / 1024, 2),
        "source": "modelled; not implemented (the config's bands must divide 64, radius <= 2)",
    }


# the real ingest path's writes ----------------------------------------------------------------------
def hottest_items(images: int = 24) -> dict[str, Any]:
    """Writes per image of every item the real ingest path writes, from a day of camera images."""
    from moto import mock_aws

    from bench.scale import embedded_emulator
    from lenslog import runtime
    from lenslog.config import load_config
    from lenslog.local.aws import provision, use_local_credentials
    from lenslog.local.worker import Worker

    use_local_credentials()
    config = load_config()
    from tests.images import encode, scene

    # distinct scenes, as many cameras send them (a burst of near-identical frames would put its
    # frames into the same band items: see docs/performance.md)
    bodies = [encode(scene(50_000 + i, (800, 600)), quality=88) for i in range(images)]
    writes: Counter[tuple[str, str]] = Counter()
    with mock_aws(), embedded_emulator():
        runtime.client.cache_clear()
        runtime.ingest_service.cache_clear()
        stack = provision(config, endpoint_url=None, prefix="hot")
        res = stack.cells["eu"]
        ddb = stack.client("dynamodb", "eu")

        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            if model.name == "TransactWriteItems":
                for action in params["TransactItems"]:
                    (body,) = action.values()
                    item = body.get("Item") or body.get("Key")
                    writes[(item["PK"]["S"], item["SK"]["S"])] += 1
            elif model.name in ("UpdateItem", "PutItem"):
                item = params.get("Item") or params.get("Key")
                writes[(item["PK"]["S"], item["SK"]["S"])] += 1

        ddb.meta.events.register("provide-client-params.dynamodb", record)
        worker = Worker(stack)
        worker.drain()
        s3 = stack.client("s3", "eu")
        for i, body in enumerate(bodies):
            s3.put_object(
                Bucket=res.landing_bucket,
                Key=f"cam-0{1 + i % 2}/2026-03-05/frame-{i:04d}.jpg",
                Body=body,
                Metadata={"camera-id": f"cam-0{1 + i % 2}", "captured-at": "2026-03-05T10:00:00Z"},
            )
        with contextlib.redirect_stdout(io.StringIO()):
            worker.drain(stall=300)
        items = {(i["PK"]["S"], i["SK"]["S"]): item_size(i) for i in _scan(ddb, res.table)}
        decided = sum(1 for k in items if k[0].startswith("OBJ#"))
    runtime.client.cache_clear()
    runtime.ingest_service.cache_clear()
    rows = []
    for key, count in writes.items():
        size = items.get(key, 0)
        per_image = count / images
        rows.append(
            {
                "item": f"{key[0].split('#')[0]}#.../{key[1][:40]}",
                "pk": key[0][:60],
                "writes_per_image": round(per_image, 4),
                "wcu_per_write": transact_write_units(size),
                "wcu_per_s_at_1000_images_per_s": round(per_image * RATE * transact_write_units(size), 1),
            }
        )
    rows.sort(key=lambda r: -r["wcu_per_s_at_1000_images_per_s"])
    # At 1,000 images/s the shards of a counter share its writes evenly (the shard is a hash of
    # the image id); a sample of tens of images does not, so the steady state divides the writes
    # of all shards of a counter by the number of shards.
    shards = config.counters.shards
    groups: Counter[tuple[str, str]] = Counter()
    wcu: dict[tuple[str, str], int] = {}
    for (pk, sk), count in writes.items():
        base = (pk, sk.split("\x1f")[0])
        n_shards = shards if pk.startswith("AGG#") else 1
        groups[base] += count
        wcu[base] = max(wcu.get(base, 0), transact_write_units(items.get((pk, sk), 0)))
        wcu[(base[0], base[1] + "#n")] = n_shards
    steady = [
        {
            "item": f"{pk[:40]} / {sk[:40]}"
            + (f" (one of {wcu[(pk, sk + '#n')]} shards)" if pk.startswith("AGG#") else ""),
            "writes_per_image": round(count / images / wcu[(pk, sk + "#n")], 4),
            "wcu_per_write": wcu[(pk, sk)],
            "wcu_per_s_at_1000_images_per_s": round(
                count / images / wcu[(pk, sk + "#n")] * RATE * wcu[(pk, sk)], 1
            ),
        }
        for (pk, sk), count in groups.items()
    ]
    steady.sort(key=lambda r: -r["wcu_per_s_at_1000_images_per_s"])
    return {
        "images": images,
        "decided": decided,
        "sample": rows[:8],
        "steady_state": steady[:8],
        "shards": shards,
    }


def _scan(ddb: Any, table: str) -> Iterator[dict[str, Any]]:
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        resp = ddb.scan(**kwargs)
        yield from resp["Items"]
        if "LastEvaluatedKey" not in resp:
            return
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


# recall ----------------------------------------------------------------------------------------------
def recall(scenes: int) -> dict[str, Any]:
    """Recall per edit (``bench/neardup``'s edits and crops) under the whole rule as the service
    applies it: the gate's prints (variants, crop views, check hashes, colour layouts), the keys
    the index reads, ``neardup.best_match`` (``bench.neardup_offline.found``)."""
    from bench.neardup import EDITS, INFORMATIONAL, load_photos
    from bench.neardup_offline import Rule, crop_edits, found, jpeg
    from lenslog.config import load_config
    from lenslog.domain import gate

    config = load_config()
    cfg = config.near_duplicates
    photos = load_photos(None, scenes)

    def prints(data: bytes) -> Any:
        return gate.inspect(gate.GateInput(key="x.jpg", data=data), config).prints

    out: dict[str, Any] = {}
    by_layout: dict[str, dict[str, float]] = {}
    originals = [prints(raw) for _, _, raw in photos]
    edits = {**EDITS, **INFORMATIONAL}
    copies = {edit: [prints(fn(im, raw)) for _, im, raw in photos] for edit, fn in edits.items()}
    for name, crop in crop_edits().items():
        copies[name] = [prints(jpeg(crop(im, k))) for k, (_, im, _) in enumerate(photos)]
    for bands in (8, 4):
        rule = Rule(
            bands,
            cfg.max_distance,
            cfg.check_distance,
            cfg.crop_check_distance,
            crop_views=cfg.crop_views,
            layout_distance=cfg.layout_distance,
        )
        result: dict[str, float] = {}
        for edit, copied in copies.items():
            pairs = [
                (o, c) for o, c in zip(originals, copied, strict=True) if o is not None and c is not None
            ]
            hits = sum(found(c, o, rule)[0] for o, c in pairs)
            result[edit] = round(hits / len(pairs), 4) if pairs else float("nan")
        by_layout[f"{bands}x{64 // bands}"] = result
    out["recall"] = by_layout[FLEET_LAYOUT]
    out["by_layout"] = by_layout
    out["photos"] = len(photos)
    out["informational"] = sorted(INFORMATIONAL)
    return out


# an in-memory exact index ---------------------------------------------------------------------------
def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def in_memory(sizes: Sequence[int], max_distance: int) -> dict[str, Any]:
    try:
        import faiss
        import numpy as np
    except ImportError:
        return {"skipped": "faiss-cpu is not installed (pip install -e '.[bench]')"}
    rng = np.random.default_rng(5)
    out: dict[str, Any] = {}
    for n in sizes:
        data = np.frombuffer(rng.bytes(8 * n), dtype=np.uint8).reshape(n, 8)
        t0 = time.perf_counter()
        index = faiss.IndexBinaryMultiHash(64, 4, 16)
        index.nflip = 2
        index.add(data)
        build = time.perf_counter() - t0
        queries = data[rng.integers(0, n, size=QUERIES)].copy()
        flips = rng.integers(0, 8, size=(QUERIES, 5))
        for q, f in zip(queries, flips, strict=True):
            for k in f:
                q[k] ^= 1 << int(rng.integers(0, 8))
        probes = np.repeat(queries, 8, axis=0)  # 8 dihedral variants an image
        t0 = time.perf_counter()
        lims, _d, _i = index.range_search(probes, max_distance + 1)
        per_image_ms = (time.perf_counter() - t0) * 1000 / len(queries)
        found = sum(1 for j in range(0, len(probes), 8) if lims[j + 1] > lims[j])
        out[str(n)] = {
            "build_s": round(build, 2),
            "codes_mb": round(n * 8 / 2**20, 1),
            "rss_mb_after_build": round(_rss_mb(), 1),
            "lookup_ms_per_image": round(per_image_ms, 3),
            "found": f"{found}/{len(queries)}",
            "source": "measured (faiss-cpu in process)",
        }
        del index, data
    last = max(sizes)
    m = out[str(last)]
    for n in SIZES:
        if n > last:
            f = n / last
            out[str(n)] = {
                "codes_mb": round(m["codes_mb"] * f, 1),
                "lookup_ms_per_image": round(m["lookup_ms_per_image"] * f, 3),
                "source": f"modelled (linear from {last:,})",
            }
    return out


# ----------------------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="a cell at fleet scale: writes bench/scale.json")
    ap.add_argument("--out", default=str(ROOT / "bench" / "scale.json"))
    ap.add_argument("--quick", action="store_true", help="measure the index to 10^5, recall on fewer scenes")
    ap.add_argument("--scenes", type=int, default=60)
    args = ap.parse_args(argv)
    from lenslog.config import load_config
    from lenslog.local.aws import LOCAL_CREDENTIALS

    os.environ.update(LOCAL_CREDENTIALS)
    config = load_config()
    started = time.time()
    load = os.getloadavg()
    rng = random.Random(1)
    by_layout: dict[str, dict[str, Any]] = {}
    for bands in (8, 4):
        layout = f"{bands}x{64 // bands}"
        rows: dict[str, Any] = {}
        entry_bytes = 0
        measured_to = min(MEASURED_UP_TO[bands], 10**4 if args.quick else 10**9)
        for n in SIZES:
            if n <= measured_to:
                t0 = time.perf_counter()
                rows[str(n)] = measure_index(n, bands, rng)
                entry_bytes = rows[str(n)]["entry_bytes"]
                print(
                    f"index {layout} {n:>11,}: {rows[str(n)]} ({time.perf_counter() - t0:.0f} s)", flush=True
                )
            else:
                rows[str(n)] = model_index(n, bands, entry_bytes)
                print(f"index {layout} {n:>11,}: {rows[str(n)]}", flush=True)
        by_layout[layout] = rows
    configured = f"{config.near_duplicates.bands}x{64 // config.near_duplicates.bands}"
    # The layout a fleet cell is created with (docs/near-duplicates.md, sizing): 4 bands of 16 bits.
    # The default config's layout (8 bands, cheaper below ~20k images a cell) is in index_by_layout.
    fleet = FLEET_LAYOUT
    index = {
        n: {
            k: v
            for k, v in row.items()
            if k
            in ("rcu_per_image", "wcu_per_image", "requests_per_image", "max_item_kb", "source", "degraded")
        }
        for n, row in by_layout[fleet].items()
    }
    entry_bytes = max(r.get("entry_bytes", 0) for r in by_layout["4x16"].values())
    alternatives = {
        "3 bands of 22+21+21 bits, radius 3": {
            str(n): model_widths(n, (22, 21, 21), 3, entry_bytes) for n in SIZES
        }
    }
    hot = hottest_items(24 if args.quick else 64)
    print(f"hottest items written by the ingest path: {hot['steady_state'][:3]}", flush=True)
    counters_hottest = hot["steady_state"][0]["wcu_per_s_at_1000_images_per_s"]
    band_rates = {}
    for layout, rows in by_layout.items():
        entry_bytes = max(r.get("entry_bytes", 0) for r in rows.values())
        big = model_index(10**8, int(layout.split("x")[0]), entry_bytes)
        band_rates[layout] = big["hottest_band_item_wcu_per_s"]
    rec = recall(20 if args.quick else args.scenes)
    print(f"recall ({fleet}): {rec['recall']}", flush=True)
    mem = in_memory([10**5, 10**6] if args.quick else [10**6, 10**7], config.near_duplicates.max_distance)
    print(f"in-memory index: {mem}", flush=True)
    result = {
        "layout": fleet,
        "default_config_layout": configured,
        "index": index,
        "index_by_layout": by_layout,
        "index_alternatives": alternatives,
        "hottest_item_wcu_per_s_at_1000_images_per_s": max(counters_hottest, band_rates[fleet]),
        "hottest_item_detail": {
            "ingest_path_items (measured on moto)": hot,
            "band_item_at_10^8 (modelled), by layout": band_rates,
        },
        "recall": rec["recall"],
        "recall_detail": rec,
        "in_memory_index": mem,
        "run": {
            "seconds": round(time.time() - started),
            "load_average_at_start": [round(x, 2) for x in load],
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "measured_up_to": {
                f"{b}x{64 // b}": min(m, 10**4 if args.quick else m) for b, m in MEASURED_UP_TO.items()
            },
            "quick": args.quick,
        },
    }
    Path(args.out).write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
