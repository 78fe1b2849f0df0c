"""The gate as a pure function: bytes and their context in, an inspection and a verdict out.

``inspect`` runs every step that needs only the object itself (size, format, decode, quality,
metadata, fingerprints, required fields, quality policy) and collects what it could extract even
when it refuses, so that every decision carries whatever metadata, quality and hashes exist.
What needs the corpus (exact and near duplicates, residency) is decided by the ingest service.

A refused image keeps the metadata its header tells (make, model, serial, capture time, GPS, and
the camera id from S3 metadata, sidecar or key): its EXIF block is read from at most
``HEADER_BYTES`` of the file (:func:`lenslog.domain.exif.read_exif_bytes`), never by decoding
pixels the gate refused. An oversized object is not downloaded: the caller passes its first
``HEADER_BYTES`` (one ranged GET) to :func:`refused_metadata`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lenslog.config import Config, Policy
from lenslog.domain import decode as dec
from lenslog.domain import hashing, layout, neardup, quality
from lenslog.domain.exif import ExifFields, read_exif, read_exif_bytes
from lenslog.domain.metadata import MetadataInputs, missing_required, normalise
from lenslog.domain.models import (
    Hashes,
    ImageInfo,
    ImageMetadata,
    Quality,
    Reason,
    Refusal,
    Status,
)

if TYPE_CHECKING:
    import numpy as np

# A JPEG's EXIF lives in one APP1 segment of at most 64 KB, usually behind a JFIF or Adobe segment
# and before the image data; 256 KB also covers the XMP and ICC segments some cameras put first.
HEADER_BYTES = 256 * 1024

NO_EXIF = ExifFields(
    make=None,
    model=None,
    serial=None,
    datetime_original=None,
    offset=None,
    subsec=None,
    lat=None,
    lon=None,
    orientation=None,
    notes=(),
)


@dataclass(frozen=True)
class GateInput:
    key: str
    data: bytes
    s3_metadata: Mapping[str, str] = field(default_factory=dict)
    sidecar: Mapping[str, Any] | None = None
    sidecar_error: str | None = None
    cell: str | None = None  # the cell the object landed in


@dataclass
class Inspection:
    info: ImageInfo
    metadata: ImageMetadata
    policy: Policy
    quality: Quality | None = None
    hashes: Hashes | None = None
    refusals: list[Refusal] = field(default_factory=list)
    # the pHash's 8x8 DCT block, from which the near-duplicate index derives the hashes of the
    # image's flips and rotations without another thumbnail and transform
    phash_block: np.ndarray | None = None
    prints: neardup.Prints | None = None  # the near-duplicate hashes of the working copy

    @property
    def phash(self) -> int | None:
        return hashing.from_hex(self.hashes.phash) if self.hashes and self.hashes.phash else None

    @property
    def low_information(self) -> bool:
        return self.quality is not None and "low_information" in self.quality.flags


def metadata_of(
    inp: GateInput, config: Config, exif: ExifFields = NO_EXIF, now: datetime | None = None
) -> ImageMetadata:
    """The image's normalised metadata from its input and (when decoded) its EXIF."""
    inputs = MetadataInputs(
        key=inp.key,
        sidecar=inp.sidecar,
        s3_metadata=inp.s3_metadata,
        exif=exif,
        sidecar_error=inp.sidecar_error,
        cell=inp.cell,
    )
    return normalise(inputs, config, now=now)


def header_metadata(
    inp: GateInput, config: Config, head: bytes, now: datetime | None = None
) -> ImageMetadata:
    """The metadata of an image the gate refused, from the EXIF block of ``head`` (no decode):
    the whole file when it is within the byte limit (a TIFF's IFD may follow its strips), else
    its first ``HEADER_BYTES``."""
    return metadata_of(inp, config, read_exif_bytes(head), now)


def refused_metadata(
    inspection: Inspection, inp: GateInput, config: Config, head: bytes, now: datetime | None = None
) -> Inspection:
    """``inspection`` (refused unread) with what the file's header tells; ``head``: its first bytes."""
    inspection.metadata = header_metadata(inp, config, head, now)
    return inspection


def context_metadata(inp: GateInput, config: Config, now: datetime | None = None) -> ImageMetadata:
    """Metadata from everything but the pixels (sidecar, S3 metadata, registry, key path): enough
    to choose the source's policy before the object is downloaded or decoded."""
    return metadata_of(inp, config, now=now)


