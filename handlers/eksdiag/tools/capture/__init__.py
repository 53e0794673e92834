"""Packet-capture tools: tcpdump_capture (start) and tcpdump_analyze (read the summary)."""
