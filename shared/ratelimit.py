"""Per-token rate limits shared by every worker, in Redis (GCRA with reservations).

Each call reserves the next free slot of a key and says how long to wait for it, so callers queue
up in order with one Redis round trip each and no polling; adding workers never raises the rate a
token gets. Redis's own clock is used, so workers' clocks do not matter."""

import asyncio
from dataclasses import dataclass

from redis.asyncio import Redis

# KEYS[1]: the limit's key. ARGV[1]: interval between requests (µs). ARGV[2]: longest wait to accept (µs).
# Returns the wait in µs for the reserved slot, or -wait when that wait is longer than accepted
# (nothing is reserved then).
_RESERVE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local interval = tonumber(ARGV[1])
local max_wait = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - now
if wait > max_wait then return -wait end
redis.call('SET', KEYS[1], tat + interval, 'PX', math.floor((tat + interval - now) / 1000) + 1000)
return wait
"""


@dataclass(frozen=True)
class Limit:
    key: str
    per_second: float

    @property
    def interval_us(self) -> int:
        return max(1, int(1_000_000 / self.per_second))


class TooLongWait(Exception):
    def __init__(self, wait_s: float) -> None:
        super().__init__(f"rate limit slot is {wait_s:.1f} s away")
        self.wait_s = wait_s


class RateLimiter:
    def __init__(self, redis: Redis, *, prefix: str = "hub:rl:", max_wait_s: float = 30.0) -> None:
        self.redis = redis
        self.prefix = prefix
        self.max_wait_us = int(max_wait_s * 1_000_000)
        self._reserve = redis.register_script(_RESERVE)

    async def reserve(self, limit: Limit) -> float:
        """Reserve a slot; return seconds to wait for it. TooLongWait if it is beyond ``max_wait_s``."""
        wait_us = int(
            await self._reserve(keys=[self.prefix + limit.key], args=[limit.interval_us, self.max_wait_us])
        )
        if wait_us < 0:
            raise TooLongWait(-wait_us / 1_000_000)
        return wait_us / 1_000_000

    async def acquire(self, *limits: Limit) -> None:
        """Wait until every limit allows one more request (slots are reserved in order)."""
        waits = [await self.reserve(limit) for limit in limits]
        longest = max(waits, default=0.0)
        if longest > 0:
            await asyncio.sleep(longest)

    async def push_back(self, limit: Limit, seconds: float) -> None:
        """The network said 'retry after N s' for this key: nobody uses it before then."""
        await self.redis.eval(
            "local now = redis.call('TIME'); local t = tonumber(now[1]) * 1000000 + tonumber(now[2]) + "
            "tonumber(ARGV[1]); local cur = tonumber(redis.call('GET', KEYS[1]) or '0'); if t > cur then "
            "redis.call('SET', KEYS[1], t, 'PX', math.floor(tonumber(ARGV[1]) / 1000) + 1000) end return 1",
            1,
            self.prefix + limit.key,
            int(seconds * 1_000_000),
        )
