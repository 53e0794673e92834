"""Build the Lambda deployment package: one reproducible zip for every function.

All five functions (nodelog, findings, capture, runbooks, indexer) run the same `eksdiag` package
with a different handler, so they share one zip: one artifact to build, hash and upload, and one
`source_code_hash` in Terraform. Lambda imports only what a handler touches, so the unused tool
modules cost a little disk and nothing at cold start.

The zip holds:
- the `eksdiag` package from handlers/eksdiag (Python sources, schemas/**/*.json,
  runbooks/*.md, py.typed), without caches or compiled files;
- the third-party runtime dependencies from pyproject.toml, as wheels for the Lambda platform
  (manylinux, the chosen architecture, CPython 3.12 or 3.13) fetched with
  `pip download --only-binary=:all: --platform ...`, never built on this machine, unpacked at the
  zip root. boto3 comes with the Lambda runtime; Powertools comes from its public layer.

Reproducible: entries sorted by name, every timestamp 1980-01-01 00:00:00, modes 0644 (0755 for
files that were executable, such as shared libraries), no directory entries, fixed compression.
The same inputs give a byte-identical zip, so `terraform plan` stays clean between builds.

Writes <out>/lambda-<arch>.zip and records it in <out>/manifest.json (architecture, python
version, sha256, the base64 SHA-256 Terraform's filebase64sha256() computes, size, entry count and
every wheel used, with its version and sha256). The Terraform module reads that manifest to refuse a
lambda_runtime or lambda_architecture the zip cannot run on.

The module ships its packages in packages/ (one per architecture, CPython 3.12), so a registry
consumer applies it with no build step:
- `--ship` (`make package`) rebuilds both into packages/ from the current sources, keeping the
  wheel versions pinned in packages/manifest.json (a requirement added to pyproject.toml resolves
  to its newest wheel for each platform and is pinned from then on);
- `--ship --upgrade` (`make package-upgrade`) resolves every wheel anew;
- `--check` rebuilds both into a temporary folder from the pinned wheels (each must have the sha256
  the manifest records) and fails unless the result is byte-identical to packages/: run in the tests,
  it catches a handler or dependency change whose packages were not regenerated.

Usage:
    python scripts/package.py [--arch arm64|x86_64] [--python-version 3.12] [--out dist]
                              [--wheel-dir DIR | --no-deps] [--source handlers/eksdiag]
    python scripts/package.py --ship [--upgrade]
    python scripts/package.py --check
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import stat
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
EXECUTABLE_MODE = 0o755
COMPRESS_LEVEL = 9

# Provided by the Lambda Python runtime or by the Powertools layer: never packaged.
PROVIDED_BY_RUNTIME = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"})
PROVIDED_BY_LAYER = frozenset({"aws-lambda-powertools", "aws-xray-sdk", "wrapt"})

ARCHITECTURES = {"arm64": "aarch64", "x86_64": "x86_64"}
# Lambda's python3.12 and python3.13 runtimes run on Amazon Linux 2023: glibc 2.34.
LAMBDA_GLIBC = (2, 34)
MANYLINUX_TAGS = ("manylinux2014", "manylinux_2_17", "manylinux_2_28", "manylinux_2_34")
LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}

# The packages shipped inside the module (packages/), and the command that regenerates them.
SHIPPED_DIR = ROOT / "packages"
SHIPPED_ARCHITECTURES = ("arm64", "x86_64")
SHIPPED_PYTHON = "3.12"
REGENERATE = "make package"

# What belongs to the eksdiag package besides Python sources.
PACKAGE_DATA = ("schemas/**/*.json", "runbooks/*.md", "py.typed")
EXCLUDED_PARTS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", "tests"})


class PackageError(Exception):
    """The package cannot be built as asked (wrong wheels, name clashes, pip failures)."""


@dataclass(frozen=True)
class Entry:
    """One file of the zip: its name inside the archive, its bytes and whether it is executable."""

    name: str
    data: bytes
    executable: bool


@dataclass(frozen=True)
class Wheel:
    """A wheel file and the parts of its name that say where it runs."""

    path: Path
    distribution: str
    version: str
    python_tag: str
    abi_tag: str
    platform_tag: str

    @classmethod
    def from_path(cls, path: Path) -> Wheel:
        parts = path.name[: -len(".whl")].split("-")
        if len(parts) not in (5, 6):
            raise PackageError(f"{path.name}: not a wheel file name")
        distribution, version = parts[0], parts[1]
        python_tag, abi_tag, platform_tag = parts[-3:]
        return cls(path, distribution, version, python_tag, abi_tag, platform_tag)


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runs_on_lambda(platform: str, machine: str) -> bool:
    """True for a manylinux platform tag of this machine that glibc 2.34 satisfies."""
    if not platform.endswith("_" + machine):
        return False
    base = platform[: -len(machine) - 1]
    if base in LEGACY_MANYLINUX:
        return LEGACY_MANYLINUX[base] <= LAMBDA_GLIBC
    match = re.fullmatch(r"manylinux_(\d+)_(\d+)", base)
    return bool(match) and (int(match.group(1)), int(match.group(2))) <= LAMBDA_GLIBC


def check_wheel_platform(wheel: Wheel, arch: str, python_version: str) -> None:
    """Refuse wheels that would not load on the Lambda runtime for this architecture and Python."""
    machine = ARCHITECTURES[arch]
    cp = "cp" + python_version.replace(".", "")
    platforms = wheel.platform_tag.split(".")
    if platforms != ["any"] and not any(runs_on_lambda(p, machine) for p in platforms):
        raise PackageError(
            f"{wheel.path.name}: platform {wheel.platform_tag} does not run on Lambda {arch} "
            f"(need any or manylinux ..._{machine})"
        )
    pythons = wheel.python_tag.split(".")
    if wheel.abi_tag == "abi3":
        ok = any(p.startswith("cp3") and int(p[3:] or 0) <= int(cp[3:]) for p in pythons)
    elif wheel.abi_tag == "none":
        ok = any(p in ("py3", "py2.py3", cp) or p.startswith("py3") for p in pythons)
    else:
        ok = cp in pythons and wheel.abi_tag.startswith(cp)
    if not ok:
        raise PackageError(
            f"{wheel.path.name}: built for {wheel.python_tag}-{wheel.abi_tag}, not CPython {python_version}"
        )


def runtime_requirements(pyproject: Path) -> list[str]:
    """The [project].dependencies of pyproject.toml: what the handlers import at run time."""
    with pyproject.open("rb") as fh:
        project = tomllib.load(fh)["project"]
    requirements = []
    for spec in project.get("dependencies", []):
        name = re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0]
        if _normalize(name) not in PROVIDED_BY_RUNTIME | PROVIDED_BY_LAYER:
            requirements.append(spec)
    return requirements


def requirements_for(requirements: list[str], arch: str, python_version: str) -> list[str]:
    """The requirements that apply on Lambda for arch and python_version, markers evaluated there.

    pip download --platform evaluates markers against the machine that runs it, not the target,
    so a requirement such as ``x; platform_machine == "x86_64"`` is decided here instead."""
    environment = {
        "platform_machine": ARCHITECTURES[arch],
        "platform_system": "Linux",
        "sys_platform": "linux",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "python_version": python_version,
        "python_full_version": f"{python_version}.0",
    }
    kept = []
    for spec in requirements:
        requirement = Requirement(spec)
        if requirement.marker is None or requirement.marker.evaluate(environment):
            requirement.marker = None
            kept.append(str(requirement))
    return kept


def download_wheels(
    requirements: list[str], arch: str, python_version: str, dest: Path, constraints: list[str] | None = None
) -> None:
    """Fetch wheels (and their dependencies) for the Lambda platform with pip; never build."""
    machine = ARCHITECTURES[arch]
    command = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--quiet"]
    command += ["--only-binary=:all:", "--implementation", "cp", "--python-version", python_version]
    for tag in MANYLINUX_TAGS:
        command += ["--platform", f"{tag}_{machine}"]
    if constraints:
        pins = dest.parent / f"{dest.name}-constraints.txt"
        pins.write_text("".join(f"{c}\n" for c in constraints))
        command += ["--constraint", str(pins)]
    command += ["--dest", str(dest), *requirements_for(requirements, arch, python_version)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PackageError(f"pip download failed:\n{result.stderr.strip()}")


def _excluded(relative: PurePosixPath) -> bool:
    return any(part in EXCLUDED_PARTS for part in relative.parts) or relative.suffix in (".pyc", ".pyo")


def source_entries(source: Path) -> Iterator[Entry]:
    """The eksdiag package: Python sources and its data files, under eksdiag/."""
    files: set[Path] = set(source.rglob("*.py"))
    for pattern in PACKAGE_DATA:
        files.update(source.glob(pattern))
    for path in files:
        relative = PurePosixPath(path.relative_to(source).as_posix())
        if path.is_file() and not _excluded(relative):
            executable = bool(path.stat().st_mode & stat.S_IXUSR)
            yield Entry(f"{source.name}/{relative}", path.read_bytes(), executable)


def _wheel_member_name(name: str) -> str | None:
    """Where a wheel member goes in the zip: .data/purelib and platlib unpack to the root."""
    match = re.match(r"^[^/]+\.data/(purelib|platlib|scripts|headers|data)/(.*)$", name)
    if match:
        return match.group(2) if match.group(1) in ("purelib", "platlib") else None
    return name


def wheel_entries(wheel: Wheel) -> Iterator[Entry]:
    """The files of one wheel, as they would be installed into site-packages."""
    with zipfile.ZipFile(wheel.path) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = _wheel_member_name(info.filename)
            if name is None or _excluded(PurePosixPath(name)):
                continue
            unix_mode = info.external_attr >> 16
            executable = bool(unix_mode & stat.S_IXUSR) or name.endswith(".so") or ".so." in name
            yield Entry(name, archive.read(info), executable)


def write_zip(entries: Iterable[Entry], target: Path) -> int:
    """Write entries sorted by name with fixed metadata; return the number of entries."""
    by_name: dict[str, Entry] = {}
    for entry in entries:
        if entry.name in by_name and by_name[entry.name].data != entry.data:
            raise PackageError(f"two different files would be packaged as {entry.name}")
        by_name[entry.name] = entry
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as archive:
        for name in sorted(by_name):
            entry = by_name[name]
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE_TIME)
            info.create_system = 3  # Unix, so external_attr carries the mode
            mode = EXECUTABLE_MODE if entry.executable else FILE_MODE
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, entry.data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL)
    partial.replace(target)
    return len(by_name)


def file_digests(path: Path) -> tuple[str, str]:
    """Hex SHA-256 and the base64 form Terraform's filebase64sha256() gives."""
    digest = hashlib.sha256(path.read_bytes()).digest()
    return digest.hex(), base64.b64encode(digest).decode()


