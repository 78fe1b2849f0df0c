"""Requests per image of the near-duplicate index at 1k, 10k and 100k indexed images.

Run: ``python bench/neardup_scale.py [SIZES...]``. Synthetic random 64-bit hashes are inserted
straight through the adapter into a cell table under moto; then images are looked up and
committed as the ingest service does (lookup of every variant's band keys, then the conditional
index actions in one transaction), and every DynamoDB request is counted with a botocore event
hook. Also prints the band items' sizes, which (unlike the request count) grow with the corpus.
"""

from __future__ import annotations

import os
import random
import sys
import time

from lenslog.adapters.nearindex import NearIndex
from lenslog.adapters.schema import create_table_kwargs
from lenslog.config import load_config
from lenslog.domain import neardup as nd
from lenslog.local.aws import LOCAL_CREDENTIALS

PROBES = 50


def main(sizes: list[int]) -> None:
    os.environ.update(LOCAL_CREDENTIALS)
    import boto3
    from moto import mock_aws

    cfg = load_config().near_duplicates
    radius = nd.radius_for(cfg.max_distance, cfg.bands)
    print(f"bands={cfg.bands} max_distance={cfg.max_distance} band radius={radius}")
    print(
        f"{'indexed':>8} {'requests/lookup':>16} {'requests/insert':>16} {'entries/band item':>18} "
        f"{'KB read/lookup':>15} {'found':>6}"
    )
    rng = random.Random(1)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-central-1")
        client.create_table(**create_table_kwargs("bench"))
        index = NearIndex(client, "bench")
        counts: dict[str, int] = {}

        def count(event_name: str, **_: object) -> None:
            op = event_name.rsplit(".", 1)[-1]
            counts[op] = counts.get(op, 0) + 1

        client.meta.events.register("before-call.dynamodb.*", count)
        phashes: list[int] = []
        for size in sizes:
            t0 = time.monotonic()
            batch = []
            while len(phashes) < size:
                e = nd.Entry(
                    f"{len(phashes):064x}",
                    rng.getrandbits(64),
                    split="train",
                    camera_id="cam-01",
                    captured_at=1_700_000_000 + len(phashes),
                )
                phashes.append(e.phash)
                batch.append(e)
            index.bulk_load(batch, cfg.bands)
            load_s = time.monotonic() - t0
            counts.clear()
            found = 0
            entries_seen = 0
            bytes_read = 0
            insert_requests = 0
            for p in range(PROBES):
                n = rng.randrange(size)
                target = nd.Entry(f"{n:064x}", phashes[n])
                # a near copy of a random indexed image, 5 bits away, and 7 other variants
                query = target.phash
                for k in rng.sample(range(64), 5):
                    query ^= 1 << k
                variants = (query, *(rng.getrandbits(64) for _ in range(7)))
                seen = index.lookup(nd.lookup_keys(variants, cfg.bands, radius))
                entries_seen += len(seen.entries)
                bytes_read += sum(len(e.encode()) for e in seen.entries)
                m = nd.best_match(
                    nd.Query(variants=variants), seen.entries, cfg.max_distance, cfg.burst_seconds
                )
                found += m is not None and m.image_id == target.image_id
                new = nd.Entry(f"probe-{size}-{p}".ljust(64, "0"), query)
                before = sum(counts.values())
                actions = index.insert_actions(new, nd.band_keys(query, cfg.bands), seen)
                client.transact_write_items(TransactItems=actions)
                insert_requests += sum(counts.values()) - before
            lookups = counts.get("BatchGetItem", 0) / PROBES
            per_item = entries_seen / PROBES / len(nd.lookup_keys(variants, cfg.bands, radius))
            print(
                f"{size:>8} {lookups:>16.1f} {insert_requests / PROBES:>16.1f} {per_item:>18.1f} "
                f"{bytes_read / PROBES / 1024:>15.1f} {found:>3}/{PROBES}   (load {load_s:.0f} s)"
            )
            sys.stdout.flush()


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000, 10_000, 100_000])
