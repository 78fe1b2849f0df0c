"""The incremental leakage check under moto: it examines the near-duplicate links decided since its
last run (never the corpus), keeps running totals, and the report shows them."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

from lenslog.audit import render_html
from lenslog.services import leakage
from lenslog.services.report import ReportService
from tests.component.test_near_duplicates import T0, _put, _service, meta
from tests.images import encode, scene

OTHER = {"train": "test", "val": "train", "test": "train"}


def _ingest(service, stack, key: str, seed: int, quality: int = 90, size=(800, 600)):
    body = encode(scene(seed, (800, 600)).resize(size), quality=quality)
    return service.handle(_put(stack, key, body, meta()))


def _count(client) -> Counter:
    calls: Counter = Counter()
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))
    return calls


def test_each_run_examines_only_the_links_made_since_the_last(stack, config):
    service = _service(stack, config)
    assert _ingest(service, stack, "a.jpg", 1).status == "accepted"
    assert _ingest(service, stack, "a2.jpg", 1, quality=60).status == "near_duplicate"
    first = leakage.run(service.ledger, service.near, config, settle_seconds=0)
    assert first["last_run"]["links_examined"] == 1 and first["last_run"]["near_pairs"] == 1
    assert first["passed"] and first["runs"] == 1

    calls = _count(service.ledger.client)
    again = leakage.run(service.ledger, service.near, config, settle_seconds=0)
    assert again["last_run"]["links_examined"] == 0 and again["totals"] == first["totals"]
    assert calls["BatchGetItem"] == 0  # nothing new: no index lookup at all

    assert _ingest(service, stack, "unrelated.jpg", 2).status == "accepted"  # a root, not a link
    assert _ingest(service, stack, "a3.jpg", 1, size=(400, 300)).status == "near_duplicate"
    third = leakage.run(service.ledger, service.near, config, settle_seconds=0)
    assert third["last_run"]["links_examined"] == 1
    assert third["last_run"]["near_pairs"] == 2  # a3 with a and with a2
    assert third["totals"]["links_examined"] == 2 and third["runs"] == 3
    assert leakage.state(service.ledger) == third


def test_a_link_whose_split_differs_from_its_root_is_counted_with_examples(stack, config):
    service = _service(stack, config)
    root = _ingest(service, stack, "b.jpg", 3)
    copy = _ingest(service, stack, "b2.jpg", 3, quality=60)
    assert copy.status == "near_duplicate" and copy.split == root.split
    # a split changed behind the gate's back (a hand edit, a bug): the check must see it
    service.ledger.client.update_item(
        TableName=service.ledger.table,
        Key={"PK": {"S": f"IMG#{copy.image_id}"}, "SK": {"S": "IMAGE"}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "split"},
        ExpressionAttributeValues={":s": {"S": OTHER[copy.split]}},
    )
    result = leakage.run(service.ledger, service.near, config, settle_seconds=0)
    assert result["totals"]["crossing_pairs"] == 1 and result["totals"]["cluster_split_mismatches"] == 1
    assert not result["passed"]
    kinds = {e["kind"] for e in result["examples"]}
    assert kinds == {"crossing_pair", "cluster_split_mismatch"}

    report = ReportService(config=config, ledgers={"eu": service.ledger}).build(period_end=T0.date())
    doc = json.loads(report.files["report.json"])
    assert doc["leakage"]["crossing_pairs"] == 1 and doc["leakage"]["cluster_split_mismatches"] == 1
    assert {tuple(e["splits"]) for e in doc["leakage"]["examples"]} >= {(OTHER[copy.split], root.split)}
    item = next(c for c in doc["checklist"] if c["id"] == "leakage")
    assert item["status"] == "fail" and doc["verdict"] == "fail"
    page = render_html(report.report)
    assert "cluster_split_mismatch" in page and "lenslog leakage --cell" in page
    assert copy.image_id[:12] not in page and copy.image_id[:12] not in report.files["report.json"].decode()
    # the ids stay in the cell's own state, where an erasure reaches them
    assert {copy.image_id, root.image_id} <= {
        i for e in result["examples"] for i in (e.get("images") or [e.get("image"), e.get("root")])
    }
    assert leakage.forget(service.ledger, [copy.image_id]) == 2
    assert leakage.state(service.ledger)["examples"] == []
    assert leakage.state(service.ledger)["totals"]["crossing_pairs"] == 1  # counts stay


def test_a_second_run_racing_the_first_stores_nothing_twice(stack, config):
    service = _service(stack, config)
    _ingest(service, stack, "c.jpg", 4)
    _ingest(service, stack, "c2.jpg", 4, quality=60)
    stale = leakage.state(service.ledger)
    leakage.run(service.ledger, service.near, config, settle_seconds=0)
    original_state = leakage.state
    try:
        leakage.state = lambda ledger: stale  # type: ignore[assignment]  # it read before the other stored
        raised = False
        try:
            leakage.run(service.ledger, service.near, config, settle_seconds=0)
        except leakage.CheckRaced:
            raised = True
    finally:
        leakage.state = original_state  # type: ignore[assignment]
    assert raised
    assert leakage.state(service.ledger)["totals"]["links_examined"] == 1


def test_the_report_says_when_no_check_ran(stack, config):
    service = _service(stack, config)
    report = ReportService(config=config, ledgers={"eu": service.ledger}).build(period_end=T0.date())
    item = next(c for c in report.report.checklist if c.id == "leakage")
    assert item.status == "n/a" and report.report.leakage is not None
    assert report.report.leakage.unchecked_cells == ["eu"]


def test_a_link_decided_within_the_settle_window_waits_for_the_next_run(stack, config):
    service = _service(stack, config)
    _ingest(service, stack, "d.jpg", 5)
    link = _ingest(service, stack, "d2.jpg", 5, quality=60)
    early = leakage.run(service.ledger, service.near, config, now=link.decided_at, settle_seconds=60)
    assert early["last_run"]["links_examined"] == 0
    later = leakage.run(
        service.ledger, service.near, config, now=link.decided_at + timedelta(minutes=2), settle_seconds=60
    )
    assert later["last_run"]["links_examined"] == 1


def test_a_run_stops_at_its_link_budget_and_the_next_goes_on(stack, config):
    service = _service(stack, config)
    _ingest(service, stack, "e.jpg", 6)
    for q in (60, 50, 40):
        assert _ingest(service, stack, f"e{q}.jpg", 6, quality=q).status == "near_duplicate"
    first = leakage.run(service.ledger, service.near, config, settle_seconds=0, max_links=2)
    assert first["last_run"]["links_examined"] == 2 and first["behind"]
    second = leakage.run(service.ledger, service.near, config, settle_seconds=0, max_links=2)
    assert second["last_run"]["links_examined"] == 1 and not second["behind"]
    assert second["totals"]["links_examined"] == 3


def test_the_scheduled_function_runs_the_check_and_emits_its_figures(eu, stack, capsys):
    from lenslog.local.worker import lambda_environment, load_function
    from tests.component.test_near_duplicates import upload
    from tests.component.test_report_function import _context

    upload(eu, "f.jpg", scene(7, (800, 600)))
    upload(eu, "f2.jpg", scene(7, (800, 600)).resize((400, 300)))
    env = {
        **stack.settings("eu").to_env(),
        "POWERTOOLS_METRICS_NAMESPACE": "lenslog",
        "POWERTOOLS_SERVICE_NAME": "leakage_check",
        "POWERTOOLS_METRICS_DISABLED": "false",  # the test suite turns them off elsewhere
    }
    # In Lambda each function is a process of its own. Here the ingest function ran in this process
    # first, and Powertools keeps one metric set and one dimension set per process (its Metrics
    # share class attributes): drop what the ingest invocations left there, and import the
    # function afresh under its environment, as a cold start does.
    from aws_lambda_powertools import Metrics

    Metrics().clear_metrics()
    load_function.cache_clear()
    capsys.readouterr()  # the uploads' own output
    with lambda_environment(env):
        # nothing is in flight in this test: examine the links decided up to now
        result = load_function("leakage_check").handler({"settle_seconds": 0}, _context())
    assert result["cell"] == "eu" and result["passed"]
    assert result["last_run"]["links_examined"] == 1 and result["totals"]["near_pairs"] == 1
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    metrics = {m["Name"] for e in emitted for m in e["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {"LeakageCrossingPairs", "LeakageClusterSplitMismatches", "LeakageLinksExamined"} <= metrics
    assert all(e["service"] == "leakage_check" for e in emitted)


def test_the_cli_checks_each_cell_and_exits_1_when_a_pair_crosses(eu, stack, capsys, config):
    from lenslog.cli import main as cli
    from tests.component.test_near_duplicates import upload

    upload(eu, "g.jpg", scene(8, (800, 600)))
    copy = upload(eu, "g2.jpg", scene(8, (800, 600)).resize((400, 300)))
    assert cli(["leakage", "--full"]) == 0
    full = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["cell"]: r["near_pairs"] for r in full} == {"eu": 1, "us": 0}
    eu.ddb.update_item(
        TableName=eu.res.table,
        Key={"PK": {"S": f"IMG#{copy['image_id']}"}, "SK": {"S": "IMAGE"}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "split"},
        ExpressionAttributeValues={":s": {"S": OTHER[copy["split"]]}},
    )
    state = leakage.run(eu.ledger, _service(stack, config).near, config, settle_seconds=0)
    assert state["totals"]["crossing_pairs"] == 1
    assert cli(["leakage", "--cell", "eu"]) == 1  # nothing new, but the totals hold the leak
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert line["cell"] == "eu" and line["last_run"]["links_examined"] == 0
    assert {e["kind"] for e in line["examples"]} == {"crossing_pair", "cluster_split_mismatch"}
    # erasing the image takes it out of the check's examples too
    assert cli(["erase", "--image", copy["image_id"], "--requested-by", "dpo", "--cell", "eu"]) == 0
    assert leakage.state(eu.ledger)["examples"] == []
