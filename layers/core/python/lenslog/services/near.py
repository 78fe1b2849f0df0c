"""Near duplicates in the ingest service: look the image up in the cell's index, apply the match
rule and the source's policy to the decision, and plan the index entry that the commit writes.

The decision is changed in place: a match makes it ``near_duplicate`` (policy ``link``: accepted
into curated, linked to its cluster) or ``quarantined`` with ``near_duplicate_held`` (policy
``hold``); either way it carries ``duplicate_of``, ``distance``, ``cluster_id`` (the cluster's
root), ``split`` (the root's, so no pair straddles splits) and ``burst``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lenslog.adapters.nearindex import Lookup, NearIndex
from lenslog.config import Config
from lenslog.domain import gate, neardup
from lenslog.domain.models import Decision, Reason, Status

NOT_MATCHED_LOW_INFORMATION = "not_matched:low_information"
INDEXED = "indexed"
# A band item the lookup read is full (``MAX_ENTRIES``): the image is matched and indexed through
# the other bands only, and recall may be lower. Never silent: the decision says so, the ingest
# function counts it (metric ``near_index_degraded``) and the cell's alarm fires on it.
DEGRADED_BAND_FULL = "degraded:band_full"


@dataclass(frozen=True)
class NearPlan:
    """The index entries to commit with the image, and the lookup it was decided on."""

    entries: dict[tuple[int, int], list[neardup.Entry]]  # by index key: its own, its crop views
    seen: Lookup

    def actions(self, index: NearIndex) -> list[dict[str, Any]]:
        return index.insert_many_actions(self.entries, self.seen)


def apply_near_duplicates(
    decision: Decision, inspection: gate.Inspection, config: Config, index: NearIndex
) -> NearPlan | None:
    """Match an accepted image against the index; returns the entry to index with the commit, or
    None when nothing is indexed (refused, held, low-information or undecodable images)."""
    if decision.status is not Status.accepted or not decision.image_id or inspection.prints is None:
        return None
    if decision.hashes is None:
        return None
    cfg = config.near_duplicates
    flags = tuple(decision.quality.flags) if decision.quality else ()
    md = decision.metadata
    prints = inspection.prints
    views = prints.views if cfg.crop_views else ()
    view_checks = prints.view_checks if cfg.crop_views else ()
    query = neardup.Query(
        variants=prints.variants,
        views=views,
        checks=prints.checks,
        view_checks=view_checks,
        layouts=prints.layouts,
        camera_id=md.camera_id,
        captured_at=neardup.epoch_of(md.captured_at),
        flags=flags,
        image_id=decision.image_id,
    )
    if not query.matchable:
        decision.hashes.near_index = NOT_MATCHED_LOW_INFORMATION
        return None
    radius = neardup.radius_for(cfg.max_distance, cfg.bands)
    seen = index.lookup(
        neardup.query_keys(query.variants, query.views, cfg.bands, radius),
        near=query.variants + query.views,
        max_distance=cfg.max_distance,
    )
    thresholds = neardup.Thresholds(
        cfg.max_distance, cfg.check_distance, cfg.crop_check_distance, cfg.layout_distance
    )
    confirm = neardup.to_confirm(query, seen.entries, cfg.burst_seconds, thresholds)
    match = neardup.best_match(
        query,
        seen.entries,
        cfg.max_distance,
        cfg.burst_seconds,
        cfg.check_distance,
        cfg.crop_check_distance,
        cfg.layout_distance,
        index.layouts(confirm) if confirm else {},
    )
    if match is not None:
        decision.duplicate_of = match.image_id
        decision.distance = match.distance
        decision.cluster_id = match.entry.cluster
        decision.split = match.entry.split or decision.split
        decision.burst = match.burst
        if inspection.policy.near_duplicate == "hold":
            decision.status = Status.quarantined
            decision.reasons = [str(Reason.near_duplicate_held)]
            decision.reason_details = [
                f"{Reason.near_duplicate_held}: distance {match.distance} ({match.variant})"
                f" to {match.image_id}"
            ]
            return None
        decision.status = Status.near_duplicate
    decision.hashes.near_index = DEGRADED_BAND_FULL if seen.full_keys() else INDEXED
    entry = neardup.Entry(
        image_id=decision.image_id,
        phash=query.variants[0],
        cluster_id=decision.cluster_id,
        split=decision.split,
        camera_id=md.camera_id,
        captured_at=query.captured_at,
        dark=query.dark,
        check=prints.checks[0] if prints.checks else None,
    )
    return NearPlan(entries=neardup.index_entries(entry, views, view_checks, cfg.bands), seen=seen)