def update_manifest(manifest: Path, record: dict[str, object]) -> None:
    """Add or replace this package's record in dist/manifest.json, keyed by file name."""
    packages: list[dict[str, object]] = []
    if manifest.exists():
        packages = [p for p in json.loads(manifest.read_text())["packages"] if p["file"] != record["file"]]
    packages.append(record)
    packages.sort(key=lambda p: str(p["file"]))
    manifest.write_text(json.dumps({"schema": "eksdiag.package/1", "packages": packages}, indent=2) + "\n")


def build(
    *,
    source: Path,
    out: Path,
    arch: str,
    python_version: str,
    wheel_dir: Path | None,
    no_deps: bool,
    pyproject: Path,
    constraints: list[str] | None = None,
) -> dict[str, object]:
    """Build <out>/lambda-<arch>.zip and record it in the manifest; return the manifest record.

    constraints pins the versions pip may pick (``name==version``), as recorded for a previous build."""
    if arch not in ARCHITECTURES:
        raise PackageError(f"unknown architecture {arch!r}: use one of {sorted(ARCHITECTURES)}")
    if not (source / "__init__.py").is_file():
        raise PackageError(f"{source} is not a Python package")

    with tempfile.TemporaryDirectory(prefix="eksdiag-wheels-") as scratch:
        wheels: list[Wheel] = []
        if not no_deps:
            directory = wheel_dir
            if directory is None:
                directory = Path(scratch) / "wheels"
                directory.mkdir()
                download_wheels(runtime_requirements(pyproject), arch, python_version, directory, constraints)
            wheels = sorted((Wheel.from_path(p) for p in directory.glob("*.whl")), key=lambda w: w.path.name)
            wheels = [w for w in wheels if _normalize(w.distribution) not in PROVIDED_BY_RUNTIME | PROVIDED_BY_LAYER]
            for wheel in wheels:
                check_wheel_platform(wheel, arch, python_version)

        entries: list[Entry] = list(source_entries(source))
        for wheel in wheels:
            entries.extend(wheel_entries(wheel))
        target = out / f"lambda-{arch}.zip"
        count = write_zip(entries, target)

        record: dict[str, object] = {
            "file": target.name,
            "architecture": arch,
            "python": python_version,
            "sha256": "",
            "base64sha256": "",
            "size": target.stat().st_size,
            "entries": count,
            "dependencies": "none (--no-deps)" if no_deps else "wheels",
            "wheels": [
                {
                    "file": w.path.name,
                    "name": w.distribution,
                    "version": w.version,
                    "sha256": hashlib.sha256(w.path.read_bytes()).hexdigest(),
                }
                for w in wheels
            ],
        }
    record["sha256"], record["base64sha256"] = file_digests(target)
    update_manifest(out / "manifest.json", record)
    return record


