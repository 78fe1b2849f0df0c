"""The weekly audit report: aggregates of every cell in, report files, an index entry and an email out.

Only aggregate counts cross cells. The hands-on "last 200 images" audit needs a sample of recent
decisions; each sampled decision is reduced, inside this service, to what the audit counts (camera
id, whether a capture time and a position exist, brightness and flags), with its object key and
exact position removed, before it joins the report.

Sending is retried; a send that still fails is logged and reported in the outcome, and the report
itself is already stored: it is never lost to a mail outage.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from lenslog.adapters.dynamo import DynamoLedger
from lenslog.audit import build_report, render_csv, render_eml, render_html, render_json
from lenslog.audit.leakage import summarise as summarise_leakage
from lenslog.audit.models import Report
from lenslog.config import Config
from lenslog.domain.aggregates import AggregateCount
from lenslog.domain.models import Decision, ImageMetadata
from lenslog.services import leakage

log = logging.getLogger(__name__)
RECENT_SAMPLE = 200
SEND_ATTEMPTS = 3


@dataclass
class ReportOutcome:
    report: Report
    files: dict[str, bytes]
    stored: bool = False
    message_id: str | None = None
    email_error: str | None = None
    items_read: int = 0
    recent_sampled: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def for_transfer(decision: Decision) -> Decision:
    """What of a decision may leave its cell for the audit sample: presence, not content."""
    md = decision.metadata
    has_position = md.lat is not None and md.lon is not None
    return decision.model_copy(
        update={
            "key": f"<an image of cell {decision.cell}>",
            "bucket": "",
            "metadata": ImageMetadata(
                camera_id=md.camera_id,
                captured_at=md.captured_at,
                lat=0.0 if has_position else None,
                lon=0.0 if has_position else None,
            ),
            "hashes": None,
            "image_id": None,
            "duplicate_of": None,
            "cluster_id": None,
            "stored": None,
        }
    )


class ReportService:
    def __init__(
        self,
        config: Config,
        ledgers: Mapping[str, DynamoLedger],
        store: Any | None = None,
        send_raw_email: Callable[[bytes], str] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.config = config
        self.ledgers = dict(ledgers)
        self.store = store
        self.send_raw_email = send_raw_email
        self.clock = clock
        self.sleep = sleep

    def build(self, period_end: date | None = None, cells: Sequence[str] | None = None) -> ReportOutcome:
        period_end = period_end or (self.clock() - timedelta(days=1)).date()
        chosen = list(cells or self.ledgers)
        counts: dict[str, list[AggregateCount]] = {}
        items = 0
        for cell in chosen:
            ledger = self.ledgers[cell]
            days = [d for d in ledger.aggregate_days() if d <= period_end.isoformat()]
            rows = ledger.aggregates(days, summed=False)  # one row a shard: the engine sums them
            items += len(rows)
            counts[cell] = [
                AggregateCount(
                    cell=cell,
                    day=date.fromisoformat(r["day"]),
                    dimension=r["dimension"],
                    value=r["value"],
                    count=r["count"],
                )
                for r in rows
            ]
        recent = [
            for_transfer(d)
            for cell in chosen
            for d in self.ledgers[cell].recent_decisions(RECENT_SAMPLE, until=period_end)
        ]
        # The leakage check runs in each cell (its own schedule); only its stored figures cross.
        states = {cell: leakage.state(self.ledgers[cell]) for cell in chosen}
        report = build_report(
            counts,
            recent,
            self.config,
            period_end=period_end,
            generated_at=self.clock(),
            leakage=summarise_leakage(states),
        )
        files = {
            "report.json": render_json(report),
            "report.html": render_html(report).encode(),
            "report.eml": render_eml(
                report, sender=self.config.report.sender, recipients=self.config.report.recipients
            ),
            **{name: text.encode() for name, text in render_csv(report).items()},
        }
        return ReportOutcome(report=report, files=files, items_read=items, recent_sampled=len(recent))

    def run(self, period_end: date | None = None, send: bool = True) -> ReportOutcome:
        """Build, store (files then index), then email; the email never blocks the storing."""
        outcome = self.build(period_end)
        report = outcome.report
        if self.store is not None:
            self.store.put_report(
                report.report_id,
                report.period.end,
                outcome.files,
                period_start=report.period.start,
                summary={"verdict": str(report.verdict), "headline": report.headline},
                created_at=report.generated_at,
            )
            outcome.stored = True
        if send and self.send_raw_email is not None:
            for attempt in range(1, SEND_ATTEMPTS + 1):
                try:
                    outcome.message_id = self.send_raw_email(outcome.files["report.eml"])
                    outcome.email_error = None
                    break
                except Exception as exc:
                    outcome.email_error = f"{type(exc).__name__}: {exc}"
                    log.warning("report email attempt %d failed: %s", attempt, outcome.email_error)
                    if attempt < SEND_ATTEMPTS:
                        self.sleep(2.0**attempt)
        return outcome


def ses_sender(ses_client: Any, sender: str, recipients: Sequence[str]) -> Callable[[bytes], str]:
    def send(raw: bytes) -> str:
        resp = ses_client.send_raw_email(
            Source=sender, Destinations=list(recipients), RawMessage={"Data": raw}
        )
        return str(resp["MessageId"])

    return send


def summary_line(outcome: ReportOutcome) -> str:
    r = outcome.report
    return json.dumps(
        {
            "report_id": r.report_id,
            "verdict": str(r.verdict),
            "headline": r.headline,
            "items_read": outcome.items_read,
            "stored": outcome.stored,
            "message_id": outcome.message_id,
            "email_error": outcome.email_error,
        },
        sort_keys=True,
    )
