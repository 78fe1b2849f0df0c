"""Redrive: move the messages of a cell's dead-letter queue back to its ingest queue.

A message reaches the DLQ after ``maxReceiveCount`` failed receives, its object still in landing
(nothing is deleted before it is committed). Once the cause is fixed, the messages are replayed
as they are: ingest is idempotent, so a message that was in fact processed changes nothing.

Two ways, same result:

- ``move_task``: SQS's own ``StartMessageMoveTask`` (what the console's "Start DLQ redrive" does),
  asynchronous, server-side, rate-limited by SQS; we wait for it and report its counts.
- ``copy``: receive, send to the ingest queue, then delete from the DLQ, 10 at a time. A message
  is deleted only after it was sent, so a crash can duplicate a message but never lose one. Used
  where the move task is unavailable (the embedded AWS does not implement it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

MOVE_TASK_POLL_S = 2.0


@dataclass(frozen=True)
class RedriveResult:
    cell: str
    method: str
    found: int  # messages in the DLQ when the redrive started (approximate, as SQS reports it)
    moved: int
    failed: int = 0

    def __str__(self) -> str:
        failed = f", {self.failed} failed" if self.failed else ""
        return (
            f"cell {self.cell}: {self.moved} of {self.found} DLQ messages moved to the ingest queue"
            f" ({self.method}{failed})"
        )


def queue_arn(sqs: Any, url: str) -> str:
    return str(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])


def depth(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs.get("ApproximateNumberOfMessages", 0)) + int(
        attrs.get("ApproximateNumberOfMessagesNotVisible", 0)
    )


def redrive_by_copy(
    sqs: Any, cell: str, dlq_url: str, queue_url: str, visibility_s: int = 60
) -> RedriveResult:
    found = depth(sqs, dlq_url)
    moved = failed = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            VisibilityTimeout=visibility_s,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            break
        entries = []
        for i, m in enumerate(messages):
            entry: dict[str, Any] = {"Id": str(i), "MessageBody": m["Body"]}
            if m.get("MessageAttributes"):
                entry["MessageAttributes"] = m["MessageAttributes"]
            entries.append(entry)
        sent = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        ok = {s["Id"] for s in sent.get("Successful", [])}
        failed += len(messages) - len(ok)
        done = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(messages)
            if str(i) in ok
        ]
        if done:
            sqs.delete_message_batch(QueueUrl=dlq_url, Entries=done)
        moved += len(done)
        if len(ok) < len(messages):
            break  # the rest stay in the DLQ (visible again after the timeout); say so, do not spin
    return RedriveResult(cell=cell, method="copy", found=found, moved=moved, failed=failed)


def redrive_by_move_task(
    sqs: Any, cell: str, dlq_url: str, queue_url: str, timeout_s: float = 900.0
) -> RedriveResult:
    found = depth(sqs, dlq_url)
    source = queue_arn(sqs, dlq_url)
    handle = sqs.start_message_move_task(SourceArn=source, DestinationArn=queue_arn(sqs, queue_url))[
        "TaskHandle"
    ]
    deadline = time.monotonic() + timeout_s
    while True:
        tasks = sqs.list_message_move_tasks(SourceArn=source, MaxResults=10).get("Results", [])
        task = next((t for t in tasks if t.get("TaskHandle") == handle), tasks[0] if tasks else {})
        status = task.get("Status")
        if status in ("COMPLETED", "FAILED", "CANCELLED") or time.monotonic() > deadline:
            moved = int(task.get("ApproximateNumberOfMessagesMoved", 0))
            return RedriveResult(
                cell=cell,
                method="move-task",
                found=found,
                moved=moved,
                failed=0 if status == "COMPLETED" else found - moved,
            )
        time.sleep(MOVE_TASK_POLL_S)


def redrive(sqs: Any, cell: str, dlq_url: str, queue_url: str, method: str = "move-task") -> RedriveResult:
    if method == "copy":
        return redrive_by_copy(sqs, cell, dlq_url, queue_url)
    if method == "move-task":
        return redrive_by_move_task(sqs, cell, dlq_url, queue_url)
    raise ValueError(f"unknown redrive method {method!r}")
