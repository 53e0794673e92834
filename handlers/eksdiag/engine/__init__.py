"""The analysis engine: a pure library (no AWS imports, no I/O beyond the streams it is handed)."""
