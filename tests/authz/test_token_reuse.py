"""The local server's token verifier takes a token it has verified from a small cache: never for
longer than its reuse window, never past the token's expiry, never for a token it refused."""

from __future__ import annotations

import time
from typing import Any

import anyio
import pytest
from eksdiag import server as server_module
from eksdiag.server import JWT_LEEWAY, JwtSettings, JwtVerifier


class Counting(JwtVerifier):
    def __init__(self, settings: JwtSettings) -> None:
        super().__init__(settings)
        self.checks = 0

    def check(self, token: str) -> dict[str, Any] | None:
        self.checks += 1
        return super().check(token)


def verify(verifier: JwtVerifier, token: str) -> Any:
    return anyio.run(verifier.verify_token, token)


def test_a_verified_token_is_checked_again_only_after_its_reuse_window(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = JwtSettings()
    verifier = Counting(settings)
    token = settings.dev_token()
    first = verify(verifier, token)
    assert first is not None and first.client_id == "eksdiag-dev"
    assert verify(verifier, token) is first and verifier.checks == 1
    later = time.time() + verifier.REUSE_SECONDS + 1
    monkeypatch.setattr(server_module.time, "time", lambda: later)
    assert verify(verifier, token) is not None and verifier.checks == 2


def test_a_cached_token_is_not_reused_past_its_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = JwtSettings()
    verifier = Counting(settings)
    token = settings.dev_token(seconds=5)  # expires well inside the reuse window
    assert verify(verifier, token) is not None
    past = time.time() + 5 + JWT_LEEWAY + 1
    monkeypatch.setattr(server_module.time, "time", lambda: past)
    verify(verifier, token)
    assert verifier.checks == 2  # verified anew (PyJWT's own clock decides), not taken from the cache


def test_a_refused_token_is_not_remembered() -> None:
    settings = JwtSettings()
    verifier = Counting(settings)
    forged = JwtSettings().dev_token()  # signed with another key
    assert verify(verifier, forged) is None
    assert verify(verifier, forged) is None and verifier.checks == 2


def test_the_cache_stays_bounded() -> None:
    settings = JwtSettings()
    verifier = JwtVerifier(settings)
    verifier.CACHE_SIZE = 8
    for n in range(20):
        assert verify(verifier, settings.dev_token(seconds=3600 + n)) is not None
    assert len(verifier._verified) <= 8
