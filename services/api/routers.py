"""Every /api/v1 router, in the order they appear in the docs."""

from fastapi import APIRouter

from services.api.organisations.endpoints import router as organisations_router

API_ROUTERS: list[APIRouter] = [
    organisations_router,
]
