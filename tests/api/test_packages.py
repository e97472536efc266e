from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.materials.weeks import current_week, shift_week
from shared.models.enums import Role
from tests.factories import make_key, make_material, make_organisation


async def test_package_lists_approved_materials_urgent_first(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    monitor = await make_key(session, Role.monitor)
    week = "2032-W10"
    now = datetime.now(UTC)
    normal = await make_material(session, week=week, status="approved", approved_at=now - timedelta(hours=2))
    urgent = await make_material(session, week=week, status="approved", priority="urgent", approved_at=now)
    for status in ("draft", "review", "withdrawn"):
        await make_material(session, week=week, status=status)
    await make_material(session, week="2032-W11", status="approved")
    response = await client.get(f"/api/v1/packages/{week}", headers=monitor)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [item["id"] for item in body["materials"]] == [urgent.id, normal.id]
    assert body["count"] == 2
    assert body["urgent_count"] == 1
    assert body["quota"] == 10
    assert body["quota_met"] is False
    assert body["shortfall"] == 8
    assert (body["starts_on"], body["ends_on"]) == ("2032-03-01", "2032-03-07")


async def test_ten_approved_materials_meet_the_quota(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    operator = await make_key(session, Role.operator, organisation.id)
    week = "2032-W12"
    for _ in range(10):
        await make_material(session, week=week, status="approved")
    body = (await client.get(f"/api/v1/packages/{week}", headers=operator)).json()
    assert (body["count"], body["quota_met"], body["shortfall"]) == (10, True, 0)


async def test_empty_week_has_the_whole_quota_missing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    body = (await client.get("/api/v1/packages/2040-W01", headers=editor)).json()
    assert (body["count"], body["quota_met"], body["shortfall"], body["materials"]) == (0, False, 10, [])


@pytest.mark.parametrize("week", ["2032-13", "2027-W53", "2032-W00", "W12", "2032-W1"])
async def test_invalid_week_is_a_field_error(
    client: httpx.AsyncClient, session: AsyncSession, week: str
) -> None:
    editor = await make_key(session, Role.editor)
    response = await client.get(f"/api/v1/packages/{week}", headers=editor)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "path.week"


async def test_overview_counts_every_week_of_the_range(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    monitor = await make_key(session, Role.monitor)
    for _ in range(10):
        await make_material(session, week="2033-W52", status="approved")
    await make_material(session, week="2034-W01", status="approved", priority="urgent")
    await make_material(session, week="2034-W01", status="review")
    response = await client.get(
        "/api/v1/packages", params={"from_week": "2033-W51", "to_week": "2034-W01"}, headers=monitor
    )
    assert response.status_code == 200, response.text
    weeks = {item["week"]: item for item in response.json()["weeks"]}
    assert list(weeks) == ["2033-W51", "2033-W52", "2034-W01"]
    assert (weeks["2033-W51"]["count"], weeks["2033-W51"]["shortfall"]) == (0, 10)
    assert (weeks["2033-W52"]["count"], weeks["2033-W52"]["quota_met"]) == (10, True)
    assert (weeks["2034-W01"]["count"], weeks["2034-W01"]["urgent_count"]) == (1, 1)


async def test_overview_crosses_a_year_with_53_weeks(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    response = await client.get(
        "/api/v1/packages", params={"from_week": "2026-W52", "to_week": "2027-W01"}, headers=editor
    )
    assert [item["week"] for item in response.json()["weeks"]] == ["2026-W52", "2026-W53", "2027-W01"]


async def test_overview_defaults_to_this_week_and_the_next_three(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    body = (await client.get("/api/v1/packages", headers=editor)).json()
    this_week = current_week()
    assert (body["from_week"], body["to_week"]) == (this_week, shift_week(this_week, 3))
    assert len(body["weeks"]) == 4


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from_week": "2032-W60"}, "query.from_week"),
        ({"from_week": "2032-W10", "to_week": "nonsense"}, "query.to_week"),
        ({"from_week": "2032-W10", "to_week": "2032-W09"}, "query.to_week"),
        ({"from_week": "2030-W01", "to_week": "2032-W01"}, "query.to_week"),
    ],
)
async def test_overview_refuses_bad_ranges(
    client: httpx.AsyncClient, session: AsyncSession, params: dict[str, str], field: str
) -> None:
    editor = await make_key(session, Role.editor)
    response = await client.get("/api/v1/packages", params=params, headers=editor)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == field


async def test_packages_need_an_api_key(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/packages/2032-W10")).status_code == 401
