"""Reachability checks of the two stores every service depends on."""

from redis.asyncio import Redis
from sqlalchemy import text

from shared.db import get_engine
from shared.settings import get_settings


async def check_postgres() -> str:
    try:
        async with get_engine().connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001  (any failure means not ready)
        return f"error: {type(exc).__name__}"
    return "ok"


async def check_redis() -> str:
    try:
        redis = Redis.from_url(get_settings().redis_url, socket_connect_timeout=2)
        try:
            await redis.ping()
        finally:
            await redis.aclose()
    except Exception as exc:  # noqa: BLE001
        return f"error: {type(exc).__name__}"
    return "ok"
