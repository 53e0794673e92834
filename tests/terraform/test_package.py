"""scripts/package.py: reproducible Lambda zips built from our code and Lambda-platform wheels.

Offline: dependencies come from wheels these tests write themselves (--wheel-dir), or are left out
(--no-deps).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import zipfile
from pathlib import Path

import pytest

from .tf_support import ROOT, load_script

package = load_script("package")


def write_source_tree(base: Path) -> Path:
    """A small eksdiag package with the kinds of files the real one has, and some it must drop."""
    src = base / "eksdiag"
    files = {
        "__init__.py": "VERSION = '0'\n",
        "py.typed": "",
        "lambda_entry/__init__.py": "",
        "lambda_entry/nodelog.py": "def handler(event, context):\n    return {}\n",
        "schemas/nodelog/collect.json": '{"name": "collect"}\n',
        "schemas/gateway/nodelog.json": '[{"name": "collect"}]\n',
        "runbooks/dns.md": "# DNS\n",
        "runbooks/notes.txt": "not packaged\n",
        "__pycache__/x.cpython-311.pyc": "bytecode",
        "engine/__pycache__/y.cpython-311.pyc": "bytecode",
        "engine/__init__.py": "",
        "engine/model.pyc": "stray bytecode",
    }
    for name, text in files.items():
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (src / "lambda_entry" / "nodelog.py").chmod(0o600)
    return src


def write_wheel(directory: Path, filename: str, members: dict[str, tuple[bytes, int]]) -> Path:
    """A wheel file with the given members (name -> (bytes, unix mode))."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / filename
    with zipfile.ZipFile(path, "w") as archive:
        for name, (data, mode) in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 5, 6, 7, 8, 9))
            info.external_attr = (stat.S_IFREG | mode) << 16
            archive.writestr(info, data)
    return path


def build(source: Path, out: Path, **kwargs: object) -> dict[str, object]:
    options: dict[str, object] = {
        "arch": "arm64",
        "python_version": "3.12",
        "wheel_dir": None,
        "no_deps": True,
        "pyproject": ROOT / "pyproject.toml",
    }
    options.update(kwargs)
    return package.build(source=source, out=out, **options)


def test_same_source_gives_byte_identical_zip_whatever_the_file_times(tmp_path: Path) -> None:
    src = write_source_tree(tmp_path / "a")
    build(src, tmp_path / "out1")
    first = (tmp_path / "out1" / "lambda-arm64.zip").read_bytes()

    for path in src.rglob("*"):
        os.utime(path, (1_900_000_000, 1_900_000_000))
    build(src, tmp_path / "out2")

    assert (tmp_path / "out2" / "lambda-arm64.zip").read_bytes() == first


def test_changed_source_changes_the_zip(tmp_path: Path) -> None:
    src = write_source_tree(tmp_path / "a")
    first = build(src, tmp_path / "out1")
    (src / "runbooks" / "dns.md").write_text("# DNS, revised\n")
    second = build(src, tmp_path / "out2")
    assert first["sha256"] != second["sha256"]


def test_entries_are_sorted_with_fixed_timestamps_and_modes(tmp_path: Path) -> None:
    src = write_source_tree(tmp_path)
    wheels = tmp_path / "wheels"
    write_wheel(
        wheels,
        "fastthing-1.0-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
        {
            "fastthing/__init__.py": (b"", 0o664),
            "fastthing/_speed.cpython-312-aarch64-linux-gnu.so": (b"\x7fELF", 0o775),
            "fastthing-1.0.dist-info/METADATA": (b"Name: fastthing\n", 0o644),
        },
    )
    build(src, tmp_path / "out", no_deps=False, wheel_dir=wheels)

    with zipfile.ZipFile(tmp_path / "out" / "lambda-arm64.zip") as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in infos)
    modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in infos}
    assert modes["fastthing/_speed.cpython-312-aarch64-linux-gnu.so"] == 0o755
    assert modes["eksdiag/lambda_entry/nodelog.py"] == 0o644
    assert set(modes.values()) == {0o644, 0o755}
    assert not any(name.endswith("/") for name in names), "no directory entries"


def test_package_data_is_included_and_caches_are_not(tmp_path: Path) -> None:
    src = write_source_tree(tmp_path)
    build(src, tmp_path / "out")
    with zipfile.ZipFile(tmp_path / "out" / "lambda-arm64.zip") as archive:
        names = set(archive.namelist())
    assert {
        "eksdiag/__init__.py",
        "eksdiag/py.typed",
        "eksdiag/lambda_entry/nodelog.py",
        "eksdiag/schemas/nodelog/collect.json",
        "eksdiag/schemas/gateway/nodelog.json",
        "eksdiag/runbooks/dns.md",
    } <= names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert "eksdiag/runbooks/notes.txt" not in names


