"""Where audit reports live: their files in the reports bucket, their index in the home cell's table.

Layout (the report function writes it, the audit API reads it):

- S3 ``s3://<reports bucket>/reports/<report_id>/<name>`` for every file of a report
  (``report.json``, ``report.html``, ``report.csv``, ``report.eml``...);
- table item ``REPORT#<report_id>`` / ``REPORT``: the report's record (period, files, summary);
- table item ``REPORTS`` / ``<period_end>#<report_id>``: the same record in the index partition,
  so that listing the reports newest first is one query, without a secondary index.

The files are written first and the two items last, in one transaction: a report is listed only
once all its files exist.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, Field

from lenslog.adapters import schema as s

REPORT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
FILE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
CONTENT_TYPES = {
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "eml": "message/rfc822",
    "txt": "text/plain; charset=utf-8",
    "png": "image/png",
}


class ReportFile(BaseModel):
    name: str
    key: str
    bytes: int
    content_type: str


class ReportRecord(BaseModel):
    report_id: str
    period_start: date | None = None
    period_end: date
    created_at: datetime
    bucket: str
    files: list[ReportFile] = Field(default_factory=list)
    summary: dict[str, Any] = Field(default_factory=dict)


def report_prefix(report_id: str) -> str:
    return f"reports/{report_id}/"


def content_type_of(name: str) -> str:
    return CONTENT_TYPES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


def _str(v: str) -> dict[str, str]:
    return {"S": v}


class ReportStore:
    """Reports over an injected S3 client (the reports bucket) and DynamoDB client (the index)."""

    def __init__(self, s3: Any, bucket: str, dynamodb: Any, table: str):
        self.s3 = s3
        self.bucket = bucket
        self.dynamodb = dynamodb
        self.table = table

    def put_report(
        self,
        report_id: str,
        period_end: date | str,
        files: Mapping[str, bytes],
        *,
        period_start: date | str | None = None,
        summary: Mapping[str, Any] | None = None,
        created_at: datetime | None = None,
        files_already: list[ReportFile] | None = None,
    ) -> ReportRecord:
        """Upload the files, then index the report (idempotent: the same id overwrites itself)."""
        if not re.match(REPORT_ID_PATTERN, report_id):
            raise ValueError(f"invalid report id {report_id!r}")
        bad = [n for n in files if not re.match(FILE_NAME_PATTERN, n)]
        if bad:
            raise ValueError(f"invalid report file names: {bad}")
        record = ReportRecord(
            report_id=report_id,
            period_start=date.fromisoformat(str(period_start)) if period_start else None,
            period_end=date.fromisoformat(str(period_end)),
            created_at=created_at or datetime.now(UTC),
            bucket=self.bucket,
            summary=dict(summary or {}),
            files=list(files_already or []),
        )
        for name, body in sorted(files.items()):
            key = report_prefix(report_id) + name
            ctype = content_type_of(name)
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=ctype)
            record.files.append(ReportFile(name=name, key=key, bytes=len(body), content_type=ctype))
        doc = _str(record.model_dump_json())
        sort_key = f"{record.period_end.isoformat()}#{report_id}"
        self.dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": {
                            s.PK: _str(s.report_pk(report_id)),
                            s.SK: _str("REPORT"),
                            "kind": _str("report"),
                            "doc": doc,
                        },
                    }
                },
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": {
                            s.PK: _str(s.REPORTS_PK),
                            s.SK: _str(sort_key),
                            "kind": _str("report_index"),
                            "report_id": _str(report_id),
                            "doc": doc,
                        },
                    }
                },
            ]
        )
        return record

    def get_report(self, report_id: str) -> ReportRecord | None:
        if not re.match(REPORT_ID_PATTERN, report_id):
            return None
        item = self.dynamodb.get_item(
            TableName=self.table, Key={s.PK: _str(s.report_pk(report_id)), s.SK: _str("REPORT")}
        ).get("Item")
        return ReportRecord.model_validate_json(item["doc"]["S"]) if item else None

    def list_reports(
        self, limit: int = 20, start_key: Mapping[str, Any] | None = None
    ) -> tuple[list[ReportRecord], dict[str, Any] | None]:
        """Newest period first; ``start_key`` / the second value are DynamoDB keys for paging."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": s.PK},
            "ExpressionAttributeValues": {":pk": _str(s.REPORTS_PK)},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if start_key:
            kwargs["ExclusiveStartKey"] = dict(start_key)
        resp = self.dynamodb.query(**kwargs)
        records = [ReportRecord.model_validate_json(i["doc"]["S"]) for i in resp.get("Items", [])]
        return records, resp.get("LastEvaluatedKey")

    def all_reports(self) -> list[ReportRecord]:
        """Every stored report (an erasure reads them all: weekly reports are few)."""
        out: list[ReportRecord] = []
        start: dict[str, Any] | None = None
        while True:
            page, start = self.list_reports(limit=100, start_key=start)
            out += page
            if not start:
                return out

    def replace_files(
        self, record: ReportRecord, files: Mapping[str, bytes], summary: Mapping[str, Any]
    ) -> int:
        """Overwrite a report's files in place (an erasure's redaction), then delete every older
        version of them, so that no version of the bucket still holds what was redacted; re-index
        the report with its new sizes and summary. Returns the versions deleted."""
        removed = 0
        for name, body in sorted(files.items()):
            key = report_prefix(record.report_id) + name
            put = self.s3.put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentType=content_type_of(name)
            )
            current = put.get("VersionId")
            for page in self.s3.get_paginator("list_object_versions").paginate(
                Bucket=self.bucket, Prefix=key
            ):
                for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
                    if v["Key"] == key and v["VersionId"] not in (current, None, "null"):
                        self.s3.delete_object(Bucket=self.bucket, Key=key, VersionId=v["VersionId"])
                        removed += 1
        self.put_report(
            record.report_id,
            record.period_end,
            {},
            period_start=record.period_start,
            summary=summary,
            created_at=record.created_at,
            files_already=[
                ReportFile(
                    name=f.name,
                    key=f.key,
                    bytes=len(files[f.name]) if f.name in files else f.bytes,
                    content_type=f.content_type,
                )
                for f in record.files
            ],
        )
        return removed

    def read_file(self, report_id: str, name: str) -> bytes | None:
        try:
            resp = self.s3.get_object(Bucket=self.bucket, Key=report_prefix(report_id) + name)
        except self.s3.exceptions.NoSuchKey:
            return None
        body: bytes = resp["Body"].read()
        return body

    def presigned_links(self, record: ReportRecord, expires_in: int = 900) -> dict[str, str]:
        return {
            f.name: self.s3.generate_presigned_url(
                "get_object", Params={"Bucket": record.bucket, "Key": f.key}, ExpiresIn=expires_in
            )
            for f in record.files
        }


def report_summary(report_json: bytes) -> dict[str, Any]:
    """A few headline numbers of a ``report.json``, if it has them (for the index)."""
    try:
        doc = json.loads(report_json)
    except (ValueError, UnicodeDecodeError):
        return {}
    totals = doc.get("totals") if isinstance(doc, dict) else None
    return {"totals": totals} if isinstance(totals, dict) else {}
