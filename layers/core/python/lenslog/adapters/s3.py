"""Object storage over an injected boto3 S3 client."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from botocore.exceptions import ClientError

from lenslog.ports import ListedObject, ObjectHead, ObjectPrefix

_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchVersion"}
COPY_OBJECT_MAX_BYTES = 5 * 1024**3  # S3 CopyObject copies up to 5 GiB in one request


def _missing(exc: ClientError) -> bool:
    err = exc.response.get("Error", {})
    return (
        str(err.get("Code")) in _MISSING
        or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404
    )


class S3ObjectStore:
    def __init__(self, client: Any, region: str):
        self.client = client
        self.region = region

    def head(self, bucket: str, key: str, version_id: str | None = None) -> ObjectHead | None:
        kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        try:
            resp = self.client.head_object(**kwargs)
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        if resp.get("DeleteMarker"):
            return None
        return ObjectHead(
            size=int(resp.get("ContentLength", 0)),
            etag=(resp.get("ETag") or "").strip('"') or None,
            version_id=resp.get("VersionId") if resp.get("VersionId") not in (None, "null") else None,
            content_type=resp.get("ContentType"),
            metadata=dict(resp.get("Metadata") or {}),
        )

    def get(self, bucket: str, key: str, version_id: str | None = None) -> bytes | None:
        kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        try:
            resp = self.client.get_object(**kwargs)
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        body: bytes = resp["Body"].read()
        return body

    def get_prefix(self, bucket: str, key: str, max_bytes: int) -> ObjectPrefix | None:
        """The latest version's first ``max_bytes`` bytes, its size and version in one ranged GET:
        never more than ``max_bytes`` read, whatever an uploader put there."""
        try:
            resp = self.client.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{max_bytes - 1}")
        except ClientError as exc:
            if _missing(exc):
                return None
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":  # empty: no byte 0
                head = self.head(bucket, key)
                return ObjectPrefix(b"", head.size, head.version_id, head.etag) if head else None
            raise
        whole = str(resp.get("ContentRange") or "")  # "bytes 0-65535/1234567"
        size = int(whole.rsplit("/", 1)[1]) if "/" in whole else int(resp["ContentLength"])
        return ObjectPrefix(
            data=resp["Body"].read(),
            size=size,
            version_id=resp.get("VersionId"),
            etag=(resp.get("ETag") or "").strip('"') or None,
        )

    def put(
        self,
        bucket: str,
        key: str,
        body: bytes,
        content_type: str = "application/octet-stream",
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        self.client.put_object(
            Bucket=bucket, Key=key, Body=body, ContentType=content_type, Metadata=dict(metadata or {})
        )

    def copy(
        self,
        src_bucket: str,
        src_key: str,
        dst_bucket: str,
        dst_key: str,
        src_version: str | None = None,
        size: int | None = None,
        metadata: Mapping[str, str] | None = None,
        content_type: str | None = None,
    ) -> None:
        """Server-side copy, also across regions (this client's region receives it), keeping
        content type and user metadata unless ``metadata`` replaces both: one CopyObject when the
        size is known and within CopyObject's 5 GiB limit; otherwise s3transfer's managed copy,
        which asks for the size and goes multipart above the limit (an oversized upload still
        reaches quarantine). The bytes never pass through this process."""
        source: dict[str, str] = {"Bucket": src_bucket, "Key": src_key}
        if src_version:
            source["VersionId"] = src_version
        extra: dict[str, Any] = {}
        if metadata is not None:
            extra = {
                "MetadataDirective": "REPLACE",
                "Metadata": dict(metadata),
                "ContentType": content_type or "application/octet-stream",
            }
        if size is not None and size <= COPY_OBJECT_MAX_BYTES:
            self.client.copy_object(CopySource=source, Bucket=dst_bucket, Key=dst_key, **extra)
            return
        from s3transfer.manager import TransferManager

        with TransferManager(self.client) as transfers:
            transfers.copy(source, dst_bucket, dst_key, extra_args=extra).result()

    def delete(self, bucket: str, key: str, version_id: str | None = None) -> None:
        kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id
        self.client.delete_object(**kwargs)

    def delete_all_versions(self, bucket: str, key: str) -> int:
        """Permanently remove every version and delete marker of exactly this key."""
        removed = 0
        paginator = self.client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=bucket, Prefix=key):
            for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
                if entry["Key"] == key:
                    self.client.delete_object(Bucket=bucket, Key=key, VersionId=entry["VersionId"])
                    removed += 1
        return removed

    def tag(self, bucket: str, key: str, tags: Mapping[str, str]) -> None:
        self.client.put_object_tagging(
            Bucket=bucket, Key=key, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
        )

    def list_objects(self, bucket: str, versions: bool = False) -> Iterator[ListedObject]:
        """Every current object of a bucket, or with ``versions`` every stored version (delete
        markers excluded): what an operator's reconciliation walks."""
        if versions:
            for page in self.client.get_paginator("list_object_versions").paginate(Bucket=bucket):
                for v in page.get("Versions", []):
                    yield ListedObject(
                        bucket=bucket,
                        key=v["Key"],
                        size=int(v.get("Size", 0)),
                        last_modified=v["LastModified"],
                        etag=(v.get("ETag") or "").strip('"') or None,
                        version_id=v.get("VersionId") if v.get("VersionId") not in (None, "null") else None,
                        is_latest=bool(v.get("IsLatest", True)),
                    )
            return
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for o in page.get("Contents", []):
                yield ListedObject(
                    bucket=bucket,
                    key=o["Key"],
                    size=int(o.get("Size", 0)),
                    last_modified=o["LastModified"],
                    etag=(o.get("ETag") or "").strip('"') or None,
                )
