"""Distribution distances used by the drift section: PSI and Jensen-Shannon.

Both take two histograms as ``{value: count}`` and compare their *proportions* over the union of
values. Negative counts (an erasure lowered a counter below what a window saw) are read as zero.

- **PSI** (population stability index) = sum over bins of ``(a - e) * ln(a / e)``, where ``e`` is the
  baseline proportion and ``a`` the current one. A bin that is empty on one side would make the
  logarithm infinite, so an empty proportion is replaced by ``EPSILON`` (1e-4, i.e. 0.01 %) and the
  others are left as they are (no renormalisation). A value seen on only one side therefore adds a
  large but finite term. Reading: < 0.1 stable, 0.1-0.25 watch, >= 0.25 alert.
- **Jensen-Shannon divergence**, base 2, so it lies in [0, 1]: ``JS = KL(P||M)/2 + KL(Q||M)/2`` with
  ``M = (P + Q)/2``. It is finite without any epsilon (``0 * log 0 = 0``).

Either returns ``None`` when one side has no observations: there is nothing to compare.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Literal

EPSILON = 1e-4
PSI_WATCH = 0.1
PSI_ALERT = 0.25

DriftLevel = Literal["ok", "watch", "alert", "no_data"]


def _proportions(counts: Mapping[str, float], keys: list[str]) -> list[float] | None:
    clean = [max(float(counts.get(k, 0)), 0.0) for k in keys]
    total = sum(clean)
    if total <= 0:
        return None
    return [c / total for c in clean]


def psi(
    baseline: Mapping[str, float], current: Mapping[str, float], epsilon: float = EPSILON
) -> float | None:
    """Population stability index of ``current`` against ``baseline``."""
    keys = sorted(set(baseline) | set(current))
    e = _proportions(baseline, keys)
    a = _proportions(current, keys)
    if e is None or a is None:
        return None
    total = 0.0
    for ei, ai in zip(e, a, strict=True):
        ei = max(ei, epsilon)
        ai = max(ai, epsilon)
        total += (ai - ei) * math.log(ai / ei)
    return total


def js_divergence(p_counts: Mapping[str, float], q_counts: Mapping[str, float]) -> float | None:
    """Jensen-Shannon divergence (base 2, in [0, 1]) between two histograms."""
    keys = sorted(set(p_counts) | set(q_counts))
    p = _proportions(p_counts, keys)
    q = _proportions(q_counts, keys)
    if p is None or q is None:
        return None
    total = 0.0
    for pi, qi in zip(p, q, strict=True):
        m = (pi + qi) / 2
        if pi > 0:
            total += 0.5 * pi * math.log2(pi / m)
        if qi > 0:
            total += 0.5 * qi * math.log2(qi / m)
    return min(max(total, 0.0), 1.0)


def drift_level(value: float | None) -> DriftLevel:
    """The reading of a PSI value."""
    if value is None:
        return "no_data"
    if value >= PSI_ALERT:
        return "alert"
    if value >= PSI_WATCH:
        return "watch"
    return "ok"


def safe_ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or ``None`` when the denominator is not positive."""
    return numerator / denominator if denominator > 0 else None
