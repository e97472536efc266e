"""The whole sandbox state: the three networks, the ledger and the faults, with save and load."""

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from sandbox.faults import Faults
from sandbox.ledger import Ledger
from sandbox.ok import OkNetwork
from sandbox.telegram import TelegramNetwork
from sandbox.vk import VkNetwork


class World:
    def __init__(self) -> None:
        self.ledger = Ledger()
        self.faults = Faults()
        self.vk = VkNetwork(self.ledger)
        self.telegram = TelegramNetwork(self.ledger)
        self.ok = OkNetwork(self.ledger)

    def load(self, data: dict[str, Any]) -> None:
        """Add a world fixture (see sandbox/README.md) or a saved state to the current world."""
        self.vk.load(data.get("vk", {}))
        self.telegram.load(data.get("telegram", {}))
        self.ok.load(data.get("ok", {}))
        self.ledger.entries.extend(data.get("ledger", []))

    def dump(self) -> dict[str, Any]:
        return {
            "vk": self.vk.dump(),
            "telegram": self.telegram.dump(),
            "ok": self.ok.dump(),
            "ledger": self.ledger.entries,
        }

    def save(self, path: Path) -> None:
        """Write atomically, so a crash mid-save never leaves a torn state file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(self.dump(), out, ensure_ascii=False)
        os.replace(temporary, path)


def read_json(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as source:
        data = json.load(source)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a world file holds a JSON object")
    return data
