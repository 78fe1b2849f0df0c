"""``docs/operations.md`` explains every reason code the gate can give, from the code itself."""

from __future__ import annotations

import os
import re
from pathlib import Path

from lenslog.domain.models import REASON_TEXT, Reason

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
BLOCK = re.compile(r"(<!-- reasons:start -->\n)(.*?)(<!-- reasons:end -->)", re.S)


def reason_table() -> str:
    rows = ["| code | outcome | meaning |", "|---|---|---|"]
    rows += [f"| `{r}` | {r.status} | {REASON_TEXT[r]} |" for r in Reason]
    return "\n".join(rows) + "\n"


def test_every_reason_code_has_its_text():
    assert set(REASON_TEXT) == set(Reason)


def test_the_operations_guide_lists_every_reason_code_as_the_code_defines_it():
    text = DOC.read_text(encoding="utf-8")
    match = BLOCK.search(text)
    assert match, "docs/operations.md lost its reason table markers"
    if os.environ.get("LENSLOG_UPDATE_DOCS") == "1":
        DOC.write_text(BLOCK.sub(lambda m: m[1] + reason_table() + m[3], text), encoding="utf-8")
        return
    assert match[2] == reason_table(), "run with LENSLOG_UPDATE_DOCS=1 to regenerate the table"


def test_the_operations_guide_documents_the_commands_it_promises():
    text = DOC.read_text(encoding="utf-8")
    for command in ("lenslog redrive", "lenslog verify"):
        assert command in text
