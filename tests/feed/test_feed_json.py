import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.factories import make_media
from tests.feed.helpers import approved, feed_organisation


async def test_json_feed_lists_this_weeks_items_urgent_first_with_signed_media(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await feed_organisation(session)
    normal = await approved(session)
    urgent = await approved(session, priority="urgent")
    photo = await make_media(session, normal)
    response = await client.get("/api/v1/feed", headers=org.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["schema_version"] == "1"
    ids = [item["id"] for item in body["items"]]
    assert ids.index(urgent.id) < ids.index(normal.id)
    item = next(item for item in body["items"] if item["id"] == normal.id)
    assert item["media"][0]["id"] == photo.id
    assert "signature=" in item["media"][0]["url"]
    assert "hub_" not in response.text
