"""Run-time limits and faults, per network and per token.

Fractions are applied by error diffusion rather than by chance: with ``error_5xx_fraction=0.25``
exactly every fourth request fails, so tests are deterministic and benchmarks see the exact share.
"""

import math
import time
from dataclasses import dataclass, field

FRACTION_KEYS = ("error_5xx_fraction", "drop_fraction", "timeout_after_record_fraction")
KNOWN_KEYS = {
    *FRACTION_KEYS,
    "latency_ms",
    "rate_limit",
    "flood_limit",
    "error_5xx_status",
    "hang_seconds",
}


@dataclass(slots=True)
class Window:
    """A fixed window counter: ``limit`` requests per ``per_seconds``."""

    limit: int
    per_seconds: float
    started: float = 0.0
    count: int = 0

    def hit(self, now: float) -> float:
        """Count one request; return 0 if allowed, else seconds until the window reopens."""
        if now - self.started >= self.per_seconds:
            self.started = now
            self.count = 0
        if self.count >= self.limit:
            return self.started + self.per_seconds - now
        self.count += 1
        return 0.0


@dataclass(slots=True)
class FaultRule:
    config: dict[str, object]
    accumulators: dict[str, float] = field(default_factory=dict)
    windows: dict[str, Window] = field(default_factory=dict)

    def fire(self, key: str) -> bool:
        fraction = float(self.config.get(key, 0) or 0)  # type: ignore[arg-type]
        if fraction <= 0:
            return False
        value = self.accumulators.get(key, 0.0) + fraction
        if value >= 1.0 - 1e-9:
            self.accumulators[key] = value - 1.0
            return True
        self.accumulators[key] = value
        return False

    def limited(self, kind: str, now: float) -> float:
        spec = self.config.get(kind)
        if not isinstance(spec, dict):
            return 0.0
        window = self.windows.get(kind)
        if window is None:
            window = Window(int(spec.get("limit", 1)), float(spec.get("per_seconds", 1)))
            self.windows[kind] = window
        return window.hit(now)


@dataclass(slots=True)
class Decision:
    latency: float = 0.0
    drop: bool = False
    error_5xx: int = 0
    retry_after: float = 0.0
    limit_kind: str = ""
    hang_after_record: float = 0.0


class Faults:
    """Rules keyed by (network, token); token ``"*"`` is the network-wide rule."""

    def __init__(self) -> None:
        self.rules: dict[tuple[str, str], FaultRule] = {}

    def set(self, network: str, token: str | None, config: dict[str, object]) -> dict[str, object]:
        unknown = set(config) - KNOWN_KEYS
        if unknown:
            raise ValueError(f"unknown fault keys: {sorted(unknown)}")
        key = (network, token or "*")
        if not config:
            self.rules.pop(key, None)
        else:
            self.rules[key] = FaultRule(dict(config))
        return self.describe()

    def clear(self) -> None:
        self.rules.clear()

    def describe(self) -> dict[str, object]:
        return {
            "rules": [
                {"network": network, "token": None if token == "*" else token, **rule.config}
                for (network, token), rule in self.rules.items()
            ]
        }

    def decide(self, network: str, token: str | None, posting: bool) -> Decision | None:
        """Evaluate the token's rule, then the network's; ``None`` when nothing applies (hot path)."""
        if not self.rules:
            return None
        applicable = [
            rule
            for rule in (self.rules.get((network, token or "")), self.rules.get((network, "*")))
            if rule is not None
        ]
        if not applicable:
            return None
        decision = Decision()
        now = time.monotonic()
        for rule in applicable:
            config = rule.config
            decision.latency = max(decision.latency, float(config.get("latency_ms", 0) or 0) / 1000)  # type: ignore[arg-type]
            if rule.fire("drop_fraction"):
                decision.drop = True
            if rule.fire("error_5xx_fraction"):
                decision.error_5xx = int(config.get("error_5xx_status", 502))  # type: ignore[call-overload]
            if not decision.retry_after:
                wait = rule.limited("rate_limit", now)
                if wait:
                    decision.retry_after, decision.limit_kind = wait, "rate_limit"
                elif posting:
                    wait = rule.limited("flood_limit", now)
                    if wait:
                        decision.retry_after, decision.limit_kind = wait, "flood_limit"
            if posting and rule.fire("timeout_after_record_fraction"):
                decision.hang_after_record = float(config.get("hang_seconds", 60))  # type: ignore[arg-type]
        return decision


def retry_after_seconds(wait: float) -> int:
    return max(1, math.ceil(wait))
