"""Every input from outside is hostile: none crashes, none writes outside its folder (issue 3)."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import zlib
from pathlib import Path

import pytest
from eksdiag.engine.indexer import BundleError, Limits, index_bundle

KUBELET_LINE = (
    b"Mar 06 18:10:31 ip-192-168-45-12.us-west-2.compute.internal kubelet[3456]: E0306 18:10:31.511207"
    b'    3456 kubelet.go:1] "Error updating node status, will retry" err="dial tcp 10.0.0.1:443: '
    b'i/o timeout"\n'
)


def make_tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


COLLECTED_EPOCH = 1741285320  # members carry the collection time, as tar writes them


def regular(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.mtime = COLLECTED_EPOCH
    return info, data


def special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None


class RecordingSink:
    """Writes members under ``root`` and refuses (fails the test) anything that would escape it."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.written: list[str] = []

    def open(self, path: str):
        target = (self.root / path).resolve()
        assert target.is_relative_to(self.root), path
        target.parent.mkdir(parents=True, exist_ok=True)
        self.written.append(path)
        return target.open("wb")


@pytest.mark.parametrize(
    "name",
    [
        "/etc/cron.d/evil",
        "../../evil.txt",
        "./kubelet/../../evil.txt",
        "kubelet/../../../tmp/evil",
        "./var_log/evil\nname.log",
        "./var_log/back\\slash.log",
    ],
)
def test_unsafe_member_names_are_skipped_and_reported(tmp_path: Path, name: str) -> None:
    bundle = make_tar(
        tmp_path / "b.tar.gz", [regular(name, KUBELET_LINE), regular("./kubelet/kubelet.log", KUBELET_LINE)]
    )
    sink = RecordingSink(tmp_path / "out")
    idx = index_bundle(bundle, sink=sink)
    assert {"path": name, "reason": "unsafe member name (absolute, '..' or control characters)"} in idx.skipped
    assert sink.written == ["kubelet/kubelet.log"]
    assert not (tmp_path / "evil.txt").exists()
    assert [f.rule for f in idx.findings] == ["kubelet.node-status-update-failed", "kubelet.apiserver-timeout"] or {
        f.rule for f in idx.findings
    } == {"kubelet.node-status-update-failed", "kubelet.apiserver-timeout"}


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        (tarfile.SYMTYPE, "symlink"),
        (tarfile.LNKTYPE, "hardlink"),
        (tarfile.CHRTYPE, "device"),
        (tarfile.BLKTYPE, "device"),
        (tarfile.FIFOTYPE, "fifo"),
    ],
)
def test_links_and_devices_are_skipped_and_reported(tmp_path: Path, kind: bytes, label: str) -> None:
    bundle = make_tar(
        tmp_path / "b.tar.gz",
        [
            regular("./kubelet/kubelet.log", KUBELET_LINE),
            special("./kubelet/evil", kind, "/etc/shadow"),
        ],
    )
    sink = RecordingSink(tmp_path / "out")
    idx = index_bundle(bundle, sink=sink)
    assert {"path": "kubelet/evil", "reason": f"{label} skipped"} in idx.skipped
    assert sink.written == ["kubelet/kubelet.log"]
    assert idx.bundle["complete"] is True


def test_symlinks_in_an_extracted_directory_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.log"
    outside.write_bytes(KUBELET_LINE)
    root = tmp_path / "bundle"
    (root / "kubelet").mkdir(parents=True)
    os.symlink(outside, root / "kubelet" / "kubelet.log")
    os.symlink(tmp_path, root / "var_log")
    idx = index_bundle(root)
    assert idx.findings == []
    assert {s["path"] for s in idx.skipped} == {"kubelet/kubelet.log", "var_log"}