def _shown(path: Path) -> str:
    """path relative to the repository when it is inside it, for messages."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def read_manifest(directory: Path) -> dict[str, dict[str, object]]:
    """The records of <directory>/manifest.json by file name (empty when there is none)."""
    manifest = directory / "manifest.json"
    if not manifest.exists():
        return {}
    return {str(p["file"]): p for p in json.loads(manifest.read_text())["packages"]}


def pins(record: dict[str, object] | None) -> list[str]:
    """``name==version`` of every wheel a manifest record used."""
    wheels = record.get("wheels", []) if record else []
    assert isinstance(wheels, list)
    return [f"{w['name']}=={w['version']}" for w in wheels]


def _build_shipped(arch: str, out: Path, constraints: list[str], source: Path | None) -> dict[str, object]:
    """One of the shipped packages (CPython 3.12, wheels from PyPI) built into out."""
    return build(
        source=source or ROOT / "handlers" / "eksdiag",
        out=out,
        arch=arch,
        python_version=SHIPPED_PYTHON,
        wheel_dir=None,
        no_deps=False,
        pyproject=ROOT / "pyproject.toml",
        constraints=constraints,
    )


def ship(out: Path = SHIPPED_DIR, *, upgrade: bool = False, source: Path | None = None) -> list[dict[str, object]]:
    """Build the packages the module ships (every architecture, CPython 3.12) into out.

    Wheel versions stay those pinned in out/manifest.json unless upgrade is set."""
    previous = read_manifest(out)
    records = []
    for arch in SHIPPED_ARCHITECTURES:
        constraints = [] if upgrade else pins(previous.get(f"lambda-{arch}.zip"))
        try:
            records.append(_build_shipped(arch, out, constraints, source))
        except PackageError as error:
            if constraints:
                raise PackageError(
                    f"{error}\nThe wheel versions pinned in {out / 'manifest.json'} no longer satisfy "
                    "pyproject.toml: run `make package-upgrade` to resolve them anew."
                ) from error
            raise
    return records


def check(shipped: Path = SHIPPED_DIR, *, source: Path | None = None) -> list[str]:
    """Why the shipped packages differ from a rebuild with their pinned wheels (empty: identical)."""
    expected = read_manifest(shipped)
    problems = []
    with tempfile.TemporaryDirectory(prefix="eksdiag-package-check-") as scratch:
        rebuilt = Path(scratch)
        for arch in SHIPPED_ARCHITECTURES:
            name = f"lambda-{arch}.zip"
            if name not in expected or not (shipped / name).is_file():
                problems.append(f"{_shown(shipped / name)} is missing")
                continue
            record = _build_shipped(arch, rebuilt, pins(expected[name]), source)
            if record["wheels"] != expected[name].get("wheels"):
                problems.append(
                    f"{name}: the wheels of a rebuild differ from those {_shown(shipped)}/manifest.json records"
                )
            if (rebuilt / name).read_bytes() != (shipped / name).read_bytes():
                problems.append(f"{_shown(shipped / name)} differs from a rebuild of the current sources")
            elif record != expected[name]:
                problems.append(f"{_shown(shipped)}/manifest.json: the record of {name} differs from a rebuild")
        extra = sorted(set(expected) - {f"lambda-{a}.zip" for a in SHIPPED_ARCHITECTURES})
        problems.extend(f"{_shown(shipped)}/manifest.json records {name}, which is not shipped" for name in extra)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", default="arm64", choices=sorted(ARCHITECTURES), help="Lambda architecture")
    parser.add_argument("--python-version", default="3.12", choices=["3.12", "3.13"], help="Lambda runtime")
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output directory")
    parser.add_argument("--source", type=Path, default=ROOT / "handlers" / "eksdiag", help="the eksdiag package")
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml", help="where the dependencies are")
    deps = parser.add_mutually_exclusive_group()
    deps.add_argument("--wheel-dir", type=Path, help="use these Lambda-platform wheels instead of pip download")
    deps.add_argument("--no-deps", action="store_true", help="package only our code (tests, offline)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--ship", action="store_true", help=f"rebuild the packages the module ships in {SHIPPED_DIR}")
    mode.add_argument("--check", action="store_true", help=f"fail unless {SHIPPED_DIR} equals a rebuild")
    parser.add_argument("--upgrade", action="store_true", help="with --ship: resolve every wheel version anew")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = check()
            for problem in problems:
                print(f"package: {problem}", file=sys.stderr)
            if problems:
                print(
                    f"package: the shipped Lambda packages are out of date: run `{REGENERATE}` and commit packages/",
                    file=sys.stderr,
                )
                return 1
            print(f"{_shown(SHIPPED_DIR)}: identical to a rebuild")
            return 0
        if args.ship:
            for record in ship(upgrade=args.upgrade):
                shipped = _shown(SHIPPED_DIR / str(record["file"]))
                print(f"{shipped}  {record['entries']} entries  sha256 {record['sha256']}")
            return 0
        record = build(
            source=args.source,
            out=args.out,
            arch=args.arch,
            python_version=args.python_version,
            wheel_dir=args.wheel_dir,
            no_deps=args.no_deps,
            pyproject=args.pyproject,
        )
    except PackageError as error:
        print(f"package: {error}", file=sys.stderr)
        return 1
    print(f"{args.out / str(record['file'])}  {record['entries']} entries  sha256 {record['sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
