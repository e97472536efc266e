"""The FastAPI application: routers under /api/v1, health, metrics, one error format."""

from fastapi import APIRouter, FastAPI

from services.api.errors import ERROR_RESPONSES, install_error_handlers
from services.api.health import router as health_router
from services.api.metrics import RequestContextMiddleware, metrics_endpoint
from services.api.routers import API_ROUTERS

DESCRIPTION = """
The regional content hub's API. A content center writes regional **materials** and delivers at least
10 a week to every **organisation**; each organisation publishes at least 3 a week on each of its
official **channels** (VK, Odnoklassniki, Telegram).

**Authentication**: every `/api/v1` call needs an API key, as `Authorization: Bearer hub_…` or
`X-API-Key: hub_…`. Roles: `admin` (everything), `editor` (content center: registry and materials),
`operator` (one organisation: its channels, people and subscriptions), `monitor` (read-only).

**Errors** always have the body `{"error": code, "detail": ...}`; invalid fields give 422 with
`detail` as a list of `{field, message}`.
"""


def create_app() -> FastAPI:
    app = FastAPI(
        title="Regional content hub",
        version="1.0.0",
        description=DESCRIPTION,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health_router)
    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)

    api = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
    for router in API_ROUTERS:
        api.include_router(router)
    app.include_router(api)
    return app


app = create_app()