def test_decompression_bomb_is_stopped_by_the_ratio_limit(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.tar.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as gz, tarfile.open(fileobj=gz, mode="w|") as tar:
        info = tarfile.TarInfo("./var_log/messages")
        info.size = 64 * 1024**2
        tar.addfile(info, io.BytesIO(b"\0" * info.size))
    idx = index_bundle(bomb, limits=Limits(max_ratio=50, ratio_floor_bytes=8 * 1024**2))
    assert idx.bundle["complete"] is False
    assert any("compression ratio" in p for p in idx.bundle["problems"])
    assert idx.bundle["bytes_uncompressed"] < 32 * 1024**2


def test_total_uncompressed_bytes_are_limited(tmp_path: Path) -> None:
    bundle = make_tar(tmp_path / "b.tar.gz", [regular(f"./var_log/f{i}.log", KUBELET_LINE * 20000) for i in range(4)])
    idx = index_bundle(bundle, limits=Limits(max_total_bytes=5 * 1024**2))
    assert idx.bundle["complete"] is False
    assert any("uncompressed bytes" in p for p in idx.bundle["problems"])


def test_truncated_gzip_keeps_what_was_read_and_says_incomplete(tmp_path: Path) -> None:
    full = make_tar(
        tmp_path / "full.tar.gz",
        [
            regular("./kubelet/kubelet.log", KUBELET_LINE * 2000),
            regular("./var_log/messages", os.urandom(4 * 1024**2).hex().encode()),
        ],
    )
    data = full.read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    idx = index_bundle(cut)
    assert idx.bundle["complete"] is False
    assert any("truncated" in p or "stream ended" in p for p in idx.bundle["problems"])
    timeouts = [f for f in idx.findings if f.rule == "kubelet.apiserver-timeout"]
    assert timeouts and timeouts[0].count == 2000


def test_binary_and_non_utf8_files_are_handled(tmp_path: Path) -> None:
    latin1 = "Mar 06 18:10:31 h kubelet[1]: café no space left on device\n".encode("latin-1")
    bundle = make_tar(
        tmp_path / "b.tar.gz",
        [
            regular("./system/systemd-analyze.svg", b"\x89PNG\x00\x00binary" * 100),
            regular("./kubelet/kubelet.log", b"\xff\xfe garbage \xc3\x28\n" + latin1),
        ],
    )
    idx = index_bundle(bundle)
    files = {f["path"]: f for f in idx.files}
    assert files["system/systemd-analyze.svg"]["binary"] is True
    [nospace] = [f for f in idx.findings if f.rule == "runtime.no-space"]
    assert nospace.line == 2 and "caf\ufffd" in nospace.evidence[0].text


def test_lines_over_one_mib_are_scanned_and_cut(tmp_path: Path) -> None:
    huge = b"x" * (3 * 1024**2) + b" no space left on device " + b"y" * 1024**2 + b"\n"
    bundle = make_tar(tmp_path / "b.tar.gz", [regular("./var_log/messages", b"first\n" + huge + KUBELET_LINE)])
    idx = index_bundle(bundle)
    rules = {f.rule: f for f in idx.findings}
    assert rules["runtime.no-space"].line == 2
    assert len(rules["runtime.no-space"].evidence[0].text) <= 2001
    assert rules["kubelet.apiserver-timeout"].line == 3
    assert idx.files[0]["lines"] == 3


@pytest.mark.parametrize("content", [b"", b"hello, not an archive\n", b"\x1f\x8bnot really gzip", os.urandom(4096)])
def test_a_file_that_is_not_an_archive_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bundle.tar.gz"
    path.write_bytes(content)
    with pytest.raises(BundleError, match=r"not a tar or tar\.gz bundle"):
        index_bundle(path)


def test_rotated_gz_logs_inside_the_bundle_are_indexed(tmp_path: Path) -> None:
    rotated = gzip.compress(
        b'{"level":"error","ts":"2025-03-05T11:04:12.345Z","msg":"DataStore has no available '
        b'IP/Prefix addresses"}\n' * 3
    )
    bundle = make_tar(
        tmp_path / "b.tar.gz",
        [
            regular("./var_log/aws-routed-eni/ipamd-2025-03-05T11-04-12.345.log.gz", rotated),
        ],
    )
    idx = index_bundle(bundle)
    rules = {f.rule: f for f in idx.findings}
    assert rules["vpc-cni.address-exhaustion"].count == 3
    assert rules["vpc-cni.address-exhaustion"].first_seen == "2025-03-05T11:04:12.345000Z"


def test_a_nested_gzip_bomb_or_truncated_rotation_does_not_stop_the_bundle(tmp_path: Path) -> None:
    bomb = gzip.compress(b"a" * (8 * 1024**2), compresslevel=9)
    broken = gzip.compress(KUBELET_LINE * 100)[:-40]
    bundle = make_tar(
        tmp_path / "b.tar.gz",
        [
            regular("./var_log/aws-routed-eni/ipamd-1.log.gz", bomb),
            regular("./var_log/messages-1.gz", broken),
            regular("./kubelet/kubelet.log", KUBELET_LINE),
        ],
    )
    sink = RecordingSink(tmp_path / "out")
    idx = index_bundle(bundle, sink=sink, limits=Limits(max_nested_gzip_bytes=1024**2))
    assert len(idx.bundle["problems"]) == 2
    assert {f.file for f in idx.findings} >= {"kubelet/kubelet.log"}
    # what could be read is stored (inflated, redacted, compressed again); bytes past the failure are not
    # stored, since they were never checked for secrets
    stored = gzip.decompress((tmp_path / "out/var_log/aws-routed-eni/ipamd-1.log.gz").read_bytes())
    assert len(stored) <= 1024**2
    assert set(stored) <= {ord("a")}
    partial = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(broken)
    assert gzip.decompress((tmp_path / "out/var_log/messages-1.gz").read_bytes()) == partial
    assert sink.written[-1] == "kubelet/kubelet.log"


def test_uncompressed_tar_and_streams_are_accepted(tmp_path: Path) -> None:
    plain = make_tar(tmp_path / "b.tar", [regular("./kubelet/kubelet.log", KUBELET_LINE)], mode="w")
    assert index_bundle(plain).findings
    with plain.open("rb") as stream:
        assert index_bundle(stream, bundle_id="b-1").bundle["id"] == "b-1"
