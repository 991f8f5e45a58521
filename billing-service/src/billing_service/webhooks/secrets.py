"""Webhook signing secrets: made here, shown to their owner once, stored sealed.

A secret is `whsec_` + base64 of 32 random bytes (Standard Webhooks' form, which the official
libraries take as is). Signing needs the secret itself, so it cannot be stored hashed like a
token; it is sealed with AES-GCM under WEBHOOK_SECRET_KEY instead, bound to its endpoint's
company, so a copy of the database alone signs nothing and a sealed value copied onto another
company's endpoint does not open.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "whsec_"
_SEAL_VERSION = "v1"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_bytes(secret: str) -> bytes:
    """The HMAC key a `whsec_` secret stands for."""
    return base64.b64decode(secret.removeprefix(PREFIX))


class SecretBox:
    """Seals and opens the secrets of one installation (its WEBHOOK_SECRET_KEY)."""

    def __init__(self, key: str) -> None:
        # Any string of the settings becomes a 256-bit key; a short or placeholder key is
        # refused by the settings outside development.
        self._aead = AESGCM(hashlib.sha256(key.encode()).digest())

    def seal(self, secret: str, company_id: int) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, secret.encode(), _context(company_id))
        return f"{_SEAL_VERSION}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, sealed: str, company_id: int) -> str:
        version, _, payload = sealed.partition(":")
        if version != _SEAL_VERSION:
            raise ValueError("unknown seal version")
        raw = base64.b64decode(payload)
        try:
            return self._aead.decrypt(raw[:12], raw[12:], _context(company_id)).decode()
        except InvalidTag:
            raise ValueError("the secret does not open with this key") from None


def _context(company_id: int) -> bytes:
    return f"webhook-secret:{company_id}".encode()
