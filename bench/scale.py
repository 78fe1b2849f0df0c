"""Scale: DynamoDB requests per ingested image against the size of the indexed corpus, the cost
of a report (aggregate items read) against days and images, and the local pipeline's rate.

Requests are counted with a botocore ``before-call.dynamodb`` hook on the very client the ingest
function uses, so the figure is every request of the real handler (the decision lookups, the
near-duplicate index lookups and the transactional commit), not an estimate. The corpus is
pre-populated with direct batch writes of real record items.
"""

from __future__ import annotations

import contextlib
import io
import logging
import random
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any


@contextlib.contextmanager
def embedded_emulator() -> Iterator[None]:
    """The embedded AWS's own patch of moto (``lenslog.local.emulator``: transactions and table
    queries that cost what they touch), under ``mock_aws`` too: what ``lenslog local`` runs."""
    from lenslog.local import emulator

    was = emulator.installed()
    emulator.install()
    try:
        yield
    finally:
        if not was:
            emulator.uninstall()


def _counting(client: Any) -> Counter[str]:
    counts: Counter[str] = Counter()

    def hook(model: Any, **_: Any) -> None:
        counts[model.name] += 1

    client.meta.events.register("before-call.dynamodb", hook)
    return counts


def _decision(i: int, day: date | None = None) -> Any:
    from lenslog.domain.models import Decision, ImageMetadata, Status

    rng = random.Random(i)
    when = datetime.combine(day or date(2026, 3, 1), datetime.min.time(), UTC) + timedelta(
        seconds=(i * 7919) % 86_400
    )
    image_id = f"{rng.getrandbits(256):064x}"
    meta = ImageMetadata.model_validate(
        {"camera_id": f"cam-0{1 + i % 3}", "captured_at": when.isoformat(), "source_type": "production_live"}
    )
    return Decision(
        key=f"cam-01/seed/{i}.jpg",
        bucket="seed",
        cell="eu",
        status=Status.accepted,
        image_id=image_id,
        cluster_id=image_id,
        split="train",
        data_region="eu",
        metadata=meta,
        decided_at=when,
        version_id=f"v{i}",
    )


def seed_records(ddb: Any, table: str, n: int) -> None:
    """n image records and their decisions, written as the ledger writes them."""
    from lenslog.adapters.dynamo import decision_item, image_item

    batch: list[dict[str, Any]] = []
    for i in range(n):
        d = _decision(i)
        batch += [{"PutRequest": {"Item": image_item(d)}}, {"PutRequest": {"Item": decision_item(d)}}]
        if len(batch) >= 24 or i == n - 1:
            ddb.batch_write_item(RequestItems={table: batch})
            batch = []