def test_wheels_are_unpacked_as_installed(tmp_path: Path) -> None:
    src = write_source_tree(tmp_path)
    wheels = tmp_path / "wheels"
    write_wheel(
        wheels,
        "purething-2.0-py3-none-any.whl",
        {
            "purething/__init__.py": (b"X = 1\n", 0o644),
            "purething-2.0.data/purelib/purething_extra.py": (b"Y = 2\n", 0o644),
            "purething-2.0.data/scripts/purething-cli": (b"#!python\n", 0o755),
            "purething-2.0.dist-info/METADATA": (b"Name: purething\n", 0o644),
        },
    )
    record = build(src, tmp_path / "out", no_deps=False, wheel_dir=wheels)
    with zipfile.ZipFile(tmp_path / "out" / "lambda-arm64.zip") as archive:
        names = set(archive.namelist())
        assert archive.read("purething/__init__.py") == b"X = 1\n"
    assert {"purething/__init__.py", "purething_extra.py", "purething-2.0.dist-info/METADATA"} <= names
    assert not [n for n in names if "purething-cli" in n]
    assert [w["name"] for w in record["wheels"]] == ["purething"]


@pytest.mark.parametrize(
    ("arch", "filename"),
    [
        ("arm64", "native-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"),
        ("x86_64", "native-1.0-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"),
        ("arm64", "native-1.0-cp311-cp311-manylinux_2_17_aarch64.whl"),
        ("arm64", "native-1.0-cp312-cp312-macosx_11_0_arm64.whl"),
        ("arm64", "native-1.0-cp312-cp312-linux_aarch64.whl"),
        ("arm64", "native-1.0-cp312-cp312-manylinux_2_39_aarch64.whl"),
        ("arm64", "native-1.0-cp312-cp312-musllinux_1_2_aarch64.whl"),
    ],
    ids=[
        "x86_64-wheel-for-arm64",
        "aarch64-wheel-for-x86_64",
        "other-python",
        "macos",
        "local-build-not-manylinux",
        "glibc-newer-than-lambda",
        "musl",
    ],
)
def test_wheels_that_would_not_load_on_lambda_are_refused(tmp_path: Path, arch: str, filename: str) -> None:
    src = write_source_tree(tmp_path)
    wheels = tmp_path / "wheels"
    write_wheel(wheels, filename, {"native/__init__.py": (b"", 0o644)})
    with pytest.raises(package.PackageError, match=filename.replace(".", r"\.")):
        build(src, tmp_path / "out", arch=arch, no_deps=False, wheel_dir=wheels)


@pytest.mark.parametrize(
    "filename",
    [
        "native-1.0-cp312-cp312-manylinux_2_28_aarch64.whl",
        "native-1.0-1-cp312-cp312-manylinux_2_26_aarch64.manylinux_2_28_aarch64.whl",
        "native-1.0-cp39-abi3-manylinux2014_aarch64.whl",
        "native-1.0-py3-none-any.whl",
    ],
    ids=["manylinux_2_28", "build-tag-and-two-platforms", "stable-abi", "pure-python"],
)
def test_wheels_for_lambda_arm64_are_accepted(tmp_path: Path, filename: str) -> None:
    src = write_source_tree(tmp_path)
    wheels = tmp_path / "wheels"
    write_wheel(wheels, filename, {"native/__init__.py": (b"", 0o644)})
    record = build(src, tmp_path / "out", no_deps=False, wheel_dir=wheels)
    assert [w["file"] for w in record["wheels"]] == [filename]


def test_runtime_and_layer_distributions_are_not_packaged(tmp_path: Path) -> None:
    src = write_source_tree(tmp_path)
    wheels = tmp_path / "wheels"
    write_wheel(wheels, "boto3-1.40.0-py3-none-any.whl", {"boto3/__init__.py": (b"", 0o644)})
    write_wheel(
        wheels, "aws_lambda_powertools-3.20.0-py3-none-any.whl", {"aws_lambda_powertools/__init__.py": (b"", 0o644)}
    )
    build(src, tmp_path / "out", no_deps=False, wheel_dir=wheels)
    with zipfile.ZipFile(tmp_path / "out" / "lambda-arm64.zip") as archive:
        names = archive.namelist()
    assert not [n for n in names if n.startswith(("boto3/", "aws_lambda_powertools/"))]


def test_two_wheels_writing_the_same_file_differently_are_refused(tmp_path: Path) -> None:
    src = write_source_tree(tmp_path)
    wheels = tmp_path / "wheels"
    write_wheel(wheels, "one-1.0-py3-none-any.whl", {"shared.py": (b"A = 1\n", 0o644)})
    write_wheel(wheels, "two-1.0-py3-none-any.whl", {"shared.py": (b"A = 2\n", 0o644)})
    with pytest.raises(package.PackageError, match=r"shared\.py"):
        build(src, tmp_path / "out", no_deps=False, wheel_dir=wheels)


def test_manifest_records_the_zip_hashes_terraform_compares(tmp_path: Path) -> None:
    src = write_source_tree(tmp_path)
    out = tmp_path / "out"
    build(src, out, arch="arm64")
    build(src, out, arch="x86_64")
    manifest = json.loads((out / "manifest.json").read_text())
    assert [p["file"] for p in manifest["packages"]] == ["lambda-arm64.zip", "lambda-x86_64.zip"]
    for record in manifest["packages"]:
        data = (out / record["file"]).read_bytes()
        assert record["sha256"] == hashlib.sha256(data).hexdigest()
        # Terraform's filebase64sha256(), the Lambda source_code_hash.
        assert record["base64sha256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
        assert record["size"] == len(data)


def test_runtime_requirements_come_from_pyproject_without_runtime_or_layer_packages(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "x"\ndependencies = ["google-re2>=1.1", "boto3>=1.34", '
        '"aws-lambda-powertools[tracer]>=3", "PyYAML>=6", "isal>=1.7; python_version >= \'3.11\'"]\n'
    )
    assert package.runtime_requirements(pyproject) == [
        "google-re2>=1.1",
        "PyYAML>=6",
        "isal>=1.7; python_version >= '3.11'",
    ]


def test_cli_packages_the_real_eksdiag_package(tmp_path: Path) -> None:
    assert package.main(["--no-deps", "--out", str(tmp_path)]) == 0
    with zipfile.ZipFile(tmp_path / "lambda-arm64.zip") as archive:
        names = set(archive.namelist())
    assert "eksdiag/__init__.py" in names
    real = ROOT / "handlers" / "eksdiag"
    expected_json = {f"eksdiag/{p.relative_to(real).as_posix()}" for p in real.glob("schemas/**/*.json")}
    assert expected_json <= names
    assert all(n.startswith("eksdiag/") for n in names)


def test_cli_reports_a_missing_package_as_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert package.main(["--no-deps", "--out", str(tmp_path), "--source", str(tmp_path / "nothing")]) == 1
    assert "not a Python package" in capsys.readouterr().err


def test_requirements_are_decided_for_the_lambda_platform_not_this_machine() -> None:
    requirements = [
        "pyyaml>=6",
        "hyperscan>=0.9; platform_machine == 'x86_64'",
        "hyperscan==0.7.23; platform_machine == 'aarch64'",
        "tomli>=2; python_version < '3.11'",
    ]
    assert package.requirements_for(requirements, "arm64", "3.12") == ["pyyaml>=6", "hyperscan==0.7.23"]
    assert package.requirements_for(requirements, "x86_64", "3.12") == ["pyyaml>=6", "hyperscan>=0.9"]


def test_pins_are_the_wheel_versions_a_manifest_records() -> None:
    record = {"wheels": [{"name": "google_re2", "version": "1.1.20251105"}, {"name": "pyyaml", "version": "6.0.4"}]}
    assert package.pins(record) == ["google_re2==1.1.20251105", "pyyaml==6.0.4"]
    assert package.pins(None) == []


SHIPPED = ROOT / "packages"


def test_shipped_manifest_records_what_terraform_checks() -> None:
    manifest = json.loads((SHIPPED / "manifest.json").read_text())
    records = {p["file"]: p for p in manifest["packages"]}
    assert sorted(records) == ["lambda-arm64.zip", "lambda-x86_64.zip"]
    for arch in ("arm64", "x86_64"):
        record = records[f"lambda-{arch}.zip"]
        assert (record["architecture"], record["python"]) == (arch, "3.12")
        data = (SHIPPED / record["file"]).read_bytes()
        assert record["base64sha256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
        machine = {"arm64": "aarch64", "x86_64": "x86_64"}[arch]
        native = [w["file"] for w in record["wheels"] if not w["file"].endswith("-none-any.whl")]
        assert native and all(machine in name and "cp312" in name for name in native), native


@pytest.mark.slow
def test_shipped_packages_are_identical_to_a_rebuild() -> None:
    """Rebuilt from handlers/eksdiag and the pinned Lambda-platform wheels (pip download from PyPI)."""
    problems = package.check()
    assert problems == [], "\n".join([*problems, f"run `{package.REGENERATE}` and commit packages/"])


@pytest.mark.slow
def test_check_names_a_package_the_sources_no_longer_match(tmp_path: Path) -> None:
    shipped = tmp_path / "packages"
    shipped.mkdir()
    for name in ("lambda-arm64.zip", "lambda-x86_64.zip", "manifest.json"):
        (shipped / name).write_bytes((SHIPPED / name).read_bytes())
    source = tmp_path / "eksdiag"
    for path in (ROOT / "handlers" / "eksdiag").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            target = source / path.relative_to(ROOT / "handlers" / "eksdiag")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    (source / "tools" / "new_tool.py").write_text("VALUE = 1\n")
    problems = package.check(shipped, source=source)
    assert len(problems) == 2 and all("differs from a rebuild of the current sources" in p for p in problems)
