"""Leakage check function: on its schedule (one per cell), examine the near-duplicate links
decided since the last run and store the figures the weekly report shows. Invoked on demand,
``{"settle_seconds": N}`` overrides how recent a link may be (e.g. 0 after a finished backfill)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from lenslog import runtime
from lenslog.settings import Settings

logger = Logger(service="lenslog-leakage-check")
metrics = Metrics()  # namespace and service (the alarm's dimension) from the environment


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settle = event.get("settle_seconds") if isinstance(event, dict) else None
    state = runtime.leakage_check(Settings.from_env(), int(settle) if settle is not None else None)
    last = state["last_run"]
    for name in ("links_examined", "crossing_pairs", "cluster_split_mismatches"):
        metric = "Leakage" + name.title().replace("_", "")  # LeakageCrossingPairs, ...
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=last[name])
    result = {"cell": state["cell"], "passed": state["passed"], "last_run": last, "totals": state["totals"]}
    if state["passed"]:
        logger.info("leakage check passed", extra=result)
    else:
        logger.error("near-duplicate pairs cross splits", extra=result)
    return result
