"""``lenslog snapshot create|list|show`` and ``lenslog export``: training sets out of a cell.

Both work on a deployment (credentials from the environment) and on the embedded AWS of
``lenslog local`` (``--endpoint-url``). A snapshot is taken in the cell it describes and its
manifest never leaves that cell's bucket; an export copies the images to the user's folder.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from lenslog.config import load_config


def _settings(args: argparse.Namespace) -> Any:
    from lenslog.cli import UsageError, _cell, _is_loopback
    from lenslog.local.aws import use_local_credentials
    from lenslog.settings import Settings

    config = load_config(args.config)
    cell = _cell(config, args.cell or config.home_cell)
    if getattr(args, "workers", 1) < 1:
        raise UsageError("--workers must be at least 1")
    if _is_loopback(args.endpoint_url):
        use_local_credentials()
    return Settings(
        cell=cell,
        prefix=args.prefix,
        suffix=args.suffix,
        endpoint_url=args.endpoint_url,
        config_path=args.config,
    )


def _service(settings: Any) -> Any:
    from lenslog.runtime import snapshot_service

    return snapshot_service(settings)


def _record(service: Any, snapshot_id: str) -> Any:
    from lenslog.cli import UsageError
    from lenslog.services.snapshots import SnapshotNotFound

    try:
        return service.get(snapshot_id)
    except SnapshotNotFound as exc:
        raise UsageError(f"--snapshot: {exc} in cell {service.cell}") from None


def _create(service: Any, name: str | None, pairs: list[str]) -> Any:
    from lenslog.cli import UsageError
    from lenslog.domain.snapshot import SnapshotInputError, parse_filters

    try:
        return service.create(name=name, filters=parse_filters(pairs))
    except SnapshotInputError as exc:
        raise UsageError(f"--{exc.field}: {exc.message}") from None


def summary(record: Any) -> dict[str, Any]:
    return {
        "snapshot_id": record.snapshot_id,
        "name": record.name,
        "cell": record.cell,
        "status": record.status,
        "created_at": record.created_at.isoformat(),
        "config_version": record.config_version,
        "version": record.version,
        "content_hash": record.content_hash,
        "images": record.counts.get("images", 0),
        "splits": record.counts.get("splits", {}),
        "removed": record.removed,
    }


def cmd_snapshot_create(args: argparse.Namespace) -> int:
    service = _service(_settings(args))
    record = _create(service, args.name, args.filter)
    print(json.dumps(summary(record), sort_keys=True))
    return 0


def cmd_snapshot_list(args: argparse.Namespace) -> int:
    service = _service(_settings(args))
    for record in service.store.all():
        print(json.dumps(summary(record), sort_keys=True))
    return 0


def cmd_snapshot_show(args: argparse.Namespace) -> int:
    service = _service(_settings(args))
    record = _record(service, args.snapshot_id)
    print(json.dumps(record.model_dump(mode="json", exclude={"continuation"}), indent=2, sort_keys=True))
    if args.lines:
        for line in service.lines(record):
            print(json.dumps(line, sort_keys=True))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from lenslog.cli import UsageError
    from lenslog.export.run import ExportConflict, export, read_marker
    from lenslog.runtime import client

    settings = _settings(args)
    service = _service(settings)
    out = Path(args.out)
    snapshot_id = args.snapshot
    marker = read_marker(out)
    if marker is None and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"--out {out}: the folder is not empty and holds no lenslog export")
    if snapshot_id is None and marker and not marker.get("complete") and marker.get("format") == args.format:
        snapshot_id = str(marker.get("snapshot_id"))
        print(f"resuming the unfinished export of snapshot {snapshot_id} in {out}", file=sys.stderr)
    if snapshot_id is None:
        if marker is not None:
            raise UsageError(
                f"--out {out}: already holds the export of snapshot {marker.get('snapshot_id')}; "
                "pass --snapshot to check it again, or choose another folder"
            )
        record = _create(service, None, [])
        print(f"took snapshot {record.snapshot_id} of cell {record.cell}", file=sys.stderr)
    else:
        record = _record(service, snapshot_id)
    if record.status != "complete":
        raise UsageError(
            f"--snapshot {record.snapshot_id} is still being built; export it when it is complete"
        )
    cell_region = settings.resources(load_config(args.config)).region
    with _Progress(enabled=args.format != "manifest" and not args.quiet) as progress:
        try:
            result = export(
                record,
                service.lines(record),  # part after part, never the whole manifest in memory
                args.format,
                out,
                lambda region: client("s3", region or cell_region, args.endpoint_url),
                include_unlabelled=args.include_unlabelled,
                workers=args.workers,
                on_plan=progress.plan,
                on_done=progress.advance,
            )
        except ExportConflict as exc:
            raise UsageError(str(exc)) from None
    print(
        json.dumps(
            {
                "snapshot_id": result.snapshot_id,
                "format": result.format,
                "out": str(result.out),
                "images": result.images,
                "skipped": result.skipped,
                "downloaded": result.download.fetched,
                "already_present": result.download.present,
                "bytes": result.download.bytes,
                "failed": result.download.failed,
            },
            sort_keys=True,
        )
    )
    return 0 if result.complete else 1


class _Progress:
    """A rich progress bar on stderr while images download (none without rich, or when quiet)."""

    def __init__(self, enabled: bool):
        self.bar: Any = None
        self.task: Any = None
        if not enabled:
            return
        try:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
        except ImportError:
            return
        from rich.console import Console

        self.bar = Progress(
            TextColumn("images"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[state]}"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )

    def __enter__(self) -> _Progress:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def plan(self, total: int) -> None:
        if self.bar is not None:
            self.task = self.bar.add_task("images", total=total, state="")

    def advance(self, item: Any, state: str) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, advance=1, state=state)


def add_export_commands(sub: Any) -> None:
    """Register ``snapshot`` and ``export`` on the ``lenslog`` parser's subcommands."""

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--cell", help="the cell whose dataset it is (default: the home cell)")
        p.add_argument("--endpoint-url", help="AWS endpoint (the URL printed by lenslog local)")
        p.add_argument("--prefix", default="lenslog", help="resource name prefix")
        p.add_argument("--suffix", default="", help="resource name suffix of a deployment")

    snapshot = sub.add_parser("snapshot", help="immutable manifests of a cell's dataset")
    snapshot_sub = snapshot.add_subparsers(dest="snapshot_command", required=True)
    create = snapshot_sub.add_parser("create", help="take a snapshot of the cell's dataset now")
    create.add_argument("--name", help="a name to find it by (letters, digits, . _ -)")
    create.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="K=V",
        help="keep only matching images: camera_id, source_id, source_type, site, split, status, "
        "class, labels (repeat a key for either value)",
    )
    common(create)
    create.set_defaults(func=cmd_snapshot_create)
    listing = snapshot_sub.add_parser("list", help="the cell's snapshots, newest first")
    common(listing)
    listing.set_defaults(func=cmd_snapshot_list)
    show = snapshot_sub.add_parser("show", help="one snapshot's record (and with --lines its manifest)")
    show.add_argument("snapshot_id")
    show.add_argument("--lines", action="store_true", help="also print every manifest line")
    common(show)
    show.set_defaults(func=cmd_snapshot_show)

    exp = sub.add_parser("export", help="write a snapshot as YOLO, COCO or augmented manifests")
    exp.add_argument(
        "--format",
        required=True,
        choices=("yolo", "coco", "manifest"),
        help="yolo: data.yaml + images/ and labels/ per split; coco: annotations/instances_<split>.json "
        "+ images/; manifest: <split>.manifest JSON Lines of s3:// URIs (nothing downloaded)",
    )
    exp.add_argument("--out", required=True, help="output folder (resumed if it holds this export)")
    exp.add_argument("--snapshot", help="snapshot id (default: take a new snapshot)")
    exp.add_argument(
        "--include-unlabelled", action="store_true", help="export unlabelled images too, as null images"
    )
    exp.add_argument("--workers", type=int, default=8, help="parallel downloads (default: 8)")
    exp.add_argument("--quiet", action="store_true", help="no progress bar")
    common(exp)
    exp.set_defaults(func=cmd_export)
