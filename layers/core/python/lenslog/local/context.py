"""Lambda's context object, as far as Powertools reads it, for handlers invoked outside Lambda.

Standard library only: a cold-start measurement can build one without importing anything the
handler would otherwise import first."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LambdaContext:
    function_name: str = "lenslog-ingest-local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:lenslog-ingest-local"
    aws_request_id: str = ""
    remaining_ms: int = 60_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms
