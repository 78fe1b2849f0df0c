"""The proof of a camera erasure, from outside: after it, nothing in any bucket version or table
item of any cell names the erased camera, except the erasure's own tombstone; the other camera's
images, counters and report rows are intact."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from lenslog.runtime import erasure_service, report_service
from lenslog.services.erasure import ErasureRequest
from tests.component.conftest import Cell
from tests.images import jpeg

ERASED, KEPT = "erase-cam-x", "erase-cam-y"
PER_CAMERA = 8
DAY = (datetime.now(UTC) - timedelta(days=2)).date()


VOC = (
    b"<annotation><size><width>640</width><height>480</height></size><object><name>pallet</name>"
    b"<bndbox><xmin>10</xmin><ymin>20</ymin><xmax>200</xmax><ymax>220</ymax></bndbox></object></annotation>"
)


def ingest(eu: Cell) -> None:
    for camera in (ERASED, KEPT):  # labelled uploads: a VOC file beside one image, before it arrives
        eu.put(f"{camera}/{DAY}T10-00.xml", VOC)
    eu.drain()
    for n, camera in enumerate((ERASED, KEPT)):
        for i in range(PER_CAMERA):
            eu.put(
                f"{camera}/{DAY}T10-{i:02d}.jpg",
                jpeg(100 * n + i),
                {"camera-id": camera, "captured-at": f"{DAY}T10:{i:02d}:00Z"},
            )
    eu.put(f"{ERASED}/{DAY}T10-99.jpg", jpeg(999)[:2000], {"camera-id": ERASED})  # refused, quarantined
    eu.drain()


def everything(stack) -> tuple[list[tuple[str, str]], int, int]:
    """(where, text) of every object version of every bucket and every item of every table of
    every cell, and how many versions and items that was."""
    found: list[tuple[str, str]] = []
    versions = items = 0
    for cell in stack.cells:
        s3, ddb = stack.client("s3", cell), stack.client("dynamodb", cell)
        for bucket in (b["Name"] for b in s3.list_buckets()["Buckets"]):
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
                for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
                    versions += 1
                    where = f"s3://{bucket}/{v['Key']}@{v['VersionId']}"
                    body = b""
                    if "Size" in v:
                        body = s3.get_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])[
                            "Body"
                        ].read()
                    found.append((where, v["Key"] + body.decode("latin-1")))
        for table in ddb.list_tables()["TableNames"]:
            for page in ddb.get_paginator("scan").paginate(TableName=table):
                for item in page["Items"]:
                    items += 1
                    found.append((f"{table}: {item['PK']['S']} / {item['SK']['S']}", json.dumps(item)))
    return found, versions, items


def test_after_a_camera_erasure_nothing_but_its_tombstone_names_it(eu, stack):
    ingest(eu)
    report_service(stack.settings("eu"), send=False).run(DAY)
    before, _, _ = everything(stack)
    assert any(ERASED in text for _, text in before)  # the scan sees what it is looking for
    assert any(where.startswith("s3://lenslog-eu-curated/labels/") and ERASED in where for where, _ in before)

    result = erasure_service(stack.settings("eu")).erase(
        ErasureRequest(subject="camera", value=ERASED, requested_by="dpo@example.com", reason="art. 17")
    )

    after, versions, items = everything(stack)
    naming = [where for where, text in after if ERASED in text]
    assert len(naming) == 1 and "ERASURE#" in naming[0], naming
    assert result.verified, result.leftovers
    assert result.images == PER_CAMERA and result.decisions == PER_CAMERA + 1
    assert result.aggregates >= 3 and len(result.reports) == 1
    # the other camera is intact: its images, its counters, its report rows
    assert len([k for k in eu.curated() if k.startswith("images/")]) == PER_CAMERA
    assert any(k.startswith("labels/") and k.endswith(f"{KEPT}/{DAY}T10-00.xml") for k in eu.curated())
    counters = {k: v for k, v in eu.counters().items() if v}
    assert counters[("camera", KEPT)] == PER_CAMERA and counters[("images", "all")] == PER_CAMERA
    assert all(v > 0 for v in eu.counters().values())  # no zero counter left behind
    kept_texts = [text for _, text in after if KEPT in text]
    assert any("report.json" in where for where, text in after if KEPT in text)
    assert kept_texts
    print(
        f"scanned {versions} object versions and {items} items; removed {result.images} images, "
        f"{result.decisions} decisions, {result.object_versions} object versions, "
        f"{result.index_entries} index entries, {result.aggregates} counter items, "
        f"redacted reports {result.reports}; before: {sum(ERASED in t for _, t in before)} naming it"
    )
