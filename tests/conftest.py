"""Suite-wide settings.

Tests that need something of the machine (root for network namespaces, node for the MCP Inspector,
terraform and its provider mirror) skip with a clear reason elsewhere. In CI (``CI=true``) the
machine has everything, so a skip there means a test silently did not run: the session fails.
"""

from __future__ import annotations

import os

import pytest


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("CI") != "true" or exitstatus != 0:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"CI: {len(skipped)} test(s) skipped; every test must run in CI", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
