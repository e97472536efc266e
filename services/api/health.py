from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from redis.asyncio import Redis
from sqlalchemy import text

from shared.db import get_engine
from shared.settings import get_settings

router = APIRouter(tags=["health"])


@router.get("/healthz", responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}})
async def healthz() -> dict[str, str]:
    """The process is alive (no dependencies checked)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={
        200: {"content": {"application/json": {"example": {"status": "ready", "postgres": "ok", "redis": "ok"}}}},
        503: {"content": {"application/json": {"example": {"status": "not_ready", "postgres": "ok",
                                                             "redis": "error: Connection refused"}}}},
    },
)
async def readyz(request: Request) -> JSONResponse:
    """PostgreSQL and Redis are reachable; 503 with the failing part otherwise."""
    checks: dict[str, Any] = {}
    try:
        async with get_engine().connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["postgres"] = "ok"
    except Exception as exc:  # noqa: BLE001  (any failure means not ready)
        checks["postgres"] = f"error: {type(exc).__name__}"
    try:
        redis = Redis.from_url(get_settings().redis_url, socket_connect_timeout=2)
        try:
            await redis.ping()
        finally:
            await redis.aclose()
        checks["redis"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["redis"] = f"error: {type(exc).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse({"status": "ready" if ready else "not_ready", **checks}, status_code=200 if ready else 503)
