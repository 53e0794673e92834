"""Runbook tools: list_sops and get_sop over eksdiag.runbooks.library."""
