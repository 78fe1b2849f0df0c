"""Deterministic train/val/test assignment by group, so that frames a second apart never straddle
a split: the group (by default camera + local capture day; a sidecar ``scene`` overrides) is hashed
to a point in [0, 1) and the configured fractions cut that interval."""

from __future__ import annotations

import hashlib

from lenslog.config import SplitConfig
from lenslog.domain.models import ImageMetadata


def group_of(metadata: ImageMetadata, config: SplitConfig) -> str:
    if metadata.scene:
        return f"scene:{metadata.scene}"
    local = metadata.captured_local or (metadata.captured_at.isoformat() if metadata.captured_at else "")
    day = local[:10] or "undated"
    if config.group_by == "day":
        return f"day:{day}"
    return f"camera-day:{metadata.camera_id or 'unknown'}:{day}"


def split_of_group(group: str, config: SplitConfig) -> str:
    point = int.from_bytes(hashlib.sha256(group.encode()).digest()[:8], "big") / 2**64
    if point < config.train:
        return "train"
    if point < config.train + config.val:
        return "val"
    return "test"


def assign_split(metadata: ImageMetadata, config: SplitConfig) -> str:
    return split_of_group(group_of(metadata, config), config)
