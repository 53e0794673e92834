"""Findings tools: read a bundle's index and files (errors, search, read, correlate, summarize, ...)."""
