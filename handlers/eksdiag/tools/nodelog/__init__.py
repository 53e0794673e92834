"""Node collection tools: collect, status, history, batch_collect, batch_status, cluster_health.

Shared helpers live in ``_nodes`` (EC2/SSM node facts) and ``_automation`` (SSM Automation state).
"""
