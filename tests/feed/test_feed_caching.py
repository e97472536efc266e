from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.factories import make_subscription
from tests.feed.helpers import approved, feed_organisation


async def test_unchanged_feed_answers_304_to_if_none_match_and_if_modified_since(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await feed_organisation(session)
    await approved(session)
    first = await client.get("/api/v1/feed", headers=org.headers)
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"')
    assert not etag.startswith("W/")
    by_etag = await client.get("/api/v1/feed", headers={**org.headers, "If-None-Match": etag})
    assert by_etag.status_code == 304
    assert by_etag.content == b""
    assert by_etag.headers["etag"] == etag
    by_date = await client.get("/api/v1/feed", headers={**org.headers, "If-Modified-Since": last_modified})
    assert by_date.status_code == 304
    earlier = format_datetime(datetime.now(UTC) - timedelta(days=1), usegmt=True)
    stale = await client.get("/api/v1/feed", headers={**org.headers, "If-Modified-Since": earlier})
    assert stale.status_code == 200
    other = await client.get("/api/v1/feed", headers={**org.headers, "If-None-Match": '"something-else"'})
    assert other.status_code == 200
    assert other.content == first.content


async def test_an_edit_gives_a_fresh_body_and_a_new_etag(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await feed_organisation(session)
    material = await approved(session, title="Было")
    first = await client.get("/api/v1/feed", headers=org.headers)
    unchanged = await client.get(
        "/api/v1/feed", headers={**org.headers, "If-None-Match": first.headers["etag"]}
    )
    assert unchanged.status_code == 304
    material.title, material.version = "Стало", material.version + 1
    session.add(material)
    await session.flush()
    after = await client.get("/api/v1/feed", headers={**org.headers, "If-None-Match": first.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != first.headers["etag"]
    assert [item["title"] for item in after.json()["items"]] == ["Стало"]


async def test_a_new_subscription_topic_refreshes_the_cached_feed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await feed_organisation(session, topics=["культура"])
    await approved(session, topics=["спорт"])
    assert (await client.get("/api/v1/feed", headers=org.headers)).json()["items"] == []
    await make_subscription(session, org.organisation, topics=["спорт"])
    assert len((await client.get("/api/v1/feed", headers=org.headers)).json()["items"]) == 1


async def test_the_cached_body_is_served_to_every_format_separately(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await feed_organisation(session)
    await approved(session)
    tags = set()
    for path in ("/api/v1/feed", "/api/v1/feed/rss", "/api/v1/feed/atom"):
        first = await client.get(path, headers=org.headers)
        again = await client.get(path, headers=org.headers)
        assert first.content == again.content
        assert first.headers["etag"] == again.headers["etag"]
        tags.add(first.headers["etag"])
    assert len(tags) == 3
