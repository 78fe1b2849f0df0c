"""Reading label bytes as text: UTF-8 with or without a BOM, UTF-16 with its BOM (Windows tools);
anything else is refused with ``bad_encoding``, never guessed."""

from __future__ import annotations

import codecs

from lenslog.domain.labels.models import LabelIssue, warning


class TextError(ValueError):
    def __init__(self, issue: LabelIssue, detail: str) -> None:
        super().__init__(warning(issue, detail))
        self.issue = issue


def decode(data: bytes, limit: int) -> str:
    if len(data) > limit:
        raise TextError(LabelIssue.too_large, f"{len(data)} bytes > {limit}")
    try:
        if data.startswith(codecs.BOM_UTF8):
            return data[len(codecs.BOM_UTF8) :].decode("utf-8")
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return data.decode("utf-16")
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TextError(LabelIssue.bad_encoding, f"not UTF-8 at byte {exc.start}") from exc
