"""checkov over the module: no failed check, and every skip carries its reason inline."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from .tf_support import ROOT

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
SKIP = re.compile(r"#checkov:skip=([A-Z0-9_]+)(?::(.*))?")


def _module_files() -> list[Path]:
    files = [*ROOT.glob("*.tf"), *ROOT.glob("modules/*/*.tf"), *ROOT.glob("examples/*/*.tf")]
    return sorted(files)


@pytest.mark.parametrize("path", _module_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_checkov_skip_says_why(path: Path) -> None:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = SKIP.search(line)
        if match:
            reason = (match.group(2) or "").strip()
            assert len(reason) >= 20, f"{path.name}:{number}: skip of {match.group(1)} without a real reason"


@pytest.mark.slow
def test_checkov_finds_no_failed_check() -> None:
    if not CHECKOV.exists():
        pytest.skip(f"checkov is not installed at {CHECKOV}")
    result = subprocess.run(
        [str(CHECKOV), "-d", str(ROOT), "--framework", "terraform", "--quiet", "--compact", "--skip-download"],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:]
    assert "Failed checks: 0" in result.stdout
