"""Redaction in the indexer: what the sink stores, what the index records, the CLI opt-out, and no change
to a bundle without secrets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import IO

from eksdiag.engine.indexer import index_bundle
from eksdiag.engine.redact_log import MAX_RECORDS

from tests.security import corpus
from tests.security.conftest import inflate, leaked


class FolderSink:
    def __init__(self, root: Path) -> None:
        self.root = root

    def open(self, path: str) -> IO[bytes]:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        return target.open("wb")


def _stored(root: Path, path: str) -> bytes:
    data = (root / path).read_bytes()
    return inflate(data) if path.endswith(".gz") else data


def test_the_sink_gets_redacted_files_with_the_original_line_numbers(
    redteam: corpus.RedTeamBundle, tmp_path: Path
) -> None:
    index = index_bundle(redteam.path, sink=FolderSink(tmp_path / "out"))
    for path, original in redteam.files.items():
        stored = _stored(tmp_path / "out", path)
        if path.endswith(".gz"):
            original = inflate(original)
        assert not leaked(stored.decode("utf-8", "replace"), redteam.secrets()), path
        assert stored.count(b"\n") == original.count(b"\n"), path
        entry = next(f for f in index.files if f["path"] == path)
        assert entry["size"] == (tmp_path / "out" / path).stat().st_size
    assert not leaked(index.to_dict(), redteam.secrets())


def test_the_index_records_file_line_and_kind_never_the_value(redteam: corpus.RedTeamBundle) -> None:
    summary = index_bundle(redteam.path).redactions
    assert summary["enabled"] is True and summary["truncated"] is False
    assert summary["count"] == len(summary["records"]) == sum(summary["by_kind"].values())
    assert {p.kind for p in redteam.planted} <= set(summary["by_kind"])
    assert sum(summary["by_file"].values()) == summary["count"]
    pem_lines = [r["line"] for r in summary["records"] if r["kind"] == "private-key"]
    cloud_init = redteam.files["var_log/cloud-init-output.log"].decode().split("\n")
    assert [cloud_init[n - 1] for n in pem_lines] == [p.value for p in redteam.planted if p.kind == "private-key"]
    assert MAX_RECORDS >= 1000


def test_the_seed_bundles_have_nothing_to_redact_and_index_the_same(tmp_path: Path) -> None:
    from tests.fixtures.seed import build_seed_bundles

    for bundle in build_seed_bundles(tmp_path):
        redacted, plain = index_bundle(bundle), index_bundle(bundle, redact=False)
        assert redacted.redactions["count"] == 0
        assert plain.redactions["enabled"] is False
        assert [f.to_dict() for f in redacted.findings] == [f.to_dict() for f in plain.findings]
        assert redacted.artifacts == plain.artifacts


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "eksdiag.cli", *args], capture_output=True, text=True, check=True)


def test_the_cli_redacts_by_default_and_no_redact_is_loud(redteam: corpus.RedTeamBundle) -> None:
    default = _cli("findings", str(redteam.path), "--json")
    assert not leaked(default.stdout, redteam.secrets()) and "WARNING" not in default.stderr
    unsafe = _cli("findings", str(redteam.path), "--json", "--no-redact")
    assert leaked(unsafe.stdout, redteam.secrets())
    assert "WARNING: --no-redact" in unsafe.stderr and "never send this output to a model" in unsafe.stderr
    assert json.loads(unsafe.stdout)


def test_serve_no_redact_imports_unredacted_and_says_so(redteam_folder: Path, redteam: corpus.RedTeamBundle) -> None:
    from eksdiag.adapters.context import local_context

    from tests.tools.conftest import run_tool

    for redact in (True, False):
        ctx = local_context(redteam_folder / ("on" if redact else "off"), redact=redact)
        (redteam_folder / ("on" if redact else "off")).mkdir(exist_ok=True)
        (redteam_folder / ("on" if redact else "off") / redteam.path.name).write_bytes(redteam.path.read_bytes())
        bundle_id = run_tool(ctx, "nodelog___collect", {"instanceId": redteam.instance_id})["bundleId"]
        status = run_tool(ctx, "nodelog___status", {"bundleId": bundle_id})
        assert status["redactions"]["enabled"] is redact
        assert ("warning" in status["redactions"]) is not redact
        read = run_tool(ctx, "findings___read", {"bundleId": bundle_id, "path": "system/ps.txt"})
        assert bool(leaked(read, redteam.secrets())) is not redact