def refuse_unread(meta: ImageMetadata, size: int, config: Config) -> Inspection | None:
    """The byte-limit check on the size alone (from the S3 event or HEAD), before any download;
    ``meta`` is the image's ``context_metadata``."""
    policy = config.policy_for(meta.source_id)
    refusal = dec.check_size(size, policy.max_bytes)
    if refusal is None or refusal.reason is not Reason.too_large:
        return None
    return Inspection(info=ImageInfo(bytes=size), metadata=meta, policy=policy, refusals=[refusal])


def inspect(
    inp: GateInput, config: Config, now: datetime | None = None, context: ImageMetadata | None = None
) -> Inspection:
    """``context``: the image's ``context_metadata`` when the caller already has it."""
    data = inp.data
    context = context or context_metadata(inp, config, now)
    policy = config.policy_for(context.source_id)
    info = ImageInfo(bytes=len(data))
    result = Inspection(info=info, metadata=context, policy=policy)
    if inp.sidecar_error:
        # The uploader meant to describe the image: accepting it without that would lose metadata.
        result.refusals.append(Refusal(reason=Reason.metadata_invalid, detail=inp.sidecar_error))

    size_refusal = dec.check_size(len(data), policy.max_bytes)
    if size_refusal is not None:
        result.refusals.append(size_refusal)
        if size_refusal.reason is Reason.too_large:
            result.metadata = header_metadata(inp, config, data[:HEADER_BYTES], now)
            return result
    result.hashes = Hashes(sha256=hashing.sha256_hex(data), library_versions=hashing.library_versions())
    if size_refusal is not None:
        return result

    try:
        decoded = dec.decode(
            data,
            formats=policy.formats,
            max_pixels=policy.max_pixels,
            min_width=policy.min_width,
            min_height=policy.min_height,
        )
    except dec.DecodeRefused as refused:
        info.format = refused.format
        if refused.size:
            info.width, info.height = refused.size
        result.refusals.append(refused.refusal)
        result.metadata = header_metadata(inp, config, data, now)
        result.policy = config.policy_for(result.metadata.source_id)
        _check_required(result, result.metadata)
        return result

    info.format, info.width, info.height, info.mode = (
        decoded.format,
        decoded.width,
        decoded.height,
        decoded.mode,
    )
    grey = decoded.working.convert("L")  # one luma plane for the quality figures and the pHash
    result.quality = quality.measure(decoded.working, decoded.width, decoded.height, config.quality, grey)

    metadata = metadata_of(inp, config, read_exif(decoded.original), now)
    result.metadata = metadata
    result.policy = policy = config.policy_for(metadata.source_id)

    result.phash_block = hashing.dct_lowfreq(grey)
    result.hashes.phash = hashing.hex_of(hashing.bits_of(result.phash_block))
    result.hashes.phash_algorithm = hashing.PHASH_ALGORITHM
    result.prints = prints = neardup.prints_of(grey, config.near_duplicates.crop_views, decoded.working)
    result.hashes.phash_check = hashing.hex_of(prints.checks[0], neardup.CHECK_BITS)
    result.hashes.crop_phashes = [hashing.hex_of(h) for h in prints.views]
    result.hashes.crop_checks = [hashing.hex_of(h, neardup.CHECK_BITS) for h in prints.view_checks]
    result.hashes.layouts = [layout.encode(x) for x in prints.layouts]

    _check_required(result, metadata)
    rejected_flags = sorted(set(result.quality.flags) & {str(f) for f in policy.reject_quality_flags})
    if rejected_flags:
        result.refusals.append(Refusal(reason=Reason.quality_rejected, detail=", ".join(rejected_flags)))
    return result


def _check_required(result: Inspection, metadata: ImageMetadata) -> None:
    missing = missing_required(metadata, result.policy.required_fields)
    if missing:
        result.refusals.append(
            Refusal(reason=Reason.metadata_incomplete, detail="missing " + ", ".join(missing))
        )


def verdict(refusals: Sequence[Refusal]) -> Status:
    """Rejected if any reason is a property of the bytes, else quarantined if any, else accepted."""
    if any(r.reason.status is Status.rejected for r in refusals):
        return Status.rejected
    if refusals:
        return Status.quarantined
    return Status.accepted
