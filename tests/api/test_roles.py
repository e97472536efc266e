"""The role matrix: every write endpoint refuses the roles that may not call it."""

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.app import create_app
from shared.models.enums import Role
from tests.factories import make_key, make_organisation

A, E, OP, M = Role.admin, Role.editor, Role.operator, Role.monitor
F = Role.feed  # read-only key of one organisation's system
CONTENT = {A, E}
REGISTRY = {A, E, OP}

# (method, path template) -> roles allowed to call it. Every write route of the app must be here.
WRITE_ROUTES: dict[tuple[str, str], set[Role]] = {
    ("POST", "/api/v1/organisations"): CONTENT,
    ("PATCH", "/api/v1/organisations/{organisation_id}"): CONTENT,
    ("POST", "/api/v1/accounts"): REGISTRY,
    ("PATCH", "/api/v1/accounts/{account_id}"): REGISTRY,
    ("POST", "/api/v1/channels"): REGISTRY,
    ("PATCH", "/api/v1/channels/{channel_id}"): REGISTRY,
    ("DELETE", "/api/v1/channels/{channel_id}"): REGISTRY,
    ("POST", "/api/v1/people"): REGISTRY,
    ("PATCH", "/api/v1/people/{person_id}"): REGISTRY,
    ("DELETE", "/api/v1/people/{person_id}"): REGISTRY,
    ("POST", "/api/v1/organisations/{organisation_id}/responsible-list/confirm"): REGISTRY,
    ("POST", "/api/v1/subscriptions"): REGISTRY,
    ("PATCH", "/api/v1/subscriptions/{subscription_id}"): REGISTRY,
    ("DELETE", "/api/v1/subscriptions/{subscription_id}"): REGISTRY,
    ("POST", "/api/v1/deliveries/{delivery_id}/retry"): CONTENT,
    ("POST", "/api/v1/api-keys"): {A},
    ("POST", "/api/v1/api-keys/{key_id}/revoke"): {A},
    ("POST", "/api/v1/feed/publications"): {A, E, OP, F},
    ("POST", "/api/v1/feed/keys"): {A, OP},
    ("POST", "/api/v1/feed/webhooks"): REGISTRY,
    ("DELETE", "/api/v1/feed/webhooks/{webhook_id}"): REGISTRY,
    ("PUT", "/api/v1/compliance/rules/regions/{region}"): {A},
    ("DELETE", "/api/v1/compliance/rules/regions/{region}"): {A},
    ("PUT", "/api/v1/compliance/rules/organisations/{organisation_id}"): {A},
    ("DELETE", "/api/v1/compliance/rules/organisations/{organisation_id}"): {A},
}
CONTENT_PREFIXES = ("/api/v1/materials", "/api/v1/media")


def app_write_routes() -> set[tuple[str, str]]:
    routes = set()
    for path, operations in create_app().openapi()["paths"].items():
        for method in operations:
            if method.upper() in {"POST", "PUT", "PATCH", "DELETE"} and path.startswith("/api/v1"):
                routes.add((method.upper(), path))
    assert len(routes) >= len(WRITE_ROUTES), "the app's write routes were not found"
    return routes


def test_every_write_route_is_in_the_matrix() -> None:
    known = set(WRITE_ROUTES)
    unlisted = {route for route in app_write_routes() - known if not route[1].startswith(CONTENT_PREFIXES)}
    assert not unlisted, f"add these routes to the role matrix: {sorted(unlisted)}"


def content_routes() -> list[tuple[str, str]]:
    return sorted(route for route in app_write_routes() if route[1].startswith(CONTENT_PREFIXES))


@pytest.mark.parametrize(("method", "path"), sorted(WRITE_ROUTES))
async def test_write_route_refuses_roles_outside_its_list(
    client: httpx.AsyncClient, session: AsyncSession, method: str, path: str
) -> None:
    organisation = await make_organisation(session)
    refused_roles = set(Role) - WRITE_ROUTES[(method, path)]
    assert Role.monitor in refused_roles, "monitor is read-only everywhere"
    url = path.format(
        organisation_id=organisation.id,
        account_id=1,
        channel_id=1,
        person_id=1,
        subscription_id=1,
        key_id=1,
        webhook_id=1,
        delivery_id=1,
        region="Хабаровский край",
    )
    for role in refused_roles:
        headers = await make_key(session, role, organisation.id if role in (OP, F) else None)
        response = await client.request(method, url, json={}, headers=headers)
        assert response.status_code == 403, (role, method, path, response.text)
        assert response.json()["error"] == "forbidden"


async def test_content_write_routes_are_for_admins_and_editors_only(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    routes = content_routes()
    for method, path in routes:
        url = path.replace("{material_id}", "1").replace("{media_id}", "1").replace("{asset_id}", "1")
        for role in (Role.operator, Role.monitor, Role.feed):
            headers = await make_key(session, role, organisation.id if role in (OP, F) else None)
            response = await client.request(method, url, json={}, headers=headers)
            assert response.status_code == 403, (role, method, path, response.text)


async def test_missing_and_revoked_keys_get_401(client: httpx.AsyncClient, session: AsyncSession) -> None:
    anonymous = await client.get("/api/v1/organisations")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "not_authenticated"
    garbage = await client.get("/api/v1/organisations", headers={"X-API-Key": "hub_nope_nope"})
    assert garbage.status_code == 401
    admin = await make_key(session, Role.admin)
    victim = await client.post("/api/v1/api-keys", json={"name": "temp", "role": "monitor"}, headers=admin)
    assert victim.status_code == 201
    key = victim.json()["key"]
    assert (await client.get("/api/v1/organisations", headers={"X-API-Key": key})).status_code == 200
    revoked = await client.post(f"/api/v1/api-keys/{victim.json()['id']}/revoke", headers=admin)
    assert revoked.status_code == 200
    assert (await client.get("/api/v1/organisations", headers={"X-API-Key": key})).status_code == 401


async def test_api_key_listing_never_shows_the_key(client: httpx.AsyncClient, session: AsyncSession) -> None:
    admin = await make_key(session, Role.admin)
    created = await client.post(
        "/api/v1/api-keys", json={"name": "monitoring", "role": "monitor"}, headers=admin
    )
    plaintext = created.json()["key"]
    listed = await client.get("/api/v1/api-keys", headers=admin)
    assert plaintext not in listed.text
    assert all("key" not in item for item in listed.json()["items"])


async def test_operator_key_needs_an_organisation(client: httpx.AsyncClient, session: AsyncSession) -> None:
    admin = await make_key(session, Role.admin)
    response = await client.post("/api/v1/api-keys", json={"name": "op", "role": "operator"}, headers=admin)
    assert response.status_code == 422
    assert "organisation_id" in response.json()["detail"][0]["message"]


async def test_feed_keys_are_issued_for_one_organisation(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await make_key(session, Role.admin)
    organisation = await make_organisation(session)
    unbound = await client.post("/api/v1/api-keys", json={"name": "cms", "role": "feed"}, headers=admin)
    assert unbound.status_code == 422
    bound = await client.post(
        "/api/v1/api-keys",
        headers=admin,
        json={"name": "cms", "role": "feed", "organisation_id": organisation.id},
    )
    assert bound.status_code == 201, bound.text
    feed_key = {"X-API-Key": bound.json()["key"]}
    assert (await client.get("/api/v1/organisations", headers=feed_key)).status_code == 403
