"""Reading the members of a collected bundle (a .tar.gz) in the SSM tests."""

from __future__ import annotations

import tarfile
from pathlib import Path


def member_names(archive: Path) -> list[str]:
    with tarfile.open(archive) as tar:
        return tar.getnames()


def member_text(archive: Path, name: str) -> str:
    """The text of the regular file ``name`` in ``archive``."""
    with tarfile.open(archive) as tar:
        member = tar.extractfile(name)
        assert member is not None
        return member.read().decode()
