"""The leakage check in the report: the stored states of each cell's incremental check
(``lenslog.services.leakage``) summed into ``report.leakage``, one checklist item and one section
of the HTML page. Only counts, kinds and split names cross cells, like the other aggregates; the
images of an example are named in their own cell (``lenslog leakage --cell C``)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lenslog.audit.models import CheckItem, CheckStatus, Leakage, LeakageExample

MAX_EXAMPLES = 20
FIGURES = ("links_examined", "near_pairs", "crossing_pairs", "cluster_split_mismatches")


def summarise(states: Mapping[str, Mapping[str, Any] | None]) -> Leakage:
    """The cells' stored check states (None: never checked) as the report's figures."""
    checked = sorted(c for c, st in states.items() if st)
    totals = dict.fromkeys(FIGURES, 0)
    last = dict.fromkeys(FIGURES, 0)
    examples: list[LeakageExample] = []
    runs = 0
    when: list[datetime] = []
    for cell in checked:
        st = states[cell] or {}
        runs += int(st.get("runs", 0))
        when.append(datetime.fromisoformat(st["checked_at"]))
        for k in FIGURES:
            totals[k] += int((st.get("totals") or {}).get(k, 0))
            last[k] += int((st.get("last_run") or {}).get(k, 0))
        for ex in st.get("examples") or []:
            examples.append(LeakageExample(cell=cell, kind=ex["kind"], splits=list(ex["splits"])))
    return Leakage(
        checked_at=min(when) if when else None,
        checked_cells=checked,
        unchecked_cells=sorted(c for c, st in states.items() if not st),
        runs=runs,
        **totals,
        last_run=last,
        examples=examples[:MAX_EXAMPLES],
        passed=totals["crossing_pairs"] == 0 and totals["cluster_split_mismatches"] == 0,
    )


def check_item(leakage: Leakage | None) -> CheckItem:
    """The checklist's leakage line: fails on any crossing pair or mismatch; n/a before any run."""
    title = "No near-duplicate pair crosses train/val/test"
    if leakage is None or not leakage.checked_cells:
        return CheckItem(
            id="leakage",
            title=title,
            status=CheckStatus.not_applicable,
            value_text="not checked yet",
            threshold_text="0 crossing pairs, 0 mismatches",
            detail="the incremental leakage check has not run in any cell",
        )
    bad = leakage.crossing_pairs + leakage.cluster_split_mismatches
    detail = (
        f"{leakage.links_examined} links and {leakage.near_pairs} near pairs examined in "
        f"{leakage.runs} runs ({', '.join(leakage.checked_cells)})"
    )
    if leakage.unchecked_cells:
        detail += f"; never checked: {', '.join(leakage.unchecked_cells)}"
    if bad:
        detail += (
            "; move the images of each example into one split (a cluster takes its root's split) "
            "before the next training run"
        )
    return CheckItem(
        id="leakage",
        title=title,
        status=CheckStatus.failed if bad else CheckStatus.passed,
        value=float(leakage.crossing_pairs),
        value_text=(
            f"{leakage.crossing_pairs} crossing pairs, "
            f"{leakage.cluster_split_mismatches} cluster-split mismatches"
        ),
        threshold=0.0,
        threshold_text="0 crossing pairs, 0 mismatches",
        detail=detail,
    )


def section_html(leakage: Leakage | None) -> str:
    """The report page's leakage section (figures, then examples when any)."""
    e = html.escape
    if leakage is None:
        return ""
    rows = [
        ("near-duplicate links examined", leakage.links_examined, leakage.last_run.get("links_examined", 0)),
        ("near pairs examined", leakage.near_pairs, leakage.last_run.get("near_pairs", 0)),
        (
            "pairs crossing splits (must be 0)",
            leakage.crossing_pairs,
            leakage.last_run.get("crossing_pairs", 0),
        ),
        (
            "cluster-split mismatches (must be 0)",
            leakage.cluster_split_mismatches,
            leakage.last_run.get("cluster_split_mismatches", 0),
        ),
    ]
    out = (
        '<h2 id="leakage">Leakage check</h2>'
        f"<p>Cells checked: {e(', '.join(leakage.checked_cells) or 'none')}; {leakage.runs} runs, "
        f"last {e(leakage.checked_at.isoformat() if leakage.checked_at else 'never')}.</p>"
        "<table><thead><tr><th>figure</th><th>since the first check</th><th>last run</th></tr></thead><tbody>"
        + "".join(
            f'<tr><td>{e(n)}</td><td class="num">{t}</td><td class="num">{r}</td></tr>' for n, t, r in rows
        )
        + "</tbody></table>"
    )
    if leakage.examples:
        out += (
            "<p>Examples (the images are named in their cell: <code>lenslog leakage --cell CELL</code>):</p>"
            "<table><thead><tr><th>cell</th><th>kind</th><th>splits</th></tr></thead><tbody>"
            + "".join(
                f"<tr><td>{e(x.cell)}</td><td>{e(x.kind)}</td>"
                f"<td>{e(' / '.join(str(s) for s in x.splits))}</td></tr>"
                for x in leakage.examples
            )
            + "</tbody></table>"
        )
    return out
