"""The `eksdiag` command line: shapes other tools rely on, and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from eksdiag.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_findings_json_shape(capsys: pytest.CaptureFixture[str], seed_bundles: tuple[Path, Path]) -> None:
    code, out, _ = run(capsys, "findings", str(seed_bundles[0]), "--json")
    data = json.loads(out)
    assert code == 0
    assert set(data) >= {"bundle", "findings"}
    assert data["findings"][0]["severity"] == "CRITICAL"
    assert set(data["findings"][0]) >= {
        "id",
        "rule",
        "severity",
        "category",
        "title",
        "file",
        "line",
        "count",
        "evidence",
        "first_seen",
        "last_seen",
    }


def test_findings_severity_filter(capsys: pytest.CaptureFixture[str], seed_bundles: tuple[Path, Path]) -> None:
    _, out, _ = run(capsys, "findings", str(seed_bundles[0]), "--severity", "critical", "--json")
    assert {f["severity"] for f in json.loads(out)["findings"]} == {"CRITICAL"}


def test_compare_json_shape(capsys: pytest.CaptureFixture[str], seed_bundles: tuple[Path, Path]) -> None:
    code, out, _ = run(capsys, "compare", str(seed_bundles[0]), "--baseline", str(seed_bundles[1]), "--json")
    data = json.loads(out)
    assert code == 0
    assert set(data["dimensions"][0]) >= {"name", "bundle", "baseline", "ratio", "differs", "files"}


def test_tables_for_people(capsys: pytest.CaptureFixture[str], seed_bundles: tuple[Path, Path]) -> None:
    _, out, _ = run(capsys, "findings", str(seed_bundles[0]))
    assert out.splitlines()[1].split()[:3] == ["SEVERITY", "RULE", "WHERE"]
    assert "network.iptables.forward-drop" in out
    _, out, _ = run(capsys, "timeline", str(seed_bundles[0]))
    assert "clusters" in out.splitlines()[0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["findings", "/nonexistent.tar.gz"], "no such bundle"),
        (["findings", __file__], "not a tar or tar.gz bundle"),
        (["findings", "{bundle}", "--severity", "BAD"], "unknown severity"),
    ],
)
def test_bad_input_exits_non_zero_with_one_line(
    capsys: pytest.CaptureFixture[str], seed_bundles: tuple[Path, Path], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, *[a.format(bundle=seed_bundles[0]) for a in argv])
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err


def test_console_script_is_installed(seed_bundles: tuple[Path, Path]) -> None:
    exe = Path(sys.executable).parent / "eksdiag"
    proc = subprocess.run(
        [str(exe), "findings", str(seed_bundles[1]), "--json"], capture_output=True, text=True, check=True
    )
    assert json.loads(proc.stdout)["bundle"]["instance_id"] == "i-0a9b8c7d6e5f40312"
