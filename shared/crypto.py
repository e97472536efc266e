"""Encryption of channel credentials at rest (Fernet: AES-128-CBC + HMAC-SHA256)."""

import hashlib
import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken

from shared.settings import get_settings


@lru_cache
def _fernet() -> Fernet:
    return Fernet(get_settings().resolved_encryption_key())


def encrypt_secret(values: dict[str, str]) -> bytes:
    return _fernet().encrypt(json.dumps(values, sort_keys=True).encode())


def decrypt_secret(blob: bytes) -> dict[str, str]:
    try:
        data: dict[str, str] = json.loads(_fernet().decrypt(blob))
    except InvalidToken as exc:
        raise RuntimeError("stored credentials cannot be decrypted with the configured key") from exc
    return data


def fingerprint(values: dict[str, str]) -> str:
    """A short non-reversible tag that lets people tell two credentials apart without seeing them."""
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:12]
