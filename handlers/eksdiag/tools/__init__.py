"""MCP tools: one small module per tool, grouped by privilege (nodelog, findings, capture, runbooks).

See :mod:`eksdiag.tools.base` for the contract every tool module follows.
"""
