"""A snapshot of a large cell: time, requests and read capacity per image, and the model at 1M.

Run: ``make bench-snapshot`` or ``PYTHONPATH=. python -m bench.snapshot [--moto N]... [SIZES...]``
(default: moto 2000, in-process 10000 100000 300000). Synthetic image records (the JSON of a
real gate decision, labelled, ~2 KB each, statuses as a cell holds them) are put behind the
status index in one of two ways:

- ``moto``: written into a cell table under moto (in process) and read by the real adapter. Moto
  answers an index query by walking and copying the whole table, so a page costs O(table): fine
  for the few thousand records that show the adapter at work, not for 10^5;
- ``in-process``: the same items served by an in-process stand-in for the index query (sorted
  items, pages of at most 1 MB, ``ExclusiveStartKey`` as DynamoDB takes it, the same request,
  item and byte counts). It measures what the build itself costs per image (parsing, lines,
  counts, digests, part writes to moto S3, the record saves), at 10^5 and beyond.

Then a snapshot is built by the real service, part by part, as the snapshot function does
(``should_stop`` after every part, so every part costs one invocation's resume: the worst case).
Printed for each size:

- the baseline: reading the same records through the same index with nothing else (same run);
- the snapshot's time, and its ratio to the baseline (what building costs above reading);
- Query requests and modelled read capacity per image (a Query page is billed on the sum of its
  items' sizes, rounded up to 4 KB, half a unit each eventually consistent);
- images per second, and from it the model at 1M images: this run's time per image plus
  DynamoDB's latency per 1 MB page, and the invocations of the 15-minute function it takes
  (13 minutes of work each).
"""

from __future__ import annotations

import gc
import itertools
import json
import math
import os
import sys
import time
from datetime import UTC, datetime, timedelta

from lenslog.adapters.schema import create_table_kwargs
from lenslog.local.aws import LOCAL_CREDENTIALS

CLASSES = ("pallet", "person", "forklift", "box", "truck")
WORK_SECONDS_PER_INVOCATION = 13 * 60
DYNAMODB_PAGE_SECONDS = 0.05  # a 1 MB Query page on DynamoDB (published p50 tens of ms; modelled)


def synthetic_item(i: int, decided: datetime) -> dict:
    from lenslog.adapters.dynamo import image_item
    from lenslog.domain.models import Decision, Hashes, ImageInfo, ImageMetadata, Quality, Status, StoredAt

    image_id = f"{i:064x}"
    status = Status.near_duplicate if i % 20 == 0 else Status.accepted
    camera = f"cam-{i % 37:02d}"
    decision = Decision(
        key=f"uploads/depot-live/{camera}/2026-11-{1 + i % 28:02d}/img-{i}.jpg",
        bucket="lenslog-eu-landing",
        cell="eu",
        status=status,
        image_id=image_id,
        cluster_id=image_id,
        split=("train", "train", "train", "train", "train", "train", "train", "train", "val", "test")[i % 10],
        data_region="eu",
        stored=StoredAt(
            bucket="lenslog-eu-curated", key=f"images/{image_id[:2]}/{image_id}.jpg", region="eu-central-1"
        ),
        metadata=ImageMetadata(
            camera_id=camera,
            captured_at=decided - timedelta(minutes=i % 600),
            source_id="depot-live",
            source_type="production_live",
            site=f"site-{i % 5}",
            shift="day",
            classes=[CLASSES[i % 5]],
            provenance={"camera_id": "s3_metadata", "captured_at": "exif", "site": "registry"},
        ),
        quality=Quality(
            brightness=0.5, brightness_p05=0.1, brightness_p95=0.9, contrast=0.3, sharpness=120.0,
            entropy=7.2, colourfulness=0.4, noise=0.02, aspect_ratio=1.33, measured_on="160x120",
        ),
        hashes=Hashes(
            sha256=image_id, phash=f"{i * 2654435761 % 2**64:016x}", phash_algorithm="phash-dct-8x8"
        ),
        image=ImageInfo(format="JPEG", width=1920, height=1080, mode="RGB", bytes=412_000 + i % 9000),
        decided_at=decided,
        etag=f"{i:032x}",
    )  # fmt: skip
    item = image_item(decision)
    doc = json.loads(item["doc"]["S"])
    doc["labels"] = {
        "format": "yolo",
        "status": "labelled",
        "objects": [
            {"class": CLASSES[(i + k) % 5], "box": [0.1 + 0.2 * k, 0.5, 0.1, 0.2]} for k in range(1 + i % 4)
        ],
        "warnings": [],
    }
    item["doc"]["S"] = json.dumps(doc, sort_keys=True)
    return item


def items(n: int) -> list[dict]:
    decided = datetime.now(UTC) - timedelta(hours=1)
    return [synthetic_item(i, decided) for i in range(n)]


def fill(client, table: str, rows: list[dict]) -> None:
    for start in range(0, len(rows), 25):
        batch = [{"PutRequest": {"Item": item}} for item in rows[start : start + 25]]
        client.batch_write_item(RequestItems={table: batch})


