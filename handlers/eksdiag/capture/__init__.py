"""Packet-capture analysis: reads the text summary the packet-capture SSM document uploads."""

from __future__ import annotations

from eksdiag.capture.analyze import Limits, analyze_lines, analyze_summary

__all__ = ["Limits", "analyze_lines", "analyze_summary"]
