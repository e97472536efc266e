import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.models.enums import Role
from tests.factories import make_key, make_organisation

PAYLOAD = {
    "name": "Администрация г. Обнинска",
    "kind": "city_okrug",
    "region": "Калужская область",
    "timezone": "Europe/Moscow",
}


async def test_editor_creates_and_reads_organisation(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    created = await client.post("/api/v1/organisations", json=PAYLOAD, headers=editor)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["timezone"] == "Europe/Moscow"
    assert body["is_active"] is True
    fetched = await client.get(f"/api/v1/organisations/{body['id']}", headers=editor)
    assert fetched.json()["name"] == PAYLOAD["name"]


async def test_unknown_timezone_is_a_field_error(client: httpx.AsyncClient, session: AsyncSession) -> None:
    editor = await make_key(session, Role.editor)
    response = await client.post(
        "/api/v1/organisations", json={**PAYLOAD, "timezone": "Mars/Olympus"}, headers=editor
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "validation_error"
    assert body["detail"][0]["field"] == "body.timezone"
    assert "IANA" in body["detail"][0]["message"]


async def test_parent_must_exist_and_cycles_are_refused(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    missing = await client.post(
        "/api/v1/organisations", json={**PAYLOAD, "parent_id": 999999}, headers=editor
    )
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["field"] == "body.parent_id"
    parent = await make_organisation(session)
    child = await make_organisation(session, parent_id=parent.id)
    cycle = await client.patch(
        f"/api/v1/organisations/{parent.id}", json={"parent_id": child.id}, headers=editor
    )
    assert cycle.status_code == 422
    assert "ancestor" in cycle.json()["detail"][0]["message"]


async def test_list_filters_and_pages(client: httpx.AsyncClient, session: AsyncSession) -> None:
    monitor = await make_key(session, Role.monitor)
    for _ in range(3):
        await make_organisation(session, region="Забайкальский край", timezone="Asia/Chita")
    page = await client.get(
        "/api/v1/organisations", params={"region": "Забайкальский край", "limit": 2}, headers=monitor
    )
    assert page.status_code == 200
    assert page.json()["total"] == 3
    assert len(page.json()["items"]) == 2


async def test_operator_sees_only_its_own_organisation(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    own = await make_organisation(session)
    other = await make_organisation(session)
    operator = await make_key(session, Role.operator, organisation_id=own.id)
    listed = await client.get("/api/v1/organisations", headers=operator)
    assert [item["id"] for item in listed.json()["items"]] == [own.id]
    refused = await client.get(f"/api/v1/organisations/{other.id}", headers=operator)
    assert refused.status_code == 403
    assert refused.json()["error"] == "forbidden"


async def test_null_for_required_field_in_patch_is_refused(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    organisation = await make_organisation(session)
    response = await client.patch(
        f"/api/v1/organisations/{organisation.id}", json={"name": None}, headers=editor
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "body.name"
