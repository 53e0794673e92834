"""docs/coverage.md: every EKS Node Monitoring Agent issue is mapped to our rules or says why a bundle
cannot show it, and the document is what the generator writes."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

from eksdiag.engine.rules import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("coverage_doc", ROOT / "scripts" / "coverage_doc.py")
assert _spec and _spec.loader
coverage_doc = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("coverage_doc", coverage_doc)  # dataclasses look their module up there
_spec.loader.exec_module(coverage_doc)


def test_the_agent_catalogue_has_its_76_issues_once_each() -> None:
    issues = coverage_doc.load_issues()
    assert len(issues) == 76
    assert not [name for name, n in Counter(i.name for i in issues).items() if n > 1]
    assert {i.kind for i in issues} <= {"condition", "event"}
    assert {i.category for i in issues} == set(coverage_doc.CATEGORY_ORDER)


def test_every_rule_tag_names_an_agent_issue() -> None:
    names = {i.name for i in coverage_doc.load_issues()}
    assert not [(r.id, n) for r in CATALOGUE for n in r.nma if n not in names]


def test_every_agent_issue_has_a_rule_or_a_reason_it_cannot_be_seen() -> None:
    assert coverage_doc.mapping_problems(coverage_doc.load_issues(), CATALOGUE) == []


def test_the_document_is_up_to_date() -> None:
    expected = coverage_doc.render(coverage_doc.load_issues(), CATALOGUE)
    assert (ROOT / "docs" / "coverage.md").read_text(encoding="utf-8") == expected, "run `make docs`"
