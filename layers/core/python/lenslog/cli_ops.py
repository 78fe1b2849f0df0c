"""Operations commands of ``lenslog``: ``verify`` (reconcile every cell), ``redrive`` (replay a
cell's dead-letter queue) and ``leakage`` (the incremental leakage check, or ``--full``). All work
on a deployment (credentials from the environment) and on the embedded AWS of ``lenslog local``
(``--endpoint-url``)."""

from __future__ import annotations

import argparse
from typing import Any

from lenslog.config import load_config


def _cells(config: Any, only: str | None) -> list[str]:
    from lenslog.cli import _cell

    return list(config.cells) if only is None else [_cell(config, only)]


def _local_credentials_if_loopback(endpoint_url: str | None) -> None:
    from lenslog.cli import _is_loopback
    from lenslog.local.aws import use_local_credentials

    if _is_loopback(endpoint_url):
        use_local_credentials()


def cmd_verify(args: argparse.Namespace) -> int:
    from lenslog.adapters.dynamo import DynamoLedger
    from lenslog.adapters.s3 import S3ObjectStore
    from lenslog.runtime import client
    from lenslog.services.verify import render, verify
    from lenslog.settings import cell_resources

    config = load_config(args.config)
    _local_credentials_if_loopback(args.endpoint_url)
    cells = {}
    for cell in _cells(config, args.cell):
        res = cell_resources(config, cell, args.prefix, args.suffix)
        store = S3ObjectStore(client("s3", res.region, args.endpoint_url), res.region)
        ledger = DynamoLedger(
            client("dynamodb", res.region, args.endpoint_url), res.table, cell, config.counters.shards
        )
        cells[cell] = (res, store, ledger)
    report = verify(cells)
    print(render(report))
    return 0 if report.ok else 1


def cmd_redrive(args: argparse.Namespace) -> int:
    from lenslog.runtime import client
    from lenslog.services.redrive import redrive
    from lenslog.settings import cell_resources

    config = load_config(args.config)
    _local_credentials_if_loopback(args.endpoint_url)
    method = args.method if args.method != "auto" else ("copy" if args.endpoint_url else "move-task")
    status = 0
    for cell in _cells(config, args.cell):
        res = cell_resources(config, cell, args.prefix, args.suffix)
        sqs = client("sqs", res.region, args.endpoint_url)
        queue_url = sqs.get_queue_url(QueueName=res.queue)["QueueUrl"]
        dlq_url = sqs.get_queue_url(QueueName=res.dlq)["QueueUrl"]
        result = redrive(sqs, cell, dlq_url, queue_url, method)
        print(result)
        if result.failed:
            status = 1
    return status


def cmd_leakage(args: argparse.Namespace) -> int:
    """One leakage check per cell; prints one JSON line each; exit 1 if any pair crosses splits."""
    import json

    from lenslog.runtime import leakage_check
    from lenslog.settings import Settings

    config = load_config(args.config)
    _local_credentials_if_loopback(args.endpoint_url)
    ok = True
    for cell in _cells(config, args.cell):
        settings = Settings(
            cell=cell,
            prefix=args.prefix,
            suffix=args.suffix,
            config_path=args.config,
            endpoint_url=args.endpoint_url,
        )
        if args.full:
            from lenslog.runtime import client
            from lenslog.services import leakage

            res = settings.resources(config)
            ledger = _ledger(config, res, client("dynamodb", res.region, args.endpoint_url))
            result = leakage.check(ledger, config)
            line = {
                k: result[k] for k in ("cell", "near_pairs", "crossing_pairs", "cluster_split_mismatches")
            }
            ok = ok and bool(result["passed"])
        else:
            state = leakage_check(settings)
            line = {
                "cell": cell,
                "last_run": state["last_run"],
                "totals": state["totals"],
                "examples": state["examples"],  # the images, named here in their own cell
            }
            ok = ok and bool(state["passed"])
        print(json.dumps(line, sort_keys=True))
    return 0 if ok else 1


def _ledger(config: Any, res: Any, ddb: Any) -> Any:
    from lenslog.adapters.dynamo import DynamoLedger

    return DynamoLedger(ddb, res.table, res.cell, config.counters.shards)


def add_operations(sub: Any) -> None:
    """Register ``verify`` and ``redrive`` on the ``lenslog`` parser's subcommands."""

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--endpoint-url", help="AWS endpoint (the URL printed by lenslog local)")
        p.add_argument("--cell", help="only this cell (default: every configured cell)")
        p.add_argument("--prefix", default="lenslog", help="resource name prefix")
        p.add_argument("--suffix", default="", help="resource name suffix of a deployment")

    verify = sub.add_parser(
        "verify", help="account for every object and record of every cell; exit 1 if any is orphaned"
    )
    common(verify)
    verify.set_defaults(func=cmd_verify)

    redrive = sub.add_parser("redrive", help="move a cell's dead-letter queue back to its ingest queue")
    common(redrive)
    redrive.add_argument(
        "--method",
        choices=("auto", "move-task", "copy"),
        default="auto",
        help="move-task: SQS StartMessageMoveTask; copy: receive/send/delete "
        "(auto: copy with --endpoint-url, else move-task)",
    )
    redrive.set_defaults(func=cmd_redrive)

    leak = sub.add_parser(
        "leakage",
        help="check that no near-duplicate pair crosses splits (the links since the last check); "
        "exit 1 if one does",
    )
    common(leak)
    leak.add_argument(
        "--full", action="store_true", help="check every dataset image instead (reads the whole cell)"
    )
    leak.set_defaults(func=cmd_leakage)
