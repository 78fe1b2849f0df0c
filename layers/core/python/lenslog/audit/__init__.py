"""The coverage and drift audit: pure functions from aggregate counts to a report and its renderings.

``build_report`` turns aggregate counters (and a small sample of recent decisions) into a
:class:`Report`; ``render_json``, ``render_html``, ``render_csv`` and ``render_email`` turn a report
into the files and the message that are stored and sent. Nothing here touches AWS.
"""

from __future__ import annotations

from lenslog.audit.engine import build_report
from lenslog.audit.models import SCHEMA_VERSION, Report
from lenslog.audit.render import render_csv, render_email, render_eml, render_html, render_json

__all__ = [
    "SCHEMA_VERSION",
    "Report",
    "build_report",
    "render_csv",
    "render_email",
    "render_eml",
    "render_html",
    "render_json",
]
