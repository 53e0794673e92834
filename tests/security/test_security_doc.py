"""docs/security.md stays true: its scope table is the authorization table, and it names every redaction kind."""

from __future__ import annotations

import re
from pathlib import Path

from eksdiag.authz import load_table
from eksdiag.engine.redact import KINDS

from scripts.scope_table import BEGIN, END, render_doc_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def test_the_scope_table_is_the_one_authorization_enforces() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), text, re.DOTALL)
    assert block is not None
    assert block.group(1) == render_doc_table(load_table())


def test_every_redaction_kind_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert [kind for kind in KINDS if f"`{kind}`" not in text] == []
