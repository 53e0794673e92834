"""``gpu/nvidia-bug-report.log(.gz)``: the ``nvidia-smi --query`` snapshot inside NVIDIA's bug report.

eks-log-collector.sh runs ``nvidia-bug-report.sh --output-file gpu/nvidia-bug-report.log`` on GPU
AMIs; the script gzips its output (``.log.gz``) and writes sections separated by lines of
underscores: kernel messages, ``dmesg``, ``/proc`` files, and ``nvidia-smi --query`` (the same as
``nvidia-smi -q``): a ``==============NVSMI LOG==============`` banner, then per GPU a
``GPU 00000000:10:1C.0`` line and ``Key : Value`` lines indented four spaces per level under
section headings (``ECC Errors`` > ``Volatile``, ``Remapped Rows``, ``Clocks Event Reasons`` (named
``Clocks Throttle Reasons`` before driver 535), ``PCI``, ``Fabric``).

The parser keeps, per GPU, what the EKS Node Monitoring Agent learns from DCGM policies and fields:
uncorrectable ECC errors since the driver loaded, pending or failed row remapping and page
retirement, thermal and power-brake slowdowns active at collection, PCIe replays, fabric state.
Everything else in the report is skipped line by line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from eksdiag.engine.parsers.base import Line, clip

MAX_GPUS = 64

_BANNER = "NVSMI LOG"
_GPU = re.compile(r"GPU ([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-7])\s*$")
_KEY_VALUE = re.compile(r"( *)(\S(?:.*?\S)?)\s+: ?(.*?)\s*$")
_HEADING = re.compile(r"( *)(\S(?:.*?\S)?)\s*$")
_CLOCK_REASONS = ("Clocks Event Reasons", "Clocks Throttle Reasons")
_SLOWDOWNS = ("HW Thermal Slowdown", "SW Thermal Slowdown", "HW Power Brake Slowdown")


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) <= 20 else None


def _new_gpu(bus: str, number: int) -> dict[str, Any]:
    return {
        "bus": bus,
        "line": number,
        "product": None,
        "ecc_uncorrectable": None,
        "remap_pending": None,
        "remap_failure": None,
        "retirement_pending": None,
        "replays": None,
        "slowdowns": [],
        "fabric_state": None,
        "fabric_status": None,
        "evidence": {},
    }


def parse_nvidia_bug_report(lines: Iterable[Line]) -> dict[str, Any]:
    """``{"kind": "nvidia-bug-report", "smi_line", "attached_gpus", "gpus": [{"bus", "line", "product",
    "ecc_uncorrectable", "remap_pending", "remap_failure", "retirement_pending", "replays",
    "slowdowns": [names active], "fabric_state", "fabric_status", "evidence": {what: {"line", "text"}}}]}``.
    Values the report does not show (``N/A``, older drivers) stay ``None``."""
    gpus: list[dict[str, Any]] = []
    smi_line: int | None = None
    attached: int | None = None
    in_smi = False
    gpu: dict[str, Any] | None = None
    headings: list[str] = []
    for number, text in lines:
        if not in_smi:
            if _BANNER in text and text.startswith("="):
                in_smi, gpu, headings = True, None, []
                smi_line = smi_line or number
            continue
        if text.startswith("____") or (_BANNER in text and text.startswith("=")):
            in_smi = text.startswith("=")
            gpu, headings = None, []
            continue
        found = _GPU.match(text)
        if found is not None:
            gpu = _new_gpu(found.group(1), number) if len(gpus) < MAX_GPUS else None
            if gpu is not None:
                gpus.append(gpu)
            headings = []
            continue
        pair = _KEY_VALUE.match(text)
        if pair is None:
            heading = _HEADING.match(text)
            if heading is not None and gpu is not None:
                level = len(heading.group(1)) // 4
                headings = [*headings[: max(level - 1, 0)], heading.group(2)]
            continue
        level, key, value = len(pair.group(1)) // 4, pair.group(2), pair.group(3)
        if gpu is None:
            if key == "Attached GPUs":
                attached = _int(value)
            continue
        _record(gpu, headings[: max(level - 1, 0)], key, value, number, text)
    return {"kind": "nvidia-bug-report", "smi_line": smi_line, "attached_gpus": attached, "gpus": gpus}


def _record(gpu: dict[str, Any], context: list[str], key: str, value: str, number: int, text: str) -> None:
    """Keep one ``Key : Value`` of ``gpu`` if it is one the checks read."""
    section = context[0] if context else ""
    what: str | None = None
    if not context and key == "Product Name":
        gpu["product"] = clip(value)
    elif context[:2] == ["ECC Errors", "Volatile"] and (
        key in ("DRAM Uncorrectable", "SRAM Uncorrectable") or (context[2:] == ["Double Bit"] and key == "Total")
    ):
        count = _int(value)
        if count is not None:
            gpu["ecc_uncorrectable"] = (gpu["ecc_uncorrectable"] or 0) + count
            what = "ecc_uncorrectable" if count else None
    elif section == "Remapped Rows" and key in ("Pending", "Remapping Failure Occurred"):
        field = "remap_pending" if key == "Pending" else "remap_failure"
        gpu[field] = value == "Yes"
        what = field if value == "Yes" else None
    elif section == "Retired Pages" and key in ("Pending Page Blacklist", "Pending Page Retirement"):
        gpu["retirement_pending"] = value == "Yes"
        what = "retirement_pending" if value == "Yes" else None
    elif section == "PCI" and key == "Replays Since Reset":
        gpu["replays"] = _int(value)
        what = "replays" if gpu["replays"] else None
    elif section in _CLOCK_REASONS and key in _SLOWDOWNS and value == "Active":
        gpu["slowdowns"].append(key)
        what = key
    elif section == "Fabric" and key in ("State", "Status"):
        gpu["fabric_state" if key == "State" else "fabric_status"] = clip(value)
        what = "fabric_state" if key == "State" else "fabric_status"
    if what is not None:
        gpu["evidence"][what] = {"line": number, "text": clip(text)}
