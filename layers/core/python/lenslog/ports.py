"""The interfaces the services need from object storage, and the ledger's outcomes. The AWS adapters
implement them over injected boto3 clients; tests run the same adapters against moto."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ObjectHead:
    size: int
    etag: str | None
    version_id: str | None
    content_type: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ObjectPrefix:
    """The first bytes of an object (no more than were asked for), its whole size and version."""

    data: bytes
    size: int
    version_id: str | None
    etag: str | None = None


@dataclass(frozen=True)
class ListedObject:
    """One object (or object version) as a bucket listing shows it."""

    bucket: str
    key: str
    size: int
    last_modified: datetime
    etag: str | None = None
    version_id: str | None = None
    is_latest: bool = True


class ObjectStore(Protocol):
    region: str

    def head(self, bucket: str, key: str, version_id: str | None = None) -> ObjectHead | None: ...

    def get(self, bucket: str, key: str, version_id: str | None = None) -> bytes | None: ...

    def get_prefix(self, bucket: str, key: str, max_bytes: int) -> ObjectPrefix | None: ...

    def put(
        self,
        bucket: str,
        key: str,
        body: bytes,
        content_type: str = "application/octet-stream",
        metadata: Mapping[str, str] | None = None,
    ) -> None: ...

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
    ) -> None: ...

    def delete(self, bucket: str, key: str, version_id: str | None = None) -> None: ...

    def delete_all_versions(self, bucket: str, key: str) -> int: ...

    def list_objects(self, bucket: str, versions: bool = False) -> Iterator[ListedObject]: ...

    def tag(self, bucket: str, key: str, tags: Mapping[str, str]) -> None: ...


class AlreadyDecided(Exception):
    """This object version already has a decision (a replayed or concurrent event)."""


class ImageExists(Exception):
    """The image id is already claimed: the bytes are an exact duplicate."""


class IndexChanged(Exception):
    """A near-duplicate band item changed between the lookup and the commit: look up again."""
