"""Fixtures of the fault-injection suite: the tool tests' stores and seed bundles, reused."""

from __future__ import annotations

from tests.tools.conftest import (  # noqa: F401 - pytest registers imported fixtures
    aws_ctx,
    aws_env,
    bundles,
    local_ctx,
    run,
    seed,
)
