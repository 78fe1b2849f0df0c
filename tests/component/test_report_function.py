"""The report function under moto: aggregates of every cell in, files + index + SES email out."""

from __future__ import annotations

import email
import json
from datetime import UTC, date, datetime

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from lenslog.local.worker import lambda_environment, load_function
from lenslog.runtime import report_service
from tests.component.conftest import Cell
from tests.images import jpeg

TODAY = datetime.now(UTC).date()


@pytest.fixture
def us(stack, worker) -> Cell:
    return Cell(stack, worker, "us")


def ingest_some(eu: Cell, us: Cell) -> None:
    for i in range(4):
        eu.put(
            f"a/{i}.jpg", jpeg(i), {"camera-id": f"cam-0{1 + i % 2}", "captured-at": f"{TODAY}T0{i}:00:00Z"}
        )
    eu.put("bad.jpg", b"")
    us.put("u/0.jpg", jpeg(9), {"camera-id": "us-cam-01", "captured-at": f"{TODAY}T10:00:00Z"})
    eu.drain()


def sent_messages(region: str) -> list:
    return list(ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages)


def test_the_report_counts_agree_with_the_decisions_of_every_cell(eu, us, stack):
    ingest_some(eu, us)
    outcome = report_service(stack.settings("eu"), send=False).build(TODAY)
    report = json.loads(outcome.files["report.json"])
    assert report["totals"]["dataset_images"] == 5  # 4 in eu, 1 in us
    assert report["totals"]["decisions_total"] == 6
    assert report["totals"]["decisions"] == {"accepted": 5, "rejected": 1}
    assert {c["cell"]: c["dataset_images"] for c in report["cell_summaries"]} == {"eu": 4, "us": 1}
    assert outcome.recent_sampled == 6 and report["recent_audit"]["sample_size"] == 6
    assert outcome.items_read > 0


def test_the_recent_sample_leaves_keys_and_positions_behind(eu, us, stack):
    eu.put("secret-site/x.jpg", jpeg(20), {"camera-id": "cam-01", "captured-at": f"{TODAY}T01:00:00Z"})
    eu.drain()
    outcome = report_service(stack.settings("eu"), send=False).build(TODAY)
    for name, body in outcome.files.items():
        assert b"secret-site" not in body, name


def test_the_handler_stores_indexes_and_emails_the_report(eu, us, stack):
    ingest_some(eu, us)
    with lambda_environment(stack.settings("eu").to_env()):
        result = load_function("audit_report").handler({"period_end": TODAY.isoformat()}, _context())

    assert result["stored"] is True and result["email_error"] is None and result["message_id"]
    s3 = stack.client("s3", "eu")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=stack.reports_bucket)["Contents"]}
    prefix = f"reports/{result['report_id']}/"
    assert {prefix + n for n in ("report.json", "report.html", "report.eml", "checklist.csv")} <= keys
    index = eu.items("REPORTS")
    assert len(index) == 1 and result["report_id"] in index[0]["SK"]["S"]

    [sent] = sent_messages("eu-central-1")
    msg = email.message_from_bytes(
        sent.raw_data.encode() if isinstance(sent.raw_data, str) else sent.raw_data
    )
    assert "lenslog audit" in msg["Subject"]
    parts = list(msg.walk())
    html = next(p for p in parts if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    cids = {p["Content-ID"].strip("<>") for p in parts if p.get_content_type() == "image/png"}
    assert cids and all(f"cid:{c}" in html for c in cids)
    assert any(p.get_filename() and p.get_filename().endswith(".csv") for p in parts)


def test_a_failed_send_is_retried_and_the_report_is_still_stored(eu, us, stack):
    ingest_some(eu, us)
    attempts = []

    def flaky(raw: bytes) -> str:
        attempts.append(len(raw))
        raise ConnectionError("SES endpoint unreachable")

    service = report_service(stack.settings("eu"), send=False)
    service.send_raw_email, service.sleep = flaky, lambda s: None
    outcome = service.run(TODAY)
    assert len(attempts) == 3 and outcome.stored and "ConnectionError" in outcome.email_error
    assert eu.items("REPORTS")


def test_an_empty_cell_set_still_reports(stack, worker):
    outcome = report_service(stack.settings("eu"), send=False).build(date(2026, 1, 5))
    report = json.loads(outcome.files["report.json"])
    assert report["totals"]["dataset_images"] == 0 and report["verdict"] == "fail"


def _context():
    from lenslog.local.worker import LambdaContext

    return LambdaContext(function_name="lenslog-eu-audit-report")


@pytest.mark.parametrize("code", ["Throttling", "ServiceUnavailable"])
def test_ses_faults_are_retried_until_the_email_goes(eu, us, stack, code):
    """A throttling or 5xx answer of SES itself, injected in botocore's request path."""
    from botocore.exceptions import ClientError

    from lenslog import runtime

    ingest_some(eu, us)
    service = report_service(stack.settings("eu"), send=True)
    service.sleep = lambda s: None
    ses = runtime.client("ses", "eu-central-1", None)
    faults = {"left": 2}

    def inject(**kwargs):
        if faults["left"]:
            faults["left"] -= 1
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, "SendRawEmail")

    ses.meta.events.register("before-call.ses.SendRawEmail", inject)
    try:
        outcome = service.run(TODAY)
    finally:
        ses.meta.events.unregister("before-call.ses.SendRawEmail", inject)
    assert faults["left"] == 0 and outcome.message_id and outcome.email_error is None
    assert len(sent_messages("eu-central-1")) == 1
