"""S3 object bodies for the embedded AWS: moto keeps each object's bytes in a
``tempfile.SpooledTemporaryFile`` (in memory up to 5 MB); ``SpillingBuffer`` makes the same file
calls with at most 64 KB in memory and the rest in one file per object in a spool folder, opened
only for the call that needs it (so 10,000 objects hold no 10,000 open descriptors). Installed by
``lenslog.local.emulator``."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import uuid
from typing import Any

SPILL_BYTES = 64 * 1024  # an object larger than this lives in the spool folder


class SpillingBuffer:
    """The file calls moto makes on an object's buffer, over bytes kept in memory up to
    ``SPILL_BYTES`` and in a file of ``folder`` beyond, opened only for the call that needs it."""

    def __init__(self, folder: str, max_size: int = 0) -> None:
        self._folder = folder
        self._limit = min(max_size or SPILL_BYTES, SPILL_BYTES)
        self._memory: io.BytesIO | None = io.BytesIO()
        self._path: str | None = None
        self._pos = 0
        self.closed = False

    def _file(self, mode: str) -> Any:
        assert self._path is not None
        return open(self._path, mode)  # closed by the caller's with

    def seek(self, pos: int, whence: int = 0) -> int:
        if whence == 0:
            self._pos = pos
        elif whence == 1:
            self._pos += pos
        else:
            self._pos = self._size() + pos
        return self._pos

    def tell(self) -> int:
        return self._pos

    def _size(self) -> int:
        if self._memory is not None:
            return len(self._memory.getbuffer())
        assert self._path is not None
        return os.path.getsize(self._path)

    def read(self, n: int = -1) -> bytes:
        if self.closed:
            raise ValueError("read of closed file")
        if self._memory is not None:
            self._memory.seek(self._pos)
            data = self._memory.read(n)
        else:
            with self._file("rb") as fh:
                fh.seek(self._pos)
                data = fh.read(n)
        self._pos += len(data)
        return data

    def write(self, data: bytes) -> int:
        if self.closed:
            raise ValueError("write to closed file")
        if self._memory is not None and self._pos + len(data) > self._limit:
            self._path = os.path.join(self._folder, uuid.uuid4().hex)
            with open(self._path, "wb") as fh:
                fh.write(self._memory.getvalue())
            self._memory = None
        if self._memory is not None:
            self._memory.seek(self._pos)
            self._memory.write(data)
        else:
            with self._file("r+b") as fh:
                fh.seek(self._pos)
                fh.write(data)
        self._pos += len(data)
        return len(data)

    def truncate(self, size: int | None = None) -> int:
        size = self._pos if size is None else size
        if self._memory is not None:
            self._memory.truncate(size)
        else:
            assert self._path is not None
            os.truncate(self._path, size)
        return size

    def close(self) -> None:
        self.closed = True
        self._memory = None
        if self._path is not None:
            with contextlib.suppress(OSError):
                os.remove(self._path)
            self._path = None


class SpillingTempfile:
    """Stands in for the ``tempfile`` module inside ``moto.s3.models``."""

    def __init__(self, folder: str) -> None:
        self._folder = folder

    def __getattr__(self, name: str) -> Any:
        return getattr(tempfile, name)

    def SpooledTemporaryFile(self, max_size: int = 0, *_: Any, **__: Any) -> SpillingBuffer:
        return SpillingBuffer(self._folder, max_size)
