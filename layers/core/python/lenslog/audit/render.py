"""Renderings of a report: ``report.json``, a self-contained ``report.html``, CSV tables and the email.

- ``report.json`` is the :class:`Report` itself; ``schema_version`` says how to read it.
- ``report.html`` needs nothing but itself: CSS inline, charts as ``data:`` URIs, no script, no
  external link or font.
- The email is ``multipart/mixed``: a ``multipart/alternative`` (plain text, then a
  ``multipart/related`` HTML body whose charts are PNG parts referenced by ``cid:``) and the CSV
  tables as attachments. Every mail client shows PNG parts; few show data URIs or SVG.
"""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from html import escape
from typing import cast

from lenslog.audit.charts import Chart, report_charts
from lenslog.audit.labels import label_csv, label_html
from lenslog.audit.leakage import section_html as leakage_section
from lenslog.audit.models import CheckStatus, Report, Verdict

# ----------------------------------------------------------------------------------------------- json


def render_json(report: Report) -> bytes:
    return report.model_dump_json(indent=2).encode("utf-8") + b"\n"


# ------------------------------------------------------------------------------------------------ csv


def _csv(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buf.getvalue()


def render_csv(report: Report) -> dict[str, str]:
    """The report's tables, one CSV per table, keyed by file name."""
    cov, drift = report.coverage, report.drift
    return {
        **label_csv(report.labels),
        "checklist.csv": _csv(
            ["id", "title", "status", "value", "value_text", "threshold", "threshold_text", "detail"],
            [
                [
                    c.id,
                    c.title,
                    c.status.value,
                    c.value,
                    c.value_text,
                    c.threshold,
                    c.threshold_text,
                    c.detail,
                ]
                for c in report.checklist
            ],
        ),
        "coverage.csv": _csv(
            ["dimension", "value", "count", "share"],
            [[t.dimension, r.value, r.count, r.share] for t in cov.tables for r in t.rows],
        ),
        "cameras.csv": _csv(
            [
                "camera",
                "images",
                "period_images",
                "capture_days",
                "first_day",
                "last_day",
                "hours_covered",
                "night_images",
                "refusal_rate",
            ],
            [
                [
                    c.camera,
                    c.images,
                    c.period_images,
                    c.capture_days,
                    c.first_day,
                    c.last_day,
                    c.hours_covered,
                    c.night_images,
                    c.refusal_rate,
                ]
                for c in cov.cameras
            ],
        ),
        "refused_by_camera.csv": _csv(
            ["camera", "decided", "rejected", "quarantined"],
            [[c.camera, c.decided, c.rejected, c.quarantined] for c in cov.refused_by_camera],
        ),
        "camera_day.csv": _csv(
            ["camera", *cov.camera_day.columns],
            [[r, *v] for r, v in zip(cov.camera_day.rows, cov.camera_day.values, strict=True)],
        ),
        "camera_hour.csv": _csv(
            ["camera", *cov.camera_hour.columns],
            [[r, *v] for r, v in zip(cov.camera_hour.rows, cov.camera_hour.values, strict=True)],
        ),
        "drift.csv": _csv(
            ["dimension", "family", "psi", "js", "level", "current_total", "baseline_total", "top_changes"],
            [
                [
                    d.dimension,
                    d.family,
                    d.psi,
                    d.js,
                    d.level,
                    d.current_total,
                    d.baseline_total,
                    "; ".join(d.top_changes),
                ]
                for d in drift.dimensions
            ],
        ),
        "drift_metrics.csv": _csv(
            ["metric", "title", "current", "baseline", "change", "level"],
            [[m.name, m.title, m.current, m.baseline, m.change, m.level] for m in drift.metrics],
        ),
        "recommendations.csv": _csv(
            ["severity", "ref", "text"], [[r.severity, r.ref, r.text] for r in report.recommendations]
        ),
    }


# ----------------------------------------------------------------------------------------------- html

_CSS = """
body{margin:0;background:#f6f7f9;color:#1f2937;
 font:14px/1.5 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
main{max-width:980px;margin:0 auto;padding:24px}
header{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:20px 24px;margin-bottom:20px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid #e5e7eb}
h3{font-size:14px;margin:16px 0 6px}
.sub{color:#6b7280;margin:0}
.badge{display:inline-block;padding:2px 10px;border-radius:999px;font-weight:600;font-size:12px;
 text-transform:uppercase;letter-spacing:.03em}
.pass{background:#dcfce7;color:#166534}.fail{background:#fee2e2;color:#991b1b}
.watch{background:#fef3c7;color:#92400e}.na{background:#e5e7eb;color:#374151}
.alert{background:#fee2e2;color:#991b1b}.ok{background:#dcfce7;color:#166534}
.action{background:#fee2e2;color:#991b1b}.info{background:#e0e7ff;color:#3730a3}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0 0}
.card{flex:1 1 110px;background:#f9fafb;border:1px solid #e5e7eb;border-radius:6px;padding:10px 14px}
.card b{display:block;font-size:20px}.card span{color:#6b7280;font-size:12px}
table{border-collapse:collapse;width:100%;background:#fff;margin:6px 0 12px;font-size:13px}
th,td{border-bottom:1px solid #e5e7eb;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#f3f4f6;font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.grid{display:flex;flex-wrap:wrap;gap:16px}.grid>div{flex:1 1 280px}
figure{margin:12px 0;background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:8px}
figure img{max-width:100%;height:auto;display:block}
ul.recs{padding-left:0;list-style:none}ul.recs li{background:#fff;border:1px solid #e5e7eb;
 border-radius:6px;padding:8px 12px;margin:6px 0}
footer{color:#6b7280;font-size:12px;margin-top:32px}
"""

_STATUS_CLASS = {
    "pass": "pass",
    "fail": "fail",
    "n/a": "na",
    "watch": "watch",
    "alert": "alert",
    "ok": "ok",
    "no_data": "na",
    "action": "action",
    "info": "info",
}


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def _badge(label: str) -> str:
    return f'<span class="badge {_STATUS_CLASS.get(label, "na")}">{_e(label.replace("_", " "))}</span>'


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def _f(x: float | None, fmt: str = "{:.3f}") -> str:
    return "n/a" if x is None else fmt.format(x)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    head = "".join(
        f'<th class="n">{_e(h)}</th>' if i in numeric else f"<th>{_e(h)}</th>" for i, h in enumerate(header)
    )
    body = "".join(
        "<tr>"
        + "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    if not rows:
        body = f'<tr><td colspan="{len(header)}">none</td></tr>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _header(report: Report) -> str:
    p, t = report.period, report.totals
    cards = [
        (f"{t.dataset_images:,}", "images in the dataset"),
        (f"{t.period_images:,}", "captured this week"),
        (f"{t.baseline_weekly_images:,.0f}", f"per week, previous {p.baseline_weeks} weeks"),
        (f"{t.decisions_total:,}", "decisions this week"),
        (f"{t.refusals:,}", "refused this week"),
        (_pct(t.duplicate_rate), "exact duplicate rate"),
    ]
    return (
        "<header>"
        f"<h1>lenslog audit: {_e(report.scope)} {_badge(report.verdict.value)}</h1>"
        f'<p class="sub">Week {_e(p.start)} to {_e(p.end)}; baseline {_e(p.baseline_start)} to '
        f"{_e(p.baseline_end)}. Cells: {_e(', '.join(report.cells) or 'none')}.</p>"
        f"<p><strong>{_e(report.headline)}</strong></p>"
        '<div class="cards">'
        + "".join(f'<div class="card"><b>{_e(v)}</b><span>{_e(k)}</span></div>' for v, k in cards)
        + "</div></header>"
    )


def _checklist(report: Report) -> str:
    rows = [
        [_badge(c.status.value), _e(c.title), _e(c.value_text), _e(c.threshold_text), _e(c.detail)]
        for c in report.checklist
    ]
    return "<h2>Checklist</h2>" + _table(["", "Check", "Value", "Threshold", "Detail"], rows)


def _recommendations(report: Report, limit: int | None = None) -> str:
    recs = report.recommendations[:limit] if limit else report.recommendations
    if not recs:
        return "<h2>Recommendations</h2><p>Nothing to do: every check passes and nothing drifted.</p>"
    items = "".join(f"<li>{_badge(r.severity)} {_e(r.text)}</li>" for r in recs)
    more = len(report.recommendations) - len(recs)
    tail = f'<p class="sub">{more} more in the full report.</p>' if more > 0 else ""
    return f'<h2>Recommendations</h2><ul class="recs">{items}</ul>{tail}'


def _figures(charts: Sequence[Chart], image_src: Callable[[Chart], str]) -> str:
    return "".join(
        f'<figure><img src="{image_src(c)}" alt="{_e(c.title)}" width="{c.width}"></figure>' for c in charts
    )


def _coverage(report: Report) -> str:
    cov = report.coverage
    out = [
        f'<h2>Coverage</h2><p class="sub">Tables: the whole dataset. Cameras\' hours and nights: '
        f"{_e(cov.window_start)} to {_e(cov.window_end)}.</p>"
    ]
    out.append("<h3>Cameras</h3>")
    out.append(
        _table(
            [
                "Camera",
                "Images",
                "This week",
                "Capture days",
                "First",
                "Last",
                "Hours covered",
                "Night images",
                "Refused this week",
            ],
            [
                [
                    _e(c.camera),
                    f"{c.images:,}",
                    f"{c.period_images:,}",
                    str(c.capture_days),
                    _e(c.first_day),
                    _e(c.last_day),
                    f"{c.hours_covered}/24",
                    f"{c.night_images:,}",
                    _pct(c.refusal_rate),
                ]
                for c in cov.cameras
            ],
            numeric=(1, 2, 3, 6, 7, 8),
        )
    )
    out.append("<h3>Refused this week, per camera</h3>")
    out.append(
        _table(
            ["Camera", "Decided", "Rejected", "Quarantined"],
            [
                [_e(c.camera), f"{c.decided:,}", f"{c.rejected:,}", f"{c.quarantined:,}"]
                for c in cov.refused_by_camera
            ],
            numeric=(1, 2, 3),
        )
    )
    blocks = []
    for t in cov.tables:
        if t.dimension in ("camera",):
            continue
        rows = [[_e(r.value), f"{r.count:,}", _pct(r.share)] for r in t.rows]
        blocks.append(
            f"<div><h3>{_e(t.title)}</h3>{_table(['Value', 'Images', 'Share'], rows, numeric=(1, 2))}</div>"
        )
    out.append('<div class="grid">' + "".join(blocks) + "</div>")
    out.append("<h3>Under-represented values</h3>")
    out.append(
        _table(
            ["Dimension", "Value", "Images", "Share", "Even spread"],
            [
                [_e(g.dimension), _e(g.value), f"{g.count:,}", _pct(g.share), _pct(g.expected_share)]
                for g in cov.under_represented
            ],
            numeric=(2, 3, 4),
        )
    )
    return "".join(out)


def _drift(report: Report) -> str:
    d = report.drift
    out = [
        f'<h2>Drift</h2><p class="sub">This week against the {report.period.baseline_weeks} weeks before'
        f"{'' if d.has_baseline else ' (no baseline yet: nothing to compare)'}.</p>"
    ]
    out.append(
        _table(
            [
                "Dimension",
                "Family",
                "PSI",
                "Jensen-Shannon",
                "Level",
                "This week",
                "Baseline",
                "Largest moves",
            ],
            [
                [
                    _e(x.dimension),
                    _e(x.family),
                    _f(x.psi),
                    _f(x.js),
                    _badge(x.level),
                    f"{x.current_total:,}",
                    f"{x.baseline_total:,}",
                    _e("; ".join(x.top_changes)),
                ]
                for x in d.dimensions
            ],
            numeric=(2, 3, 5, 6),
        )
    )
    cams = [
        ("New this week", d.new_cameras),
        ("Silent this week", d.silent_cameras),
        ("Registered, never seen", d.unseen_registered_cameras),
    ]
    out.append(
        "<h3>Cameras</h3>" + _table(["", "Cameras"], [[_e(k), _e(", ".join(v) or "none")] for k, v in cams])
    )

    def metric_value(name: str, v: float | None) -> str:
        return _f(v, "{:,.0f}") if name == "volume" else _pct(v)

    out.append(
        "<h3>Rates</h3>"
        + _table(
            ["Metric", "This week", "Baseline", "Change", "Level"],
            [
                [
                    _e(m.title),
                    metric_value(m.name, m.current),
                    metric_value(m.name, m.baseline),
                    _pct(m.change)
                    if m.name == "volume"
                    else _f(None if m.change is None else m.change * 100, "{:+.1f} pts"),
                    _badge(m.level),
                ]
                for m in d.metrics
            ],
            numeric=(1, 2, 3),
        )
    )
    out.append(
        "<h3>Refusal reasons</h3>"
        + _table(
            ["Reason", "This week", "Baseline per week"],
            [[_e(r.reason), f"{r.current:,}", f"{r.baseline_weekly:,.1f}"] for r in d.reasons],
            numeric=(1, 2),
        )
    )
    return "".join(out)


def _recent(report: Report) -> str:
    a = report.recent_audit
    n = a.sample_size
    out = [f"<h2>The last {a.requested} images</h2>"]
    if not n:
        return out[0] + "<p>No recent decision in the sample.</p>"
    out.append(
        _table(
            ["Field", "Present", "Share"],
            [
                ["camera", f"{a.with_camera} of {n}", _pct(a.with_camera / n)],
                ["capture time", f"{a.with_time} of {n}", _pct(a.with_time / n)],
                ["location", f"{a.with_location} of {n}", _pct(a.with_location / n)],
                ["all three", f"{a.with_all} of {n}", _pct(a.with_all / n)],
            ],
            numeric=(1, 2),
        )
    )
    if a.missing_examples:
        out.append('<p class="sub">For example: ' + _e("; ".join(a.missing_examples)) + "</p>")
    if a.brightness_by_camera:
        out.append(
            "<h3>Brightness per camera (recent sample)</h3>"
            + _table(
                ["Camera", "Images", "Mean grey level", "Dark", "Overexposed"],
                [
                    [_e(b.camera), str(b.images), f"{b.mean_brightness:.0f}", str(b.dark), str(b.overexposed)]
                    for b in a.brightness_by_camera
                ],
                numeric=(1, 2, 3, 4),
            )
        )
    return "".join(out)


def _cells(report: Report) -> str:
    if len(report.cell_summaries) < 2:
        return ""
    return "<h2>Cells</h2>" + _table(
        ["Cell", "Images", "This week", "Decisions", "Refused", "Cameras"],
        [
            [
                _e(c.cell),
                f"{c.dataset_images:,}",
                f"{c.period_images:,}",
                f"{c.decisions_total:,}",
                f"{c.refusals:,}",
                str(c.cameras),
            ]
            for c in report.cell_summaries
        ],
        numeric=(1, 2, 3, 4, 5),
    )


def _footer(report: Report) -> str:
    notes = "".join(f"<li>{_e(n)}</li>" for n in report.notes)
    return (
        f"<h2>How to read this report</h2><ul>{notes}</ul>"
        f"<footer>Report {_e(report.report_id)}, schema {_e(report.schema_version)}, generated "
        f"{_e(report.generated_at.isoformat(timespec='seconds'))} from {report.items_read:,} aggregate items."
        "</footer>"
    )


def _document(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )


def _data_uri(chart: Chart) -> str:
    return "data:image/png;base64," + base64.b64encode(chart.png).decode("ascii")


def render_html(report: Report, charts: Sequence[Chart] | None = None) -> str:
    """The full report as one self-contained HTML page."""
    charts = report_charts(report) if charts is None else charts
    body = (
        _header(report)
        + _checklist(report)
        + _recommendations(report)
        + "<h2>Charts</h2>"
        + _figures(charts, _data_uri)
        + _cells(report)
        + _coverage(report)
        + label_html(report.labels)
        + _drift(report)
        + _recent(report)
        + leakage_section(report.leakage)
        + _footer(report)
    )
    return _document(report.subject, body)


# ---------------------------------------------------------------------------------------------- email


def _plain(report: Report) -> str:
    lines = [report.subject, "", report.headline, "", "Checklist:"]
    for c in report.checklist:
        lines.append(f"  [{c.status.value:>4}] {c.title}: {c.value_text} (threshold {c.threshold_text})")
    if report.recommendations:
        lines += ["", "Recommendations:"]
        lines += [f"  - ({r.severity}) {r.text}" for r in report.recommendations[:15]]
    lines += ["", "The charts are in the HTML version of this message; the tables are attached as CSV."]
    return "\n".join(lines) + "\n"


def render_email(report: Report, *, sender: str, recipients: Sequence[str]) -> EmailMessage:
    """The weekly email: HTML with the checklist and inline PNG charts, the CSV tables attached."""
    charts = report_charts(report)
    domain = sender.rpartition("@")[2] or "lenslog.invalid"
    cids = {c.name: f"<chart-{c.name}@lenslog.report>" for c in charts}
    msg = EmailMessage()
    msg["Subject"] = report.subject
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = format_datetime(report.generated_at)
    msg["Message-ID"] = make_msgid(idstring=report.report_id, domain=domain)
    msg["X-Lenslog-Verdict"] = report.verdict.value
    msg.set_content(_plain(report))
    verdict_note = {
        Verdict.failed: "Some checks of the checklist fail; the recommendations say what to collect next.",
        Verdict.watch: "Every check passes, but something moved or went quiet this week.",
        Verdict.passed: "Every check passes and nothing drifted.",
    }[report.verdict]
    body = (
        _header(report)
        + f"<p>{_e(verdict_note)}</p>"
        + _checklist(report)
        + _recommendations(report, limit=12)
        + "<h2>Charts</h2>"
        + _figures(charts, lambda c: "cid:" + cids[c.name][1:-1])
        + f"<footer>Report {_e(report.report_id)} (schema {_e(report.schema_version)}). The full report is "
        "report.html in the reports bucket; the tables are attached as CSV.</footer>"
    )
    msg.add_alternative(_document(report.subject, body), subtype="html")
    html_part = cast(EmailMessage, next(p for p in msg.walk() if p.get_content_type() == "text/html"))
    for chart in charts:
        html_part.add_related(
            chart.png,
            maintype="image",
            subtype="png",
            cid=cids[chart.name],
            disposition="inline",
            filename=f"{chart.name}.png",
        )
    for name, text in render_csv(report).items():
        msg.add_attachment(
            text.encode("utf-8"), maintype="text", subtype="csv", filename=f"{report.report_id}-{name}"
        )
    return msg


def render_eml(report: Report, *, sender: str, recipients: Sequence[str]) -> bytes:
    """The email as the bytes of an ``.eml`` file (what ``lenslog demo`` writes)."""
    return render_email(report, sender=sender, recipients=recipients).as_bytes()


__all__ = ["CheckStatus", "render_csv", "render_email", "render_eml", "render_html", "render_json"]
