"""Signed, time-limited media links for feeds: a reader may share a feed's links, so they carry no API
key, only an HMAC-SHA256 over the media id and the expiry, made with ``feed_signing_key``.

Expiries are rounded up to the end of the next link period, so every process renders the same links
(and the same feed bytes) throughout a period; a link is valid for between one and two periods."""

import base64
import hashlib
import hmac
from datetime import datetime

MEDIA_PATH = "/api/v1/feed/media/{media_id}"


def link_expiry(now: datetime, period_s: int) -> int:
    """The expiry (Unix seconds) of links rendered at ``now``: the end of the period after this one."""
    return (int(now.timestamp()) // period_s + 2) * period_s


def link_period(now: datetime, period_s: int) -> int:
    return int(now.timestamp()) // period_s


def media_signature(key: bytes, media_id: int, expires: int) -> str:
    digest = hmac.new(key, f"media:{media_id}:{expires}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def media_url(base_url: str, key: bytes, media_id: int, expires: int) -> str:
    path = MEDIA_PATH.format(media_id=media_id)
    return (
        f"{base_url.rstrip('/')}{path}?expires={expires}&signature={media_signature(key, media_id, expires)}"
    )


def valid_media_signature(key: bytes, media_id: int, expires: int, signature: str, now: datetime) -> bool:
    """True when the signature is ours for this media and expiry and the expiry has not passed."""
    if expires <= int(now.timestamp()):
        return False
    return hmac.compare_digest(media_signature(key, media_id, expires), signature)
