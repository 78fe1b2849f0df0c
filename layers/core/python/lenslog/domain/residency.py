"""Which cell (data region) an image legally belongs to, and by which rule.

Order, first that decides wins: the camera's registered cell, its source's registered cell (a
source bound to a jurisdiction cannot be overridden by what an upload claims), explicit metadata
(``data_region`` in a sidecar or S3 metadata), the configured GPS rules, and finally the landing
cell, but only where the source's policy says an unresolved image may stay where it landed.
"""

from __future__ import annotations

from dataclasses import dataclass

from lenslog.config import Config, Policy
from lenslog.domain.models import ImageMetadata, Provenance

EXPLICIT = {str(Provenance.sidecar), str(Provenance.s3_metadata)}


@dataclass(frozen=True)
class Residency:
    cell: str | None
    rule: str  # camera_registry | source_registry | explicit_metadata | gps_rule | landing_cell | unresolved
    detail: str = ""


def resolve(metadata: ImageMetadata, config: Config, landing_cell: str, policy: Policy) -> Residency:
    camera = config.cameras.get(metadata.camera_id or "")
    if camera is not None and camera.cell:
        return Residency(
            camera.cell, "camera_registry", f"camera {metadata.camera_id} is registered to {camera.cell}"
        )
    source_cell = config.cell_of_source(metadata.source_id)
    if source_cell:
        return Residency(
            source_cell, "source_registry", f"source {metadata.source_id} is bound to {source_cell}"
        )
    claimed = metadata.data_region
    if claimed and metadata.provenance.get("data_region") in EXPLICIT:
        if claimed in config.cells:
            return Residency(claimed, "explicit_metadata", f"data_region={claimed} given in metadata")
        return Residency(None, "unresolved", f"data_region={claimed!r} is not a configured cell")
    if metadata.lat is not None and metadata.lon is not None:
        for rule in config.residency_rules:
            if rule.contains(metadata.lat, metadata.lon):
                return Residency(
                    rule.cell, "gps_rule", f"GPS {metadata.lat:.4f},{metadata.lon:.4f} is in {rule.cell}"
                )
    if policy.unresolved_region == "landing_cell":
        return Residency(
            landing_cell, "landing_cell", "no rule decided; the source's policy keeps it where it landed"
        )
    return Residency(None, "unresolved", "no registry, metadata or GPS rule names its data region")
