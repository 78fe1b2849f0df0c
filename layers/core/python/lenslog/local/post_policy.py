"""S3's POST policy rules, for the embedded AWS: moto stores a browser-based (presigned POST) upload
without reading its policy at all, so on it a partner's ticket would bound nothing. S3 refuses a
form upload whose policy has expired, whose fields fail one of its conditions, whose body is
outside its ``content-length-range`` or that carries a field no condition names; this module
decides the same from the form's fields and the body's size, and answers with S3's error codes.

What it does not do: verify the policy's signature (moto authenticates no request). Conditions
(AWS, "Creating a POST policy"): ``{"field": value}`` and ``["eq", "$field", value]`` match
exactly, ``["starts-with", "$field", prefix]`` by prefix (an empty prefix matches anything),
``["content-length-range", min, max]`` bounds the body; field names are matched without regard to
case, values exactly. Every form field but ``policy``, ``x-amz-signature``, ``file`` and
``x-ignore-*`` must be named by a condition.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

MAX_POLICY_BYTES = 20_000  # S3 limits a POST policy document to 20 KB
EXEMPT_FIELDS = frozenset({"policy", "x-amz-signature", "file", "signature", "awsaccesskeyid"})


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str
    details: dict[str, str] = field(default_factory=dict)

    def xml(self) -> str:
        parts = [f"<Code>{self.code}</Code>", f"<Message>{escape(self.message)}</Message>"]
        parts += [f"<{k}>{escape(v)}</{k}>" for k, v in self.details.items()]
        return '<?xml version="1.0" encoding="UTF-8"?>\n<Error>' + "".join(parts) + "</Error>"


def _denied(reason: str) -> Refusal:
    return Refusal(403, "AccessDenied", f"Invalid according to Policy: {reason}")


def _invalid_policy(reason: str) -> Refusal:
    return Refusal(400, "InvalidPolicyDocument", f"Invalid Policy: {reason}")


def _document(encoded: str) -> dict[str, Any] | Refusal:
    if len(encoded) > MAX_POLICY_BYTES * 4 // 3 + 4:
        return _invalid_policy("the policy document is larger than 20 KB")
    try:
        doc = json.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        return _invalid_policy("not base64-encoded JSON")
    if not isinstance(doc, dict) or not isinstance(doc.get("conditions"), list):
        return _invalid_policy("no conditions list")
    if not isinstance(doc.get("expiration"), str):
        return _invalid_policy("no expiration")
    return doc


def _expiration(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def check(fields: Mapping[str, str], size: int, bucket: str, now: datetime | None = None) -> Refusal | None:
    """Why S3 would refuse this form upload (``fields`` without the file, ``size`` its bytes), or
    None when it would take it."""
    form = {k.lower(): v for k, v in fields.items()}
    if "policy" not in form:
        return None  # not a policy upload: nothing to check here
    doc = _document(form["policy"])
    if isinstance(doc, Refusal):
        return doc
    expires = _expiration(doc["expiration"])
    if expires is None:
        return _invalid_policy("expiration is not an ISO 8601 date-time")
    if (now or datetime.now(UTC)) >= expires:
        return _denied("Policy expired.")
    form["bucket"] = bucket  # the bucket of the URL, which a condition may name
    named = {"bucket"}
    for condition in doc["conditions"]:
        outcome = _condition(condition, form, size)
        if isinstance(outcome, Refusal):
            return outcome
        if outcome is not None:
            named.add(outcome)
    extra = sorted(k for k in form if k not in named | EXEMPT_FIELDS and not k.startswith("x-ignore-"))
    if extra:
        return _denied(f"Extra input fields: {', '.join(extra)}")
    return None


def _condition(condition: Any, form: dict[str, str], size: int) -> str | Refusal | None:
    """The field a condition names when the form satisfies it, or why S3 refuses the form."""
    failed = _denied(f"Policy Condition failed: {json.dumps(condition)}")
    if isinstance(condition, dict) and len(condition) == 1:
        ((name, value),) = condition.items()
        op, name = "eq", str(name).lower()
    elif isinstance(condition, list) and len(condition) == 3 and isinstance(condition[0], str):
        op, name, value = condition[0].lower(), condition[1], condition[2]
        if op == "content-length-range":
            low, high = int(condition[1]), int(condition[2])
            if size > high:
                return Refusal(
                    400,
                    "EntityTooLarge",
                    "Your proposed upload exceeds the maximum allowed size",
                    {"ProposedSize": str(size), "MaxSizeAllowed": str(high)},
                )
            if size < low:
                return Refusal(
                    400,
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size",
                    {"ProposedSize": str(size), "MinSizeAllowed": str(low)},
                )
            return None
        if not isinstance(name, str) or not name.startswith("$"):
            return _invalid_policy(f"condition {json.dumps(condition)} names no $field")
        name = name[1:].lower()
    else:
        return _invalid_policy(f"unknown condition {json.dumps(condition)}")
    actual = form.get(name)
    if op == "eq" and actual == value:
        return name
    if op == "starts-with" and actual is not None and actual.startswith(str(value)):
        return name
    if op not in ("eq", "starts-with"):
        return _invalid_policy(f"unknown operation {op!r}")
    return failed
