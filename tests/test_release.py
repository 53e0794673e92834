"""The version convention: SemVer, a Keep a Changelog CHANGELOG.md whose latest release is the
version in pyproject.toml, and the Apache-2.0 LICENSE pyproject.toml declares."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEMVER = r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"


def _releases() -> list[tuple[str, str]]:
    return re.findall(rf"^## ({SEMVER}) - (\d{{4}}-\d\d-\d\d)$", (ROOT / "CHANGELOG.md").read_text(), re.MULTILINE)


def test_changelog_has_an_unreleased_section_before_its_releases() -> None:
    headings = re.findall(r"^## (.+)$", (ROOT / "CHANGELOG.md").read_text(), re.MULTILINE)
    assert headings[0] == "Unreleased"
    assert all(re.fullmatch(rf"{SEMVER} - \d{{4}}-\d\d-\d\d", h) for h in headings[1:]), headings


def test_latest_release_is_the_package_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert _releases()[0][0] == version


def test_releases_are_newest_first() -> None:
    versions = [tuple(int(p) for p in r[0].split(".")) for r in _releases()]
    assert versions == sorted(versions, reverse=True)


def test_license_is_the_apache_2_0_text_pyproject_declares() -> None:
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text()
    assert text.lstrip().startswith("Apache License\n                           Version 2.0, January 2004")
    assert "END OF TERMS AND CONDITIONS" in text
