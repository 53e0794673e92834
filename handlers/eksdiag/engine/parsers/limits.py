"""Kernel limits from ``sysctls/sysctl_all.txt`` (parsed by ``netconf.parse_sysctl``).

``kernel.pid_max`` caps PID numbers (every thread takes one), ``kernel.threads-max`` the number of
tasks; ``fs.file-nr`` reads ``<allocated> <free> <max>`` (tab-separated) and its third field is the
system-wide open-file limit (``fs.file-max``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SysctlValue:
    value: int
    line: int
    text: str


@dataclass(frozen=True)
class KernelLimits:
    pid_max: SysctlValue | None = None
    threads_max: SysctlValue | None = None
    file_nr: tuple[int, int, int] | None = None
    """``fs.file-nr``: allocated handles, allocated-but-unused handles, maximum."""
    file_nr_line: SysctlValue | None = None
    file_max: SysctlValue | None = None
    lines: dict[str, SysctlValue] = field(default_factory=dict)


def _int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and len(text) <= 20 else None


def kernel_limits(sysctl: Mapping[str, Any] | None) -> KernelLimits:
    """The limits a ``sysctl`` artifact holds; each missing or malformed one is ``None``."""
    if not sysctl:
        return KernelLimits()
    values = sysctl.get("values") or {}
    numbers = sysctl.get("lines") or {}
    raw = sysctl.get("raw") or {}

    def entry(key: str, value: int | None) -> SysctlValue | None:
        if value is None or key not in numbers:
            return None
        return SysctlValue(value, int(numbers[key]), str(raw.get(key) or f"{key} = {values[key]}"))

    def scalar(key: str) -> SysctlValue | None:
        text = values.get(key)
        return entry(key, _int(text)) if isinstance(text, str) else None

    file_nr: tuple[int, int, int] | None = None
    file_nr_line: SysctlValue | None = None
    text = values.get("fs.file-nr")
    if isinstance(text, str):
        parts = [_int(p) for p in text.split()]
        if len(parts) == 3 and all(p is not None for p in parts):
            file_nr = (parts[0], parts[1], parts[2])  # type: ignore[assignment]
            file_nr_line = entry("fs.file-nr", parts[0])
    found = {
        "kernel.pid_max": scalar("kernel.pid_max"),
        "kernel.threads-max": scalar("kernel.threads-max"),
        "fs.file-max": scalar("fs.file-max"),
    }
    return KernelLimits(
        pid_max=found["kernel.pid_max"],
        threads_max=found["kernel.threads-max"],
        file_nr=file_nr,
        file_nr_line=file_nr_line,
        file_max=found["fs.file-max"],
        lines={k: v for k, v in found.items() if v is not None},
    )
