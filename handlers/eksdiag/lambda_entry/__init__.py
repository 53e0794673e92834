"""Lambda entry points: one per tool group (routing by tool name) and the S3-triggered indexer."""
