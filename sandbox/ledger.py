"""The ledger: every post, edit and deletion any network saw, with the token that made it."""

import hashlib
import time
from datetime import UTC, datetime


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Ledger:
    """Append-only list of entries; ``seq`` is a stable cursor for incremental reads."""

    def __init__(self) -> None:
        self.entries: list[dict[str, object]] = []

    def record(
        self,
        *,
        network: str,
        action: str,
        channel: str,
        post_id: str,
        text: str,
        media: list[str],
        token: str | None,
        source: str = "api",
        extra: dict[str, object] | None = None,
    ) -> dict[str, object]:
        now = time.time()
        entry: dict[str, object] = {
            "seq": len(self.entries) + 1,
            "time": datetime.fromtimestamp(now, UTC).isoformat(),
            "unix": now,
            "network": network,
            "action": action,
            "channel": channel,
            "post_id": post_id,
            "text": text,
            "media": media,
            "token": token,
            "source": source,
        }
        if extra:
            entry.update(extra)
        self.entries.append(entry)
        return entry

    def query(self, filters: dict[str, str]) -> list[dict[str, object]]:
        after = int(filters.get("after_seq", "0") or 0)
        wanted = {
            key: filters[key]
            for key in ("network", "channel", "token", "action", "post_id", "source")
            if filters.get(key)
        }
        result = []
        for entry in self.entries[after:]:
            if all(str(entry.get(key)) == value for key, value in wanted.items()):
                result.append(entry)
        return result
