"""Deterministic IDs and secrets from a random per-world salt.

The salt is persisted with ``--state``, so a restart (or ``POST /reset``) rebuilds the seed with the same
generated GUIDs and secrets; without ``--state`` each start gets a fresh salt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid

_SECRET_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.~"


def new_salt() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


class Minter:
    def __init__(self, salt: str) -> None:
        self._key = base64.b64decode(salt)

    def _digest(self, purpose: str, name: str) -> bytes:
        return hmac.new(self._key, f"{purpose}:{name}".encode(), hashlib.sha256).digest()

    def guid(self, name: str) -> str:
        return str(uuid.UUID(bytes=self._digest("guid", name)[:16], version=4))

    def secret(self, name: str) -> str:
        """40 characters shaped like an Entra client secret value (3 chars, '8Q~', 34 chars)."""
        raw = self._digest("secret", name) + self._digest("secret2", name)
        chars = "".join(_SECRET_ALPHABET[b % len(_SECRET_ALPHABET)] for b in raw)
        return f"{chars[:3]}8Q~{chars[3:37]}"
