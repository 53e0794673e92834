"""Real faults on a namespace node, collected by the project's collector, found by the engine.

One clean node and one node with every fault of ``tests/lab/faults.py``; each fault must give its
finding (rule, evidence, severity), the clean node none of them, and DNS from the pod must stop
where the legacy rule drops it. The genuine eks-log-collector.sh is run on the same faults by
``scripts/lab_genuine_collector.py`` (it cannot be fetched in CI).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from eksdiag.engine.compare import compare
from eksdiag.engine.indexer import BundleIndex, index_bundle
from eksdiag.engine.model import Severity

from tests.lab.faults import EXPECTED, FAULTS, build_with_faults
from tests.ssm.netns_lab import Node, netns_unavailable_reason, new_tag

pytestmark = pytest.mark.netns


@dataclass
class Collected:
    index: BundleIndex
    dns: dict


@pytest.fixture(scope="module")
def netns_ready() -> None:
    reason = netns_unavailable_reason()
    if reason:
        pytest.skip(f"real-kernel network namespace tests skipped: {reason}")


def _collect(tmp: Path, faults: tuple[str, ...]) -> Iterator[Collected]:
    node = Node(new_tag())
    try:
        dns = build_with_faults(node, faults)
        yield Collected(index_bundle(node.collect(tmp)), dns)
    finally:
        node.destroy()


@pytest.fixture(scope="module")
def faulty(netns_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collected]:
    yield from _collect(tmp_path_factory.mktemp("lab-faulty"), FAULTS)


@pytest.fixture(scope="module")
def clean(netns_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collected]:
    yield from _collect(tmp_path_factory.mktemp("lab-clean"), ())


@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_gives_its_finding(faulty: Collected, fault: str) -> None:
    expected = EXPECTED[fault]
    found = [f for f in faulty.index.findings if f.rule == expected.rule]
    assert found, (fault, [(f.rule, f.file) for f in faulty.index.findings])
    assert any(expected.evidence in e.text for f in found for e in f.evidence), [f.to_dict() for f in found]
    worst = max(f.severity.rank for f in found)
    assert worst >= Severity(expected.min_severity).rank, [f.to_dict() for f in found]
    assert all(f.severity_reason for f in found)


def test_the_legacy_rule_is_read_from_the_legacy_dump_and_stops_dns(faulty: Collected, clean: Collected) -> None:
    drops = [f for f in faulty.index.findings if f.rule == "network.iptables.forward-drop"]
    assert [f.file for f in drops] == ["networking/iptables-legacy-save-counters.txt"]
    assert faulty.dns["answered"] == 0 and clean.dns["answered"] == clean.dns["sent"] == 3


def test_the_clean_node_shows_none_of_the_faults(clean: Collected) -> None:
    rules = {f.rule for f in clean.index.findings}
    assert not rules & {e.rule for e in EXPECTED.values()}, rules
    assert max((f.severity.rank for f in clean.index.findings), default=0) <= Severity.MEDIUM.rank, [
        f.to_dict() for f in clean.index.findings if f.severity.rank > Severity.MEDIUM.rank
    ]


def test_compare_shows_the_faults_against_the_clean_node(faulty: Collected, clean: Collected) -> None:
    result = compare(faulty.index, clean.index)
    blocking = next(d for d in result["dimensions"] if d["name"] == "iptables.blocking_rules")
    assert any("legacy filter FORWARD DROP" in text for text in blocking["only_in_bundle"]), blocking
    assert any("CUSTOM-FW DROP" in text for text in blocking["only_in_bundle"]), blocking
