"""Retention: how long curated and quarantined images (and their records) are kept.

Days are chosen per image: the source's policy override, else the cell's ``retention_days``, else
the defaults (quarantine: ``quarantine_retention_days``, 30 by default). Each stored object is
tagged ``lenslog-retention=<N>d`` and each bucket has one lifecycle rule per distinct N, filtered
on that tag; its record gets the same N as a DynamoDB TTL. Tag filters, not one bucket-wide rule,
because S3 applies the earliest of overlapping expirations: a source that must keep images longer
than the cell default could not be expressed otherwise. Untagged objects never expire.
"""

from __future__ import annotations

from typing import Literal

from lenslog.config import Config

RETENTION_TAG = "lenslog-retention"
Role = Literal["curated", "quarantine"]


def days_for(config: Config, cell: str, source_id: str | None, role: Role) -> int | None:
    source = config.sources.get(source_id or "")
    if role == "quarantine":
        if source and source.policy.quarantine_retention_days:
            return source.policy.quarantine_retention_days
        return config.defaults.quarantine_retention_days
    if source and source.policy.retention_days:
        return source.policy.retention_days
    return config.cells[cell].retention_days or config.defaults.retention_days


def tag_value(days: int) -> str:
    return f"{days}d"


def lifecycle_days(config: Config, cell: str, role: Role) -> list[int]:
    """Every retention, in days, that an object of this cell's bucket may be tagged with."""
    sources = [None, *config.sources]
    values = {days_for(config, cell, s, role) for s in sources}
    return sorted(v for v in values if v)


def lifecycle_configuration(config: Config, cell: str, role: Role) -> list[dict]:
    """The S3 API's lifecycle rules (``put_bucket_lifecycle_configuration``) for a bucket."""
    return [
        {
            "ID": f"retention-{tag_value(days)}",
            "Status": "Enabled",
            "Filter": {"Tag": {"Key": RETENTION_TAG, "Value": tag_value(days)}},
            "Expiration": {"Days": days},
        }
        for days in lifecycle_days(config, cell, role)
    ]


def shortest_days(config: Config) -> int:
    """The shortest retention anything of the config may have (any cell, source and role): the
    longest that a log naming an object may be kept, so that no log outlives the object it names
    (server and API access logs, function logs; docs/privacy.md)."""
    return min(
        days
        for cell in config.cells
        for source in [None, *config.sources]
        for role in ("curated", "quarantine")
        if (days := days_for(config, cell, source, role))  # type: ignore[arg-type]
    )
