"""The ledger's decision lookup: the latest decision on one object version, in one query."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from lenslog.adapters.dynamo import DynamoLedger, decision_item
from lenslog.domain.models import Decision, Status


def _decision(version: str, status: Status, reevaluated: bool = False) -> Decision:
    return Decision(
        key="cam-01/a.jpg",
        bucket="landing",
        cell="eu",
        status=status,
        version_id=version,
        reevaluated=reevaluated,
        decided_at=datetime(2026, 3, 2, 10, tzinfo=UTC),
    )


def test_the_latest_decision_on_a_version_is_one_query_and_never_another_versions(stack):
    res = stack.cells["eu"]
    ddb = stack.client("dynamodb", "eu")
    ledger = DynamoLedger(ddb, res.table, "eu")
    for d in (
        _decision("v1", Status.quarantined),
        _decision("v1", Status.accepted, reevaluated=True),
        _decision("v1!", Status.rejected),  # its sort key falls between v1's two
    ):
        ddb.put_item(TableName=res.table, Item=decision_item(d))
    calls: Counter[str] = Counter()
    ddb.meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))

    assert ledger.latest_decision("landing", "cam-01/a.jpg", "v1")["status"] == "accepted"
    assert ledger.latest_decision("landing", "cam-01/a.jpg", "v1!")["status"] == "rejected"
    assert ledger.latest_decision("landing", "cam-01/a.jpg", "v2") is None
    assert calls == Counter({"Query": 3})
    assert ledger.get_decision("landing", "cam-01/a.jpg", "v2") is None  # and the origin pointer
    assert calls == Counter({"Query": 4, "GetItem": 1})
