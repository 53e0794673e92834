"""Presigned links of the local HTTP server: what ``findings___artifact`` returns instead of a
``file://`` path when clients are not on the server's own file system.

A link is ``<server>/artifacts/<payload>.<mac>``: the payload names one stored file and when the link
expires; the MAC (HMAC-SHA256 under a key made at server start) makes it unforgeable. Like an S3
presigned URL it is a bearer link: whoever holds it may download that one file until it expires.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time

ROUTE = "/artifacts/{link}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class LinkSigner:
    def __init__(self, base_url: str, key: bytes | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = key or secrets.token_bytes(32)

    def _mac(self, payload: bytes) -> str:
        return _b64(hmac.new(self._key, payload, hashlib.sha256).digest()[:18])

    def sign(self, key: str, seconds: int) -> str:
        payload = json.dumps({"k": key, "e": int(time.time()) + int(seconds)}, separators=(",", ":")).encode()
        return f"{self.base_url}/artifacts/{_b64(payload)}.{self._mac(payload)}"

    def verify(self, link: str) -> str | None:
        """The store key a link grants, or None (forged, edited or expired)."""
        body, _, mac = link.partition(".")
        try:
            payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (ValueError, binascii.Error):
            return None
        if not mac or not hmac.compare_digest(mac, self._mac(payload)):
            return None
        try:
            data = json.loads(payload)
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("k"), str) or not isinstance(data.get("e"), int):
            return None
        return data["k"] if data["e"] >= time.time() else None
