"""Every real way a bundle is packed reads the same: `./` members, one wrapping folder with or without
its directory entries, bare names. Only members under the wrapper lose it."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from eksdiag.engine.indexer import index_bundle
from eksdiag.engine.reader import Limits, WalkReport, walk_bundle

from tests.fixtures.seed import COLLECTED_EPOCH, HEALTHY_ID, bundle_name, node_files

WRAPPER = bundle_name(HEALTHY_ID).removesuffix(".tar.gz")
GLOBAL_OOM = (
    "[Thu Mar  6 18:20:11 2025] Out of memory: Killed process 911 (java) total-vm:9934112kB, anon-rss:7734112kB"
)


def _files() -> dict[str, str]:
    files = node_files(faulty=False)
    files["kernel/dmesg.human.current"] += GLOBAL_OOM + "\n"
    return files


def _pack(path: Path, files: dict[str, str], name: Callable[[str], str], dirs: list[str]) -> Path:
    with tarfile.open(path, "w:gz", format=tarfile.GNU_FORMAT) as tar:
        for d in dirs:
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mtime = COLLECTED_EPOCH
            tar.addfile(info)
        for rel in sorted(files):
            data = files[rel].encode()
            info = tarfile.TarInfo(name(rel))
            info.size = len(data)
            info.mtime = COLLECTED_EPOCH
            tar.addfile(info, io.BytesIO(data))
    return path


LAYOUTS: dict[str, tuple[Callable[[str], str], list[str]]] = {
    "collector (./ members, directory entries)": (lambda rel: f"./{rel}", [".", "./kernel", "./system"]),
    "bare names, no directory entries": (lambda rel: rel, []),
    "wrapper with its directory entry": (lambda rel: f"{WRAPPER}/{rel}", [WRAPPER]),
    "wrapper without any directory entry": (lambda rel: f"{WRAPPER}/{rel}", []),
    "./wrapper without any directory entry": (lambda rel: f"./{WRAPPER}/{rel}", []),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_packing_reads_the_same_files_and_findings(layout: str, tmp_path: Path) -> None:
    name, dirs = LAYOUTS[layout]
    files = _files()
    idx = index_bundle(_pack(tmp_path / "b.tar.gz", files, name, dirs), bundle_id="b")
    assert sorted(f["path"] for f in idx.files) == sorted(files)
    assert "kernel.oom.global" in {f.rule for f in idx.findings}
    assert idx.bundle["instance_id"] == HEALTHY_ID


def test_a_member_outside_the_wrapper_keeps_its_name(tmp_path: Path) -> None:
    files = {"kernel/dmesg.current": "[1.0] x\n", "system/instance-id.txt": HEALTHY_ID + "\n"}
    files["~other/notes.txt"] = "hi\n"  # sorts last; packed without the wrapper below
    path = _pack(
        tmp_path / "mixed.tar.gz", files, lambda rel: rel[1:] if rel.startswith("~") else f"{WRAPPER}/{rel}", []
    )
    names = [m.path for m in _drain(walk_bundle(path, Limits(), WalkReport()))]
    assert names == ["kernel/dmesg.current", "system/instance-id.txt", "other/notes.txt"]


def test_an_unknown_first_folder_without_known_content_is_not_a_wrapper(tmp_path: Path) -> None:
    files = {"extra/readme.txt": "x\n", "kernel/dmesg.current": "[1.0] x\n"}
    path = _pack(tmp_path / "b.tar.gz", files, lambda rel: rel, ["extra"])
    names = [m.path for m in _drain(walk_bundle(path, Limits(), WalkReport()))]
    assert names == ["extra/readme.txt", "kernel/dmesg.current"]


def _drain(members):  # type: ignore[no-untyped-def]
    for member in members:
        member.stream.read()
        yield member
