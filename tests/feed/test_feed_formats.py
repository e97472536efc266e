import feedparser
import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.factories import make_media
from tests.feed.helpers import approved, feed_organisation


async def _items(session: AsyncSession) -> tuple[int, int, int]:
    photo_item = await approved(session, title="Субботник в парке", link="https://example.ru/news/1")
    photo = await make_media(session, photo_item)
    withdrawn = await approved(session, status="withdrawn", withdrawn_reason="Ошибка в дате")
    return photo_item.id or 0, photo.id or 0, withdrawn.id or 0


async def test_rss_is_valid_for_feedparser_with_enclosures_and_withdrawn_flag(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await feed_organisation(session)
    item_id, photo_id, withdrawn_id = await _items(session)
    response = await client.get("/api/v1/feed/rss", headers=org.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/rss+xml")
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    by_id = {entry.id: entry for entry in parsed.entries}
    entry = by_id[f"urn:regional-content-hub:material:{item_id}"]
    assert entry.title == "Субботник в парке"
    enclosure = entry.enclosures[0]
    assert f"/feed/media/{photo_id}?" in enclosure.href
    assert enclosure.type == "image/jpeg"
    assert int(enclosure.length) > 0
    withdrawn = by_id[f"urn:regional-content-hub:material:{withdrawn_id}"]
    assert "withdrawn" in [tag.term for tag in withdrawn.tags]
    assert withdrawn["hub_status"] == "withdrawn"


async def test_atom_is_valid_for_feedparser_with_enclosure_links(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await feed_organisation(session)
    item_id, photo_id, withdrawn_id = await _items(session)
    response = await client.get("/api/v1/feed/atom", headers=org.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    by_id = {entry.id: entry for entry in parsed.entries}
    entry = by_id[f"urn:regional-content-hub:material:{item_id}"]
    enclosures = [link for link in entry.links if link.rel == "enclosure"]
    assert f"/feed/media/{photo_id}?" in enclosures[0].href
    assert enclosures[0].type == "image/jpeg"
    assert "withdrawn" in [
        tag.term for tag in by_id[f"urn:regional-content-hub:material:{withdrawn_id}"].tags
    ]


async def test_json_feed_flags_withdrawn_items_with_their_reason(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await feed_organisation(session)
    _, _, withdrawn_id = await _items(session)
    await approved(session, status="review")
    await approved(session, status="draft")
    items = (await client.get("/api/v1/feed", headers=org.headers)).json()["items"]
    assert {item["status"] for item in items} == {"approved", "withdrawn"}
    withdrawn = next(item for item in items if item["id"] == withdrawn_id)
    assert (withdrawn["withdrawn"], withdrawn["withdrawn_reason"]) == (True, "Ошибка в дате")


async def test_empty_feeds_are_valid_too(client: httpx.AsyncClient, session: AsyncSession) -> None:
    org = await feed_organisation(session)
    for path, version in (("/api/v1/feed/rss", "rss20"), ("/api/v1/feed/atom", "atom10")):
        parsed = feedparser.parse(
            (await client.get(path, headers=org.headers, params={"week": "2001-W01"})).content
        )
        assert (parsed.bozo, parsed.version, len(parsed.entries)) == (0, version, 0)