def _jpegs(n: int, seed: int, size: tuple[int, int] = (1024, 768)) -> list[bytes]:
    from PIL import Image, ImageDraw

    from bench.images import camera_exif, photo

    base = photo(seed, size)
    out = []
    for i in range(n):
        img = base.copy()
        draw = ImageDraw.Draw(img)
        x, y = (i * 37) % (size[0] - 40), (i * 13) % (size[1] - 40)
        draw.rectangle([x, y, x + 30, y + 30], outline=(i % 256, 255 - i % 256, (i // 256) % 256))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=88, exif=camera_exif(seed + i))
        out.append(buf.getvalue())
    assert len({hash(b) for b in out}) == n
    _ = Image
    return out


def requests_per_image(corpus_sizes: tuple[int, ...], images: int = 10, log: Any = print) -> dict[str, Any]:
    from moto import mock_aws

    from lenslog import runtime
    from lenslog.config import load_config
    from lenslog.local.aws import provision, use_local_credentials
    from lenslog.local.worker import Worker

    use_local_credentials()
    config = load_config()
    bodies = _jpegs(images, 7)
    out: dict[str, Any] = {}
    for n in corpus_sizes:
        with mock_aws(), embedded_emulator():
            runtime.client.cache_clear()
            runtime.ingest_service.cache_clear()
            runtime._session.cache_clear()
            stack = provision(config, endpoint_url=None, prefix="bench")
            res = stack.cells["eu"]
            ddb = stack.client("dynamodb", "eu")
            start = time.perf_counter()
            seed_records(ddb, res.table, n)
            log(f"  scale: {n} records seeded in {time.perf_counter() - start:.0f} s")
            worker = Worker(stack)
            worker.drain()
            s3 = stack.client("s3", "eu")
            counts = _counting(ddb)
            for i, body in enumerate(bodies):
                s3.put_object(
                    Bucket=res.landing_bucket, Key=f"cam-02/2026-03-03/frame-{n}-{i}.jpg", Body=body
                )
            start = time.perf_counter()
            worker.drain()
            elapsed = time.perf_counter() - start
            total = sum(counts.values())
            out[str(n)] = {
                "requests_per_image": total / images,
                "by_operation": {k: v / images for k, v in sorted(counts.items())},
                "ms_per_image_moto": elapsed * 1000 / images,
            }
    runtime.client.cache_clear()
    runtime._session.cache_clear()
    return out


def report_cost(log: Any = print) -> dict[str, Any]:
    """Aggregate items a report reads, for (images, days): counters are per day x dimension value,
    so the figure follows days (and the variety of values), never the number of images."""
    from moto import mock_aws

    from lenslog.adapters.dynamo import DynamoLedger
    from lenslog.config import load_config
    from lenslog.domain.aggregates import dataset_increments, intake_increments
    from lenslog.local.aws import provision, use_local_credentials

    use_local_credentials()
    config = load_config()
    out: dict[str, Any] = {}
    for images, days in ((1_000, 7), (10_000, 7), (10_000, 14)):
        with mock_aws():
            from lenslog import runtime

            runtime.client.cache_clear()
            runtime._session.cache_clear()
            stack = provision(config, endpoint_url=None, prefix="bench")
            res = stack.cells["eu"]
            ddb = stack.client("dynamodb", "eu")
            ledger = DynamoLedger(ddb, res.table, "eu")
            first = date(2026, 3, 1)
            increments = []
            for i in range(images):
                d = _decision(i, first + timedelta(days=i % days))
                increments += dataset_increments(d) + intake_increments(d)
            merged: Counter[tuple[Any, str, str]] = Counter()
            for inc in increments:
                merged[(inc.day, inc.dimension, inc.value)] += inc.delta
            from lenslog.domain.aggregates import Increment

            keys = list(merged)
            for k in range(0, len(keys), 90):
                chunk = [
                    Increment(day=a, dimension=b, value=c, delta=merged[(a, b, c)])
                    for a, b, c in keys[k : k + 90]
                ]
                ledger.commit(decision=_decision(10**7 + k), increments=chunk)
            counts = _counting(ddb)
            items = ledger.aggregates(
                [(first + timedelta(days=i)).isoformat() for i in range(days)], summed=False
            )
            out[f"{images}x{days}d"] = {
                "images": images,
                "days": days,
                "items_read": len(items),
                "requests": sum(counts.values()),
                "images_counted": sum(
                    x["count"] for x in items if x["dimension"] == "decision" and x["value"] == "accepted"
                ),
            }
    runtime.client.cache_clear()
    runtime._session.cache_clear()
    return out


def local_pipeline(uploads: int = 1000, log: Any = print) -> dict[str, Any]:
    """images/s through the embedded AWS: camera-style PUTs -> S3 notification -> SQS -> worker."""
    from lenslog import runtime
    from lenslog.config import load_config
    from lenslog.local.aws import EmbeddedAws, provision
    from lenslog.local.worker import Worker

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    bodies = _jpegs(uploads, 11, size=(1024, 768))
    runtime.client.cache_clear()
    runtime._session.cache_clear()
    with EmbeddedAws() as aws:
        stack = provision(load_config(), aws.endpoint_url, prefix="pipe")
        worker = Worker(stack)
        worker.drain()
        res = stack.cells["eu"]
        s3 = stack.client("s3", "eu")
        start = time.perf_counter()
        for i, body in enumerate(bodies):
            s3.put_object(Bucket=res.landing_bucket, Key=f"cam-01/2026-03-04/frame-{i:05d}.jpg", Body=body)
        uploaded = time.perf_counter() - start
        log(f"  pipeline: {uploads} uploaded in {uploaded:.0f} s, draining")
        with contextlib.redirect_stdout(io.StringIO()):  # Powertools' metrics lines
            worker.drain(stall=600)
        total = time.perf_counter() - start
        curated = sum(
            page.get("KeyCount", 0)
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=res.curated_bucket)
        )
    runtime.client.cache_clear()
    runtime._session.cache_clear()
    return {
        "uploads": uploads,
        "curated": curated,
        "upload_s": uploaded,
        "total_s": total,
        "images_per_s": uploads / total,
        "failures": worker.failures,
    }
