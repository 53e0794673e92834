"""The real-kernel tests skip with a reason a reader can act on, instead of failing, off root."""

from __future__ import annotations

import pytest

from tests.ssm import netns_lab


def test_reason_names_root_when_not_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns_lab.os, "geteuid", lambda: 1000)
    assert netns_lab.netns_unavailable_reason() == "needs root (network namespaces, iptables)"


def test_reason_names_the_missing_tool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns_lab.os, "geteuid", lambda: 0)
    monkeypatch.setattr(netns_lab.shutil, "which", lambda tool: None if tool == "iptables" else f"/usr/sbin/{tool}")
    assert netns_lab.netns_unavailable_reason() == "needs iptables (apt-get install iproute2 iptables procps)"
