"""Keep secrets out of error messages: client libraries may quote a URL or a request with the token."""

from collections.abc import Iterable

MASK = "***"


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every occurrence of each secret (and its part after a bot id's colon) masked."""
    for secret in secrets:
        if not secret:
            continue
        text = text.replace(secret, MASK)
        # A Telegram token is "<bot id>:<secret>"; the bot id alone is public, the rest is not.
        _, colon, tail = secret.partition(":")
        if colon and len(tail) >= 8:
            text = text.replace(tail, MASK)
    return text
