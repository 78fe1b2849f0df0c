"""Redacting a stored report for an erasure: the erased cameras' rows go, the totals stay.

Pure functions over the ``report.json`` document. A camera is "named" by a string equal to its id,
or containing it as a whole token (``cam-01|10``, ``camera cam-01 has no night images``), never by
a longer id that merely starts with it (``cam-011``). What names an erased camera is removed:
a list element (a row, a gap, a recommendation), a mapping key, a matrix row or column with its
values; a scalar string that must stay (a headline) has the id replaced by a neutral word. Counts
that are not per camera (totals, decisions, source blend) are left as they were: the report still
says what the week held, it no longer says which erased camera held it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

ERASED = "an erased camera"


def _pattern(ids: Iterable[str]) -> re.Pattern[str] | None:
    ids = sorted({i for i in ids if i}, key=len, reverse=True)
    if not ids:
        return None
    alternatives = "|".join(re.escape(i) for i in ids)
    return re.compile(rf"(?<![A-Za-z0-9_.-])(?:{alternatives})(?![A-Za-z0-9_-])")


def names_any(text: str, ids: Iterable[str]) -> bool:
    """Does ``text`` name one of ``ids`` as a whole token?"""
    pattern = _pattern(ids)
    return bool(pattern and pattern.search(text))


def _mentions(value: Any, pattern: re.Pattern[str]) -> bool:
    if isinstance(value, str):
        return bool(pattern.search(value))
    if isinstance(value, dict):
        return any(_mentions(k, pattern) or _mentions(v, pattern) for k, v in value.items())
    if isinstance(value, list):
        return any(_mentions(v, pattern) for v in value)
    return False


def _is_row_of(value: Any, pattern: re.Pattern[str]) -> bool:
    """A list element that is an erased camera's: its id (``cam-01``, ``cam-01|10``), or a row
    with a field holding it."""
    if isinstance(value, str):
        m = pattern.match(value)
        return m is not None and (m.end() == len(value) or value[m.end()] == "|")
    if isinstance(value, dict):
        return any(isinstance(v, str) and _is_row_of(v, pattern) for v in value.values())
    return False


def _redact(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, list):
        return [_redact(v, pattern) for v in value if not _is_row_of(v, pattern)]
    if not isinstance(value, dict):
        return value
    if {"rows", "columns", "values"} <= value.keys():  # a matrix: drop its rows and columns together
        rows = [i for i, r in enumerate(value["rows"]) if not _mentions(r, pattern)]
        cols = [j for j, c in enumerate(value["columns"]) if not _mentions(c, pattern)]
        out = {k: _redact(v, pattern) for k, v in value.items() if k not in ("rows", "columns", "values")}
        out["rows"] = [value["rows"][i] for i in rows]
        out["columns"] = [value["columns"][j] for j in cols]
        out["values"] = [[value["values"][i][j] for j in cols] for i in rows]
        return out
    return {k: _redact(v, pattern) for k, v in value.items() if not _mentions(k, pattern)}


def redact_report(doc: dict[str, Any], cameras: Iterable[str]) -> dict[str, Any]:
    """``doc`` without anything that names one of ``cameras`` (the same doc when none does)."""
    pattern = _pattern(cameras)
    if pattern is None or not _mentions(doc, pattern):
        return doc
    redacted: dict[str, Any] = _redact(doc, pattern)
    return redacted
