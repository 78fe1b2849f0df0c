"""The local stand-in for Lambda's SQS event source: poll each cell's ingest queue, hand the batch
to the real ingest handler in the shape Lambda gives it, delete what succeeded, and leave the
reported failures to become visible again (and reach the DLQ after maxReceiveCount)."""

from __future__ import annotations

import importlib.util
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from lenslog.local.aws import LOCAL_VISIBILITY_TIMEOUT, LocalStack
from lenslog.local.context import LambdaContext

REPO_ROOT = Path(__file__).resolve().parents[5]
BATCH_VISIBILITY_TIMEOUT = 120  # seconds a received batch stays hidden while it is decided


@lru_cache(maxsize=8)
def load_function(name: str) -> ModuleType:
    """Import ``functions/<name>/handler.py`` as Lambda would, without touching sys.path."""
    path = REPO_ROOT / "functions" / name / "handler.py"
    spec = importlib.util.spec_from_file_location(f"lenslog_function_{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"no function handler at functions/{name}/handler.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_ENV_LOCK = threading.Lock()


@contextmanager
def lambda_environment(env: dict[str, str]) -> Iterator[None]:
    """The function's environment for one invocation, as Lambda sets it, restored afterwards so
    that one worker (or test) never leaks its cell's settings into the next."""
    env = {"POWERTOOLS_METRICS_DISABLED": "true", **env}
    with _ENV_LOCK:
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


class Worker:
    def __init__(self, stack: LocalStack, handler: Callable[..., dict[str, Any]] | None = None):
        self.stack = stack
        self.handler = handler or load_function("ingest").handler
        self._arns: dict[str, str] = {}
        self.failures = 0

    def _queue_arn(self, cell: str) -> str:
        if cell not in self._arns:
            attrs = self.stack.client("sqs", cell).get_queue_attributes(
                QueueUrl=self.stack.queue_urls[cell], AttributeNames=["QueueArn"]
            )
            self._arns[cell] = attrs["Attributes"]["QueueArn"]
        return self._arns[cell]

    def poll_once(self, cell: str, wait_seconds: int = 0) -> int:
        """Receive and process one batch of up to 10 messages; the number of messages received."""
        sqs = self.stack.client("sqs", cell)
        url = self.stack.queue_urls[cell]
        # As Lambda's poller does, a batch is hidden for as long as it may take (a batch of 10
        # camera photos takes seconds on a shared laptop core; with the queue's own 2 s, its last
        # records came back and the other worker decided them a second time); the records that
        # fail are shown again after the queue's timeout, so they are retried as quickly as before.
        resp = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            VisibilityTimeout=BATCH_VISIBILITY_TIMEOUT,
        )
        messages = resp.get("Messages", [])
        if not messages:
            return 0
        event = sqs_event(messages, self._queue_arn(cell), self.stack.cells[cell].region)
        try:
            with lambda_environment(self.stack.settings(cell).to_env()):
                result = self.handler(event, LambdaContext(aws_request_id=str(uuid.uuid4())))
        except Exception:
            # (Powertools raises when every record of a batch failed.)
            result = {"batchItemFailures": [{"itemIdentifier": m["MessageId"]} for m in messages]}
        failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        self.failures += len(failed)
        done = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(messages)
            if m["MessageId"] not in failed
        ]
        if done:
            sqs.delete_message_batch(QueueUrl=url, Entries=done)
        retry = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": LOCAL_VISIBILITY_TIMEOUT}
            for i, m in enumerate(messages)
            if m["MessageId"] in failed
        ]
        if retry:
            sqs.change_message_visibility_batch(QueueUrl=url, Entries=retry)
        return len(messages)

    def pending(self, cell: str) -> int:
        attrs = self.stack.client("sqs", cell).get_queue_attributes(
            QueueUrl=self.stack.queue_urls[cell],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def drain(self, stall: float = 120.0) -> None:
        """Process until every queue is empty (failed records are retried until they reach the
        DLQ); gives up only when no message has arrived for ``stall`` seconds."""
        last = time.monotonic()
        while time.monotonic() - last < stall:
            received = sum(self.poll_once(cell) for cell in self.stack.cells)
            if received:
                last = time.monotonic()
                continue
            if all(self.pending(cell) == 0 for cell in self.stack.cells):
                return
            time.sleep(0.2)
        raise TimeoutError(f"queues stalled: no message for {stall:.0f} s")

    def run_forever(self, stop: Callable[[], bool]) -> None:
        while not stop():
            if sum(self.poll_once(cell) for cell in self.stack.cells) == 0:
                time.sleep(0.2)


def run_worker_process(config_path: str | None, endpoint_url: str, stop: Any, ready: Any) -> None:
    """The worker of ``lenslog local`` in a process of its own (the gate decodes images while the
    embedded AWS answers requests, on two cores), until ``stop`` (a multiprocessing Event) is set;
    it puts its pid on ``ready`` (a multiprocessing Queue) once it is attached."""
    import signal

    from lenslog.config import load_config
    from lenslog.local.aws import attach, use_local_credentials

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    parent = os.getppid()
    use_local_credentials()
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    worker = Worker(attach(load_config(config_path), endpoint_url))
    ready.put(os.getpid())
    worker.run_forever(lambda: stop.is_set() or os.getppid() != parent)  # or the parent died
