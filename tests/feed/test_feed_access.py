import httpx
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.models.enums import Role
from tests.factories import make_key, make_organisation
from tests.feed.helpers import approved, feed_organisation


async def test_an_organisation_never_sees_another_organisations_subscription_only_items(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    culture = await feed_organisation(session, topics=["культура"])
    sport = await feed_organisation(session, topics=["спорт"])
    culture_item = await approved(session, topics=["культура"])
    sport_item = await approved(session, topics=["спорт"])
    for org, mine, theirs in ((culture, culture_item, sport_item), (sport, sport_item, culture_item)):
        for path in ("/api/v1/feed", "/api/v1/feed/rss", "/api/v1/feed/atom"):
            response = await client.get(path, headers=org.headers)
            assert response.status_code == 200
            assert mine.title in response.text
            assert theirs.title not in response.text
        forbidden = await client.get(
            "/api/v1/feed",
            headers=org.headers,
            params={"organisation_id": (sport if org is culture else culture).id},
        )
        assert forbidden.status_code == 403


async def test_an_organisation_without_subscriptions_gets_an_empty_feed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    headers = await make_key(session, Role.feed, organisation.id)
    await approved(session)
    body = (await client.get("/api/v1/feed", headers=headers)).json()
    assert (body["subscribed"], body["items"]) == (False, [])


async def test_operator_keys_read_their_feed_and_monitors_name_the_organisation(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await feed_organisation(session, role=Role.operator)
    item = await approved(session)
    assert item.title in (await client.get("/api/v1/feed", headers=org.headers)).text
    monitor = await make_key(session, Role.monitor)
    unnamed = await client.get("/api/v1/feed", headers=monitor)
    assert unnamed.status_code == 422
    assert unnamed.json()["detail"][0]["field"] == "query.organisation_id"
    named = await client.get("/api/v1/feed", headers=monitor, params={"organisation_id": org.id})
    assert item.title in named.text
    missing = await client.get("/api/v1/feed", headers=monitor, params={"organisation_id": 99_999_999})
    assert missing.status_code == 404


async def test_feed_keys_read_nothing_else(client: httpx.AsyncClient, session: AsyncSession) -> None:
    org = await feed_organisation(session)
    for path in ("/api/v1/organisations", "/api/v1/materials", f"/api/v1/organisations/{org.id}"):
        response = await client.get(path, headers=org.headers)
        assert response.status_code == 403, path


async def test_missing_unknown_and_revoked_keys_get_401(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    assert (await client.get("/api/v1/feed")).status_code == 401
    garbage = await client.get("/api/v1/feed", headers={"X-API-Key": "hub_nope_nope"})
    assert (garbage.status_code, garbage.json()["error"]) == (401, "not_authenticated")
    admin = await make_key(session, Role.admin)
    organisation = await make_organisation(session)
    issued = await client.post(
        "/api/v1/feed/keys", json={"name": "Сайт", "organisation_id": organisation.id}, headers=admin
    )
    assert issued.status_code == 201, issued.text
    key = {"X-API-Key": issued.json()["key"]}
    assert issued.json()["role"] == "feed"
    assert (await client.get("/api/v1/feed", headers=key)).status_code == 200
    await client.post(f"/api/v1/api-keys/{issued.json()['id']}/revoke", headers=admin)
    assert (await client.get("/api/v1/feed", headers=key)).status_code == 401


async def test_operators_issue_feed_keys_only_for_their_organisation(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await feed_organisation(session, role=Role.operator)
    other = await make_organisation(session)
    own = await client.post("/api/v1/feed/keys", json={"name": "CMS"}, headers=org.headers)
    assert (own.status_code, own.json()["organisation_id"]) == (201, org.id)
    foreign = await client.post(
        "/api/v1/feed/keys", json={"name": "CMS", "organisation_id": other.id}, headers=org.headers
    )
    assert foreign.status_code == 403


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"week": "2026-48"}, "query.week"),
        ({"week": "2027-W53"}, "query.week"),
        ({"cursor": "!!not-a-cursor"}, "query.cursor"),
        ({"cursor": "start", "week": "2026-W48"}, "query.cursor"),
        ({"limit": "0"}, "query.limit"),
        ({"limit": "501"}, "query.limit"),
    ],
)
async def test_bad_parameters_are_field_errors(
    client: httpx.AsyncClient, session: AsyncSession, params: dict[str, str], field: str
) -> None:
    org = await feed_organisation(session)
    response = await client.get("/api/v1/feed", headers=org.headers, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == field
