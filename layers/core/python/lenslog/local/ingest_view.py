"""What ``lenslog ingest`` shows: a live progress display on stderr (uploaded and decided, with
rate and ETA, from rich), each decision on stdout as it lands (a JSON line with ``--json``), and a
summary table with what to change when images were held for a configuration reason."""

from __future__ import annotations

import json
import sys
from types import TracebackType
from typing import Any

from lenslog.local.uploader import Outcome, hints, summary_rows


class IngestView:
    def __init__(self, total: int, json_lines: bool = False) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.json_lines = json_lines
        self.err = Console(stderr=True, soft_wrap=True, highlight=False)
        self.out = Console(soft_wrap=True, highlight=False)
        self.progress = Progress(
            TextColumn("{task.description:<9}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.err,
            disable=not self.err.is_terminal,
            transient=False,
        )
        self._uploaded = self.progress.add_task("uploaded", total=total, rate="")
        self._decided = self.progress.add_task("decided", total=total, rate="")
        self._open = False

    def __enter__(self) -> IngestView:
        self.progress.start()
        self._open = True
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._open:
            self.progress.stop()
            self._open = False

    def _rate(self, task_id: Any) -> str:
        task = self.progress.tasks[task_id]
        return f"{task.speed:6.1f}/s" if task.speed else ""

    def uploaded(self) -> None:
        self.progress.advance(self._uploaded)
        self.progress.update(self._uploaded, rate=self._rate(self._uploaded))

    def decision(self, d: dict[str, Any]) -> None:
        self.progress.advance(self._decided)
        self.progress.update(self._decided, rate=self._rate(self._decided))
        if self.json_lines:
            sys.stdout.write(json.dumps(d, sort_keys=True, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            reasons = ",".join(d.get("reasons", []))
            self.progress.console.print(f"{d['status']:<15} {d['key']}  {reasons}".rstrip(), markup=False)

    def summary(self, result: Outcome) -> None:
        """The table (stderr with --json, so stdout stays JSON lines), hints, and what is pending."""
        from rich.table import Table

        console = self.err if self.json_lines else self.out
        statuses, reasons = summary_rows(result.decisions)
        table = Table(title=f"{len(result.decisions)} images decided", title_justify="left")
        table.add_column("status")
        table.add_column("images", justify="right")
        for status, n in statuses:
            table.add_row(status, str(n))
        if result.pending:
            table.add_row("not decided", str(len(result.pending)), style="bold red")
        console.print(table)
        if reasons:
            by_reason = Table(show_header=True)
            by_reason.add_column("reason")
            by_reason.add_column("images", justify="right")
            for reason, n in reasons:
                by_reason.add_row(reason, str(n))
            console.print(by_reason)
        for line in hints(result.decisions):
            console.print(f"to fix: {line}", markup=False)
        if result.stalled:
            listed = ", ".join(u.key for u in result.pending[:10])
            more = f" and {len(result.pending) - 10} more" if len(result.pending) > 10 else ""
            self.err.print(
                f"stalled: no new decision within the stall timeout; {len(result.pending)} uploaded images "
                f"not decided yet: {listed}{more} (lenslog verify accounts for them)",
                markup=False,
            )
