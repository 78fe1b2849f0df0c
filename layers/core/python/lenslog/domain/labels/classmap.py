"""Class maps for YOLO ids: an Ultralytics ``data.yaml`` (``names`` as a list or an id -> name
mapping, block or inline; ``nc``), a ``classes.txt`` / ``*.names`` (one name a line).

PyYAML is not a runtime dependency, so the small subset these files use is read here: top-level
``key: value`` lines, ``names`` as an inline ``[a, b]`` / ``{0: a}`` or an indented block of
``- a`` / ``0: a`` lines, quotes, comments. Anything else is ignored; a ``names`` that cannot be read
is an error, never a guess."""

from __future__ import annotations

import re

from lenslog.domain.labels.models import LabelIssue, warning
from lenslog.domain.labels.text import TextError, decode

MAX_BYTES = 256_000
MAX_CLASSES = 10_000


class ClassMapError(ValueError):
    pass


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _strip_comment(line: str) -> str:
    out, quote = [], ""
    for ch in line:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#":
            break
        out.append(ch)
    return "".join(out).rstrip()


def _split_inline(body: str) -> list[str]:
    items, cur, quote = [], [], ""
    for ch in body:
        if quote:
            quote = "" if ch == quote else quote
            cur.append(ch)
        elif ch in "'\"":
            quote = ch
            cur.append(ch)
        elif ch == ",":
            items.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        items.append("".join(cur))
    return [i.strip() for i in items if i.strip()]


def _pair(item: str) -> tuple[str, str]:
    m = re.match(r"^\s*(['\"]?)(\d+)\1\s*:\s*(.+)$", item)
    if not m:
        raise ClassMapError(f"names entry {item[:60]!r} is not id: name")
    return m.group(2), _unquote(m.group(3))


def parse_data_yaml(data: bytes) -> dict[str, str]:
    """id (as text) -> class name."""
    try:
        text = decode(data, MAX_BYTES)
    except TextError as exc:
        raise ClassMapError(str(exc)) from exc
    lines = [_strip_comment(line) for line in text.splitlines()]
    names: dict[str, str] | None = None
    nc: int | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        m = re.match(r"^(\w+)\s*:\s*(.*)$", line)
        if not m or line[:1].isspace():
            continue
        key, value = m.group(1), m.group(2).strip()
        if key == "nc":
            try:
                nc = int(value)
            except ValueError as exc:
                raise ClassMapError(f"nc: {value[:40]!r} is not an integer") from exc
        if key != "names":
            continue
        if value.startswith("["):
            if not value.endswith("]"):
                raise ClassMapError("names: an inline list must close on its line")
            names = {str(n): _unquote(v) for n, v in enumerate(_split_inline(value[1:-1]))}
        elif value.startswith("{"):
            if not value.endswith("}"):
                raise ClassMapError("names: an inline mapping must close on its line")
            names = dict(_pair(item) for item in _split_inline(value[1:-1]))
        elif value:
            raise ClassMapError(f"names: {value[:40]!r} is neither a list nor a mapping")
        else:
            block: list[str] = []
            while i < len(lines) and (
                lines[i][:1].isspace() or not lines[i].strip() or lines[i].startswith("- ")
            ):
                if lines[i].strip():
                    block.append(lines[i].strip())
                i += 1
            if block and all(b.startswith("- ") or b == "-" for b in block):
                names = {str(n): _unquote(b[1:]) for n, b in enumerate(block)}
            else:
                names = dict(_pair(b) for b in block)
    if names is None:
        raise ClassMapError("no names in the file")
    if len(names) > MAX_CLASSES:
        raise ClassMapError(f"{len(names)} classes > {MAX_CLASSES}")
    if any(not v for v in names.values()):
        raise ClassMapError("an empty class name")
    if nc is not None and nc != len(names):
        raise ClassMapError(f"nc is {nc} but names has {len(names)} entries")
    return names


def parse_names(data: bytes) -> dict[str, str]:
    """``classes.txt`` / ``*.names``: one class a line, the line number (from 0) its id."""
    try:
        text = decode(data, MAX_BYTES)
    except TextError as exc:
        raise ClassMapError(str(exc)) from exc
    names = [line.strip() for line in text.splitlines()]
    while names and not names[-1]:
        names.pop()
    if not names or any(not n for n in names):
        raise ClassMapError("an empty class name" if names else "no names in the file")
    if len(names) > MAX_CLASSES:
        raise ClassMapError(f"{len(names)} classes > {MAX_CLASSES}")
    return {str(i): n for i, n in enumerate(names)}


def parse(key: str, data: bytes) -> dict[str, str]:
    if key.lower().endswith((".yaml", ".yml")):
        return parse_data_yaml(data)
    return parse_names(data)


def error_text(exc: ClassMapError) -> str:
    return warning(LabelIssue.malformed, str(exc))