class InProcessIndex:
    """The status index's Query, in process: items in index order, pages of at most 1 MB, a
    LastEvaluatedKey after each page but the last, ExclusiveStartKey as DynamoDB takes it."""

    def __init__(self, rows: list[dict]):
        from lenslog.adapters import schema as s

        self.pk, self.sk = f"{s.GSI_BY_STATUS}PK", f"{s.GSI_BY_STATUS}SK"
        self.rows: dict[str, list[dict]] = {}
        for row in rows:
            self.rows.setdefault(row[self.pk]["S"], []).append(row)
        for part in self.rows.values():
            part.sort(key=lambda r: (r[self.sk]["S"], r["PK"]["S"]))
        self.keys = {pk: [(r[self.sk]["S"], r["PK"]["S"]) for r in part] for pk, part in self.rows.items()}

    def query(self, **kwargs):
        import bisect

        from lenslog.adapters.snapshots import ImageRecords, _item_bytes

        pk = kwargs["ExpressionAttributeValues"][":pk"]["S"]
        rows = self.rows.get(pk, [])
        start = 0
        if "ExclusiveStartKey" in kwargs:
            key = kwargs["ExclusiveStartKey"]
            start = bisect.bisect_right(self.keys[pk], (key[self.sk]["S"], key["PK"]["S"]))
        page, size = [], 0
        for row in itertools.islice(rows, start, None):
            size += _item_bytes(row)
            if size > 1_000_000 and page:
                return {"Items": page, "LastEvaluatedKey": ImageRecords.key_of(page[-1])}
            page.append(row)
        return {"Items": page}


def run(n: int, source: str) -> str:
    import boto3
    from moto import mock_aws

    from lenslog.adapters.s3 import S3ObjectStore
    from lenslog.adapters.snapshots import ImageRecords, SnapshotStore
    from lenslog.domain.snapshot import DATASET_STATUSES
    from lenslog.services.snapshots import SnapshotService

    rows = items(n)
    doc_bytes = sum(len(r["doc"]["S"]) for r in rows) / n
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="eu-central-1")
        s3 = boto3.client("s3", region_name="eu-central-1")
        ddb.create_table(**create_table_kwargs("bench"))
        s3.create_bucket(Bucket="curated", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
        if source == "moto":
            fill(ddb, "bench", rows)
            index = ddb
        else:
            index = InProcessIndex(rows)
        del rows
        gc.collect()
        gc.freeze()  # the synthetic corpus is the table's, not the builder's: keep the GC off it

        baseline = ImageRecords(index, "bench")
        t0 = time.perf_counter()
        seen = sum(1 for status in DATASET_STATUSES for _ in baseline.after(status, None))
        read_s = time.perf_counter() - t0
        assert seen == n, (seen, n)

        records = ImageRecords(index, "bench")
        store = SnapshotStore(ddb, "bench", S3ObjectStore(s3, "eu-central-1"), "curated")
        service = SnapshotService("eu", store, records, "cfg-bench")
        t0 = time.perf_counter()
        record = service.start()
        while record.status != "complete":  # one part per "invocation": the resume cost every time
            record = service.step(record.snapshot_id, should_stop=lambda: True)
        snap_s = time.perf_counter() - t0
        assert record.images == n, (record.images, n)
        del index
        gc.unfreeze()

    # billed read capacity, an upper bound: the items' sizes in 4 KB units, half a unit each
    # (eventually consistent), plus at most half a unit per page for the rounding up
    rcu = math.ceil(records.bytes / 4096) / 2 + records.requests * 0.5
    rate = n / snap_s
    items_per_page = max(records.items / max(records.requests, 1), 1)
    # 1M modelled: this run's cost per image (CPU of the build, the reads as served here) plus
    # DynamoDB's latency per 1 MB page, in invocations of 13 minutes of work
    model_s = 1_000_000 / rate + 1_000_000 / items_per_page * DYNAMODB_PAGE_SECONDS
    invocations = math.ceil(model_s / WORK_SECONDS_PER_INVOCATION)
    return (
        f"{n:>8} {doc_bytes / 1024:>6.1f} {read_s:>7.1f} {snap_s:>10.1f} {snap_s / read_s:>6.2f} "
        f"{rate:>7.0f} {records.requests / n:>12.4f} {rcu / n:>8.3f} {len(record.parts):>6} "
        f"{model_s / 60:>10.1f} {invocations:>12} {source}"
    )


def main(argv: list[str]) -> None:
    os.environ.update(LOCAL_CREDENTIALS)
    runs: list[tuple[int, str]] = []
    args = iter(argv)
    for a in args:
        runs.append((int(next(args)), "moto") if a == "--moto" else (int(a), "in-process"))
    runs = runs or [(2000, "moto"), (10_000, "in-process"), (100_000, "in-process"), (300_000, "in-process")]
    print(os.popen("uptime").read().strip())
    header = (
        f"{'images':>8} {'doc KB':>6} {'read s':>7} {'snapshot s':>10} {'ratio':>6} {'img/s':>7} "
        f"{'queries/img':>12} {'RCU/img≤':>8} {'parts':>6} {'1M: min':>10} {'invocations':>12} source"
    )
    print(header)
    for n, source in runs:
        print(run(n, source), flush=True)
    print(
        "ratio = snapshot time / reading the same records alone (same run); RCU from item sizes; "
        "1M: this run's time per image plus "
        f"{DYNAMODB_PAGE_SECONDS * 1000:.0f} ms per 1 MB page, in 15-minute invocations (13 min of work each)"
    )
    print(os.popen("uptime").read().strip())


if __name__ == "__main__":
    main(sys.argv[1:])
