"""The ``lenslog`` command: the embedded default (demo, local), uploads as a camera, operations."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lenslog.config import Config, ConfigError, load_config


class UsageError(ValueError):
    """A user's mistake on the command line: printed as one line, exit code 2."""


def _meta(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--meta expects KEY=VALUE, got {pair!r}")
        out[key.strip().lower()] = value
    return out


def _cell(config: Config, cell: str) -> str:
    if cell not in config.cells:
        raise UsageError(f"--cell: unknown cell {cell!r} (configured: {', '.join(config.cells)})")
    return cell


def _ledgers(config: Config, endpoint_url: str | None, prefix: str) -> dict[str, Any]:
    from lenslog.adapters.dynamo import DynamoLedger
    from lenslog.runtime import client
    from lenslog.settings import cell_resources

    out = {}
    for cell in config.cells:
        res = cell_resources(config, cell, prefix)
        out[cell] = DynamoLedger(
            client("dynamodb", res.region, endpoint_url), res.table, cell, config.counters.shards
        )
    return out


def _is_loopback(url: str | None) -> bool:
    from urllib.parse import urlparse

    host = urlparse(url).hostname if url else None
    return host in ("127.0.0.1", "localhost", "::1")


def _write_jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n")


# demo ------------------------------------------------------------------------------------------------
def cmd_demo(args: argparse.Namespace) -> int:
    from lenslog.local.aws import EmbeddedAws, provision
    from lenslog.local.uploader import DecisionWatcher, collect, files_to_upload, put_file, summary_table
    from lenslog.local.worker import Worker

    config = load_config(args.config)
    meta = _meta(args.meta)
    plan: list[tuple[Path, str, str, dict[str, str], str | None, bool]]
    if args.images:
        cell = _cell(config, args.cell)
        plan = [(path, key, cell, meta, None, False) for path, key in files_to_upload([Path(args.images)])]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with EmbeddedAws() as aws, tempfile.TemporaryDirectory(prefix="lenslog-demo-") as tmp:
        stack = provision(config, aws.endpoint_url)
        worker = Worker(stack)
        worker.drain()  # the s3:TestEvent of each new notification configuration
        if not args.images:
            from lenslog.local.samples import generate_samples

            plan = [
                (u.path, u.key, u.cell, {**u.metadata, **meta}, u.content_type, u.wait_before)
                for u in generate_samples(Path(tmp))
            ]
        print(f"embedded AWS at {aws.endpoint_url}; uploading {len(plan)} objects", file=sys.stderr)
        watcher = DecisionWatcher(_ledgers(config, aws.endpoint_url, stack.prefix))
        uploaded = []
        for path, key, cell, metadata, ctype, wait_before in plan:
            if wait_before:
                worker.drain()
            res = stack.cells[cell]
            u = put_file(stack.client("s3", cell), cell, res.landing_bucket, path, key, metadata, ctype)
            uploaded.append(u)
            watcher.add(u)
            worker.poll_once(cell)
        worker.drain()
        if not collect(watcher, stall_seconds=30):
            raise RuntimeError(f"{len(watcher.pending)} uploads were never decided")
        decisions = [watcher.decided[u] for u in uploaded if not u.is_sidecar]
        _write_jsonl(out / "decisions.jsonl", decisions)
        # every upload is decided and committed: nothing in flight to wait for
        _check_leakage([stack.settings(c) for c in stack.cells], settle_seconds=0)
        report_paths = _write_report(stack.settings(config.home_cell), out)
    print(summary_table(decisions))
    for p in [out / "decisions.jsonl", *report_paths]:
        print(f"wrote {p}")
    return 0


def _check_leakage(cells: Sequence[Any], settle_seconds: int | None = None) -> None:
    """The incremental leakage check of each cell (in that cell), before its report reads it."""
    from lenslog.runtime import leakage_check

    for settings in cells:
        state = leakage_check(settings, settle_seconds)
        print(
            f"leakage check {settings.cell}: {json.dumps(state['last_run'], sort_keys=True)}",
            file=sys.stderr,
        )


def _write_report(settings: Any, out: Path, period_end: Any = None, send: bool = True) -> list[Path]:
    """Build, store and email the report (SES of the embedded AWS in the demo); write its files."""
    from datetime import UTC, datetime

    from lenslog.runtime import report_service

    outcome = report_service(settings, send=send).run(period_end or datetime.now(UTC).date(), send=send)
    paths = []
    for name, body in sorted(outcome.files.items()):
        path = out / "csv" / name if name.endswith(".csv") else out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        paths.append(path)
    from lenslog.services.report import summary_line

    print(summary_line(outcome), file=sys.stderr)
    return paths


def cmd_report(args: argparse.Namespace) -> int:
    from datetime import date

    config = load_config(args.config)
    [settings] = _cells_settings(argparse.Namespace(**{**vars(args), "cell": [config.home_cell]}), config)
    if not args.no_leakage_check:
        _check_leakage(_cells_settings(argparse.Namespace(**{**vars(args), "cell": None}), config))
    out = Path(args.out)
    paths = _write_report(
        settings,
        out,
        date.fromisoformat(args.period_end) if args.period_end else None,
        send=not args.no_email,
    )
    for p in paths:
        print(f"wrote {p}")
    return 0


# local -----------------------------------------------------------------------------------------------
def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _all_ready(workers: Sequence[Any], ready: Any, timeout: float = 120.0) -> bool:
    """Wait until every worker process has attached to the stack (each puts its pid on ``ready``)."""
    import queue
    import time

    pending = {w.pid for w in workers}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        if not all(w.is_alive() for w in workers):
            return False
        try:
            pending.discard(ready.get(timeout=0.5))
        except queue.Empty:
            continue
    return not pending


def cmd_local(args: argparse.Namespace) -> int:
    """Start every part it announces (S3 and the other services, the worker, the API) or none.
    The worker runs in a process of its own, so that the gate and the embedded AWS use two cores."""
    import multiprocessing

    from lenslog.local.api import serve_api
    from lenslog.local.aws import EmbeddedAws, provision
    from lenslog.local.worker import run_worker_process

    config = load_config(args.config)
    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    for name, port in (("--port", args.port), ("--api-port", args.api_port)):
        if not _port_free(port):
            raise UsageError(f"{name} {port}: the port is in use on 127.0.0.1 (choose another)")
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop as on Ctrl-C: the worker too
    aws = EmbeddedAws(args.port).start()
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    ready = context.Queue()
    api = None
    workers: list[Any] = []
    try:
        stack = provision(config, aws.endpoint_url)
        try:
            api = serve_api(stack, port=args.api_port)
        except Exception as exc:  # the API is announced: without it lenslog local does not run
            print(
                f"lenslog local: the audit API could not start on port {args.api_port}: {exc}",
                file=sys.stderr,
            )
            return 1
        workers = [
            context.Process(
                target=run_worker_process,
                args=(args.config, aws.endpoint_url, stop, ready),
                name=f"lenslog-worker-{i}",
            )
            for i in range(args.workers)
        ]
        for w in workers:
            w.start()
        if not _all_ready(workers, ready):
            print("lenslog local: an ingest worker failed to start", file=sys.stderr)
            return 1
        print(f"S3 endpoint: {aws.endpoint_url}")
        for cell, res in stack.cells.items():
            print(f"  cell {cell} ({res.region}): landing bucket s3://{res.landing_bucket}")
        print(f"API: {api.url}")
        print(f"ingest workers: {len(workers)}")
        print("upload with: lenslog ingest PATH --endpoint-url " + aws.endpoint_url, flush=True)
        try:
            while all(w.is_alive() for w in workers):
                workers[0].join(timeout=1.0)
            dead = next(w for w in workers if not w.is_alive())
            print(f"lenslog local: an ingest worker stopped (exit code {dead.exitcode})", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 0
    finally:
        stop.set()
        for w in workers:
            if w.pid is not None:
                w.join(timeout=10)
                if w.is_alive():
                    w.terminate()
        if api is not None:
            api.shutdown()
        aws.stop()


# ingest ----------------------------------------------------------------------------------------------
def cmd_ingest(args: argparse.Namespace) -> int:
    from lenslog.domain.labels.keys import is_companion
    from lenslog.local.aws import use_local_credentials
    from lenslog.local.ingest_view import IngestView
    from lenslog.local.uploader import DecisionWatcher, collect, files_to_upload, outcome, upload_all
    from lenslog.runtime import client
    from lenslog.settings import cell_resources

    config = load_config(args.config)
    cell = _cell(config, args.cell)
    meta = _meta(args.meta)
    if args.workers < 1 or args.stall_timeout <= 0:
        raise UsageError("--workers must be at least 1 and --stall-timeout above 0")
    plan = files_to_upload(Path(p) for p in args.paths)
    if _is_loopback(args.endpoint_url):
        use_local_credentials()
    res = cell_resources(config, cell, args.prefix)
    s3 = client("s3", res.region, args.endpoint_url)
    s3.head_bucket(Bucket=res.landing_bucket)  # unreachable endpoint or missing cell: fail before uploading
    watcher = DecisionWatcher(_ledgers(config, args.endpoint_url, args.prefix))
    images = sum(not is_companion(key) for _, key in plan)
    view = IngestView(total=images, json_lines=args.json)
    uploads: list[Any] = []
    state: dict[str, Any] = {"uploading": True, "error": None}

    def on_uploaded(u: Any) -> None:
        uploads.append(u)
        watcher.add(u)
        if not u.is_sidecar:
            view.uploaded()

    def upload() -> None:
        try:
            upload_all(
                s3, cell, res.landing_bucket, plan, meta, workers=args.workers, on_uploaded=on_uploaded
            )
        except BaseException as exc:  # reported by the main thread
            state["error"] = exc
        finally:
            state["uploading"] = False

    with view:
        thread = threading.Thread(target=upload, daemon=True, name="uploads")
        thread.start()
        try:
            finished = collect(
                watcher,
                stall_seconds=args.stall_timeout,
                uploading=lambda: bool(state["uploading"]),
                uploaded=lambda: len(uploads),
                on_decision=view.decision,
            )
        except KeyboardInterrupt:
            view.close()
            result = outcome(watcher, uploads, False)
            print(
                f"interrupted: {len(uploads)} objects uploaded, {len(result.decisions)} images decided, "
                f"{len(result.pending)} uploaded but not yet decided (the gate still decides them; "
                "see lenslog verify)",
                file=sys.stderr,
            )
            return 130
    thread.join()
    if state["error"] is not None:
        raise state["error"]
    result = outcome(watcher, uploads, finished)
    view.summary(result)
    return 0 if finished else 1


# erasure ---------------------------------------------------------------------------------------------
def _cells_settings(args: argparse.Namespace, config: Config) -> list[Any]:
    from lenslog.local.aws import use_local_credentials
    from lenslog.settings import Settings

    if _is_loopback(args.endpoint_url):
        use_local_credentials()
    cells = args.cell or list(config.cells)
    for c in cells:
        _cell(config, c)
    return [
        Settings(cell=c, prefix=args.prefix, endpoint_url=args.endpoint_url, config_path=args.config)
        for c in cells
    ]


def cmd_erase(args: argparse.Namespace) -> int:
    from lenslog.runtime import erasure_service
    from lenslog.services.erasure import ErasureRequest

    config = load_config(args.config)
    subject, value = next((k, v) for k in ("image", "camera", "consent", "source") if (v := getattr(args, k)))
    request = ErasureRequest(
        subject=subject,  # type: ignore[arg-type]  # one of the four option names
        value=value,
        requested_by=args.requested_by,
        reason=args.reason,
    )
    ok = True
    for settings in _cells_settings(args, config):
        result = erasure_service(settings).erase(request)
        print(json.dumps(result.to_dict(), sort_keys=True))
        ok = ok and result.verified
    return 0 if ok else 1


def cmd_consent_revoke(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from lenslog.runtime import erasure_service, ingest_service
    from lenslog.services.erasure import ErasureRequest

    config = load_config(args.config)
    request = ErasureRequest(
        subject="consent", value=args.consent_id, requested_by=args.requested_by, reason="consent revoked"
    )
    ok = True
    for settings in _cells_settings(args, config):
        ledger = ingest_service(settings).ledger
        record = ledger.get_consent(args.consent_id)
        if record is None:
            continue
        ledger.put_consent(replace(record, revoked=True))
        result = erasure_service(settings).erase(request)
        print(json.dumps(result.to_dict(), sort_keys=True))
        ok = ok and result.verified
    return 0 if ok else 1


def _remote(p: argparse.ArgumentParser) -> None:
    p.add_argument("--endpoint-url", help="AWS endpoint (the URL printed by lenslog local)")
    p.add_argument("--cell", action="append", help="cell(s) to act on (default: all)")
    p.add_argument("--prefix", default="lenslog", help="resource name prefix")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lenslog", description=__doc__)
    parser.add_argument("--config", help="configuration file (default: config/lenslog.toml)")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="ingest a sample set on an embedded AWS and write the outputs")
    demo.add_argument("--images", help="a folder of your own images instead of the built-in samples")
    demo.add_argument("--out", default="out", help="output folder (default: out/)")
    demo.add_argument("--cell", default="eu", help="landing cell for --images (default: eu)")
    demo.add_argument(
        "--meta", action="append", default=[], metavar="K=V", help="S3 metadata on every upload"
    )
    demo.set_defaults(func=cmd_demo)

    local = sub.add_parser("local", help="keep the embedded AWS, the ingest worker and the API running")
    local.add_argument("--port", type=int, default=4566, help="S3/SQS/DynamoDB endpoint port")
    local.add_argument("--api-port", type=int, default=8080, help="audit API port")
    local.add_argument(
        "--workers",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="ingest worker processes (default: 2, or 1 on a single core)",
    )
    local.set_defaults(func=cmd_local)

    ingest = sub.add_parser("ingest", help="upload files as a camera would and print the decisions")
    ingest.add_argument("paths", nargs="+", help="files or folders (folder layout becomes the key)")
    ingest.add_argument("--endpoint-url", help="AWS endpoint (the URL printed by lenslog local)")
    ingest.add_argument("--cell", default="eu", help="landing cell (default: eu)")
    ingest.add_argument("--meta", action="append", default=[], metavar="K=V", help="S3 user metadata")
    ingest.add_argument("--prefix", default="lenslog", help="resource name prefix")
    ingest.add_argument(
        "--stall-timeout",
        "--timeout",
        dest="stall_timeout",
        type=float,
        default=120.0,
        help="give up after this many seconds without a new upload or decision (default: 120)",
    )
    ingest.add_argument("--workers", type=int, default=8, help="parallel uploads (default: 8)")
    ingest.add_argument("--json", action="store_true", help="stream each decision as a JSON line")
    ingest.set_defaults(func=cmd_ingest)

    report = sub.add_parser("report", help="build, store and email the audit report now")
    report.add_argument("--period-end", help="last day of the week reported (default: today)")
    report.add_argument("--out", default="out", help="also write the files here (default: out/)")
    report.add_argument("--no-email", action="store_true", help="store the report but send no email")
    report.add_argument(
        "--no-leakage-check",
        action="store_true",
        help="report the stored leakage figures without running each cell's check first",
    )
    _remote(report)
    report.set_defaults(func=cmd_report)

    erase = sub.add_parser("erase", help="erase an image, camera, consent or source and verify it")
    who = erase.add_mutually_exclusive_group(required=True)
    for subject in ("image", "camera", "consent", "source"):
        who.add_argument(f"--{subject}", metavar="ID", help=f"erase everything of this {subject}")
    erase.add_argument("--requested-by", required=True, help="who asked (kept in the tombstone)")
    erase.add_argument("--reason", default="", help="why (kept in the tombstone)")
    _remote(erase)
    erase.set_defaults(func=cmd_erase)

    consent = sub.add_parser("consent", help="the consent registry")
    consent_sub = consent.add_subparsers(dest="consent_command", required=True)
    revoke = consent_sub.add_parser("revoke", help="revoke a consent and erase what it covered")
    revoke.add_argument("consent_id")
    revoke.add_argument("--requested-by", required=True)
    _remote(revoke)
    revoke.set_defaults(func=cmd_consent_revoke)

    from lenslog.cli_export import add_export_commands
    from lenslog.cli_ops import add_operations

    add_operations(sub)
    add_export_commands(sub)
    return parser


def _one_line(exc: BaseException) -> str | None:
    """The line a user's mistake deserves, or None for a fault of lenslog's own."""
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

    from lenslog.local.uploader import InputError

    if isinstance(exc, ConfigError | UsageError | InputError):
        return str(exc)
    if isinstance(exc, EndpointConnectionError):
        url = exc.kwargs.get("endpoint_url")
        return f"cannot reach {url}: is lenslog local running there? (--endpoint-url)"
    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials: configure a profile or pass --endpoint-url of lenslog local"
    if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket"):
        return (
            f"no such bucket at this endpoint ({exc.operation_name}): "
            "is this the right --endpoint-url, --cell and --prefix?"
        )
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        line = _one_line(exc)
        if line is None or args.debug:
            raise
        print(f"lenslog {args.command}: {line}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
