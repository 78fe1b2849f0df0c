"""Personal data needs a consent: which images need one, and whether the one they cite covers them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from lenslog.config import Config
from lenslog.domain.models import ImageMetadata, Reason, Refusal


@dataclass(frozen=True)
class ConsentRecord:
    consent_id: str
    source: str
    scope: tuple[str, ...]
    expires: date | None = None
    revoked: bool = False


def personal_data(metadata: ImageMetadata, config: Config) -> set[str]:
    """What the image may contain: its source's declaration plus what its metadata flags."""
    source = config.sources.get(metadata.source_id or "")
    declared = {str(p) for p in source.may_contain} if source else set()
    return declared | {str(p) for p in metadata.pii}


def check(
    metadata: ImageMetadata, needed: set[str], record: ConsentRecord | None, today: date
) -> Refusal | None:
    """None when no consent is needed or the cited one covers the image, else the refusal."""
    if not needed:
        return None
    kinds = ", ".join(sorted(needed))
    if not metadata.consent_id:
        return Refusal(reason=Reason.consent_missing, detail=f"may contain {kinds}; no consent id given")
    if record is None:
        return Refusal(
            reason=Reason.consent_missing,
            detail=f"consent {metadata.consent_id} is not registered in this cell",
        )
    if record.revoked:
        return Refusal(reason=Reason.consent_expired, detail=f"consent {record.consent_id} was revoked")
    if record.expires is not None and record.expires < today:
        return Refusal(
            reason=Reason.consent_expired, detail=f"consent {record.consent_id} expired on {record.expires}"
        )
    if metadata.source_id and record.source != metadata.source_id:
        return Refusal(
            reason=Reason.consent_expired,
            detail=f"consent {record.consent_id} belongs to source {record.source}, not {metadata.source_id}",
        )
    uncovered = needed - set(record.scope)
    if uncovered:
        return Refusal(
            reason=Reason.consent_expired,
            detail=f"consent {record.consent_id} does not cover {', '.join(sorted(uncovered))}",
        )
    return None
