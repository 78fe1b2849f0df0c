"""The single-table layout of a cell's DynamoDB table, shared by the adapters, the local stack and
the CDK app so that all three agree.

Items (PK / SK):

- ``IMG#<image_id>`` / ``IMAGE``: the image record, created by one conditional write (the exact
  duplicate guard). GSI1 = images by camera and capture time; GSI4 = images by status.
- ``OBJ#<bucket>/<key>`` / ``V#<version or etag>[#R<n>]``: the decision on one uploaded object
  version (the audit log). GSI2 = decisions by decision day; GSI3 = decisions by image id.
- ``PENDING#<bucket>/<key>`` / ``PENDING``: an object quarantined for incomplete metadata, waiting
  for its sidecar.
- ``AGG#<cell>#<day>`` / ``<dimension>#<value>[\x1f<shard>]``: aggregate counters (see
  ``lenslog.domain.aggregates``), ``counters.shards`` items per value (shard 0 has no suffix); one
  image's counters all go to the shard of its image id, readers sum the shards.
- ``LEAKAGE#state`` / ``LEAKAGE``: the incremental leakage check's cursor and totals
  (``lenslog.services.leakage``).
- ``NEAR#<band>#<value>`` / ``<image_id>``: the near-duplicate index (multi-index hashing).
- ``REPORT#<report_id>`` / ``REPORT``: one audit report (its period and the names of its files in the
  reports bucket under ``reports/<report_id>/``); ``REPORTS`` / ``<period_end>#<report_id>``: the
  same, as the index of all reports, listed newest first by one query (no GSI). Written by
  ``lenslog.adapters.reports.ReportStore`` in the home cell's table.
- GSI5 = images by near-duplicate cluster, sparse: only images whose ``cluster_id`` is not their own
  id (members, not roots) carry ``GSI5PK = CLUSTER#<cluster_id>``; a cluster is its root's record
  plus one query.
"""

from __future__ import annotations

from typing import Any

PK = "PK"
SK = "SK"
TTL_ATTRIBUTE = "expires_at"

GSI_BY_CAMERA = "GSI1"  # GSI1PK = CAM#<camera_id>, GSI1SK = <captured_at>#<image_id>
GSI_BY_DAY = "GSI2"  # GSI2PK = DAY#<yyyy-mm-dd>, GSI2SK = <decided_at>#<object>
GSI_BY_IMAGE = "GSI3"  # GSI3PK = IMG#<image_id>, GSI3SK = <decided_at>#<object>
GSI_BY_STATUS = "GSI4"  # GSI4PK = STATUS#<status>, GSI4SK = <captured_at or decided_at>#<image_id>
GSI_BY_CLUSTER = "GSI5"  # GSI5PK = CLUSTER#<cluster_id>, GSI5SK = <image_id> (members only)

GLOBAL_INDEXES = (GSI_BY_CAMERA, GSI_BY_DAY, GSI_BY_IMAGE, GSI_BY_STATUS, GSI_BY_CLUSTER)

REPORTS_PK = "REPORTS"
IMAGE_PREFIX = "IMG#"
IMAGE_SK = "IMAGE"
LAYOUTS = "layouts"  # on an image record: its colour layouts (frame, then crop views), packed base64


def image_pk(image_id: str) -> str:
    return f"{IMAGE_PREFIX}{image_id}"


def report_pk(report_id: str) -> str:
    return f"REPORT#{report_id}"


def create_table_kwargs(table_name: str) -> dict[str, Any]:
    """Arguments of ``dynamodb.create_table`` for a cell's table (on-demand billing)."""
    attrs = [PK, SK] + [f"{g}{k}" for g in GLOBAL_INDEXES for k in ("PK", "SK")]
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in attrs],
        "KeySchema": [
            {"AttributeName": PK, "KeyType": "HASH"},
            {"AttributeName": SK, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": g,
                "KeySchema": [
                    {"AttributeName": f"{g}PK", "KeyType": "HASH"},
                    {"AttributeName": f"{g}SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for g in GLOBAL_INDEXES
        ],
    }
