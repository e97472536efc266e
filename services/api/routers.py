"""Every /api/v1 router, in the order they appear in the docs."""

from fastapi import APIRouter

from services.api.accounts.endpoints import router as accounts_router
from services.api.api_keys.endpoints import router as api_keys_router
from services.api.audit_events.endpoints import router as audit_router
from services.api.channels.endpoints import router as channels_router
from services.api.compliance.endpoints import router as compliance_router
from services.api.deliveries.endpoints import router as deliveries_router
from services.api.feed.endpoints import router as feed_router
from services.api.feed.system_endpoints import router as feed_system_router
from services.api.materials.endpoints import router as materials_router
from services.api.media.endpoints import router as media_router
from services.api.organisations.endpoints import router as organisations_router
from services.api.packages.endpoints import router as packages_router
from services.api.people.endpoints import router as people_router
from services.api.subscriptions.endpoints import router as subscriptions_router

API_ROUTERS: list[APIRouter] = [
    organisations_router,
    accounts_router,
    channels_router,
    people_router,
    subscriptions_router,
    deliveries_router,
    api_keys_router,
    audit_router,
    materials_router,
    media_router,
    packages_router,
    feed_router,
    feed_system_router,
    compliance_router,
]
