from fastapi import APIRouter
from fastapi.responses import JSONResponse

from shared.readiness import check_postgres, check_redis

router = APIRouter(tags=["health"])


@router.get("/healthz", responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}})
async def healthz() -> dict[str, str]:
    """The process is alive (no dependencies checked)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={
        200: {
            "content": {"application/json": {"example": {"status": "ready", "postgres": "ok", "redis": "ok"}}}
        },
        503: {
            "content": {
                "application/json": {
                    "example": {"status": "not_ready", "postgres": "ok", "redis": "error: Connection refused"}
                }
            }
        },
    },
)
async def readyz() -> JSONResponse:
    """PostgreSQL and Redis are reachable; 503 with the failing part otherwise."""
    checks = {"postgres": await check_postgres(), "redis": await check_redis()}
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not_ready", **checks}, status_code=200 if ready else 503
    )
