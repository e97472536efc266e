from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.feed_links import media_signature
from shared.models import Publication
from shared.settings import get_settings
from tests.factories import make_channel, make_media
from tests.feed.helpers import approved, feed_organisation


@pytest.mark.parametrize(
    ("platform", "external_id", "url", "post_id"),
    [
        ("vk", "200123", "https://vk.com/wall-200123_345", "345"),
        ("vk", "200124", "https://vk.com/club200124?w=wall-200124_7", "7"),
        ("telegram", "-1001000000077", "https://t.me/obninsk_news/812", "812"),
        ("telegram", "-1001000000078", "https://t.me/c/1000000078/99", "99"),
        ("ok", "70000000000123", "https://ok.ru/group/70000000000123/topic/155", "155"),
    ],
)
async def test_a_reported_post_becomes_an_unconfirmed_reported_publication(
    client: httpx.AsyncClient, session: AsyncSession, platform: str, external_id: str, url: str, post_id: str
) -> None:
    org = await feed_organisation(session)
    channel_url = "https://t.me/obninsk_news" if external_id.endswith("77") else None
    channel = await make_channel(
        session,
        org.organisation,
        platform,
        external_id=external_id,
        **({"url": channel_url} if channel_url else {}),
    )
    material = await approved(session)
    response = await client.post(
        "/api/v1/feed/publications", json={"material_id": material.id, "url": url}, headers=org.headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["channel_id"], body["external_post_id"], body["source"], body["match_method"]) == (
        channel.id,
        post_id,
        "reported",
        "reported",
    )
    assert body["confirmed_at"] is None
    assert body["reported_at"] is not None
    again = await client.post(
        "/api/v1/feed/publications", json={"material_id": material.id, "url": url}, headers=org.headers
    )
    assert (again.status_code, again.json()["id"]) == (200, body["id"])
    rows = (await session.exec(select(Publication).where(Publication.channel_id == channel.id))).all()
    assert len(rows) == 1


async def test_reports_name_the_field_that_is_wrong(client: httpx.AsyncClient, session: AsyncSession) -> None:
    org = await feed_organisation(session)
    other = await feed_organisation(session)
    await make_channel(session, org.organisation, "vk", external_id="300001")
    foreign = await make_channel(session, other.organisation, "vk", external_id="300002")
    material = await approved(session)
    draft = await approved(session, status="draft")
    cases = [
        ({"material_id": material.id, "url": "https://example.ru/news/1"}, "body.url"),
        ({"material_id": material.id, "url": "https://vk.com/obninsk"}, "body.url"),
        ({"material_id": material.id, "url": "https://vk.com/wall-300002_5"}, "body.url"),
        (
            {"material_id": material.id, "url": "https://vk.com/wall-300002_5", "channel_id": foreign.id},
            "body.channel_id",
        ),
        ({"material_id": material.id, "url": "not a url"}, "body.url"),
        ({"material_id": draft.id, "url": "https://vk.com/wall-300001_5"}, "body.material_id"),
    ]
    for payload, field in cases:
        response = await client.post("/api/v1/feed/publications", json=payload, headers=org.headers)
        assert response.status_code == 422, (payload, response.text)
        assert response.json()["detail"][0]["field"] == field, (payload, response.text)


async def test_a_post_already_known_for_another_material_is_a_conflict(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await feed_organisation(session)
    channel = await make_channel(session, org.organisation, "vk", external_id="300010")
    first, second = await approved(session), await approved(session)
    session.add(
        Publication(
            channel_id=channel.id,
            organisation_id=org.id,
            external_post_id="9",
            source="observed",
            material_id=first.id,
            match_method="post_id",
            published_at=datetime.now(UTC),
        )
    )
    await session.flush()
    url = "https://vk.com/wall-300010_9"
    same = await client.post(
        "/api/v1/feed/publications", json={"material_id": first.id, "url": url}, headers=org.headers
    )
    assert (same.status_code, same.json()["source"]) == (200, "observed")
    other = await client.post(
        "/api/v1/feed/publications", json={"material_id": second.id, "url": url}, headers=org.headers
    )
    assert other.status_code == 409


async def test_signed_media_links_serve_the_file_without_a_key_until_they_expire(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await feed_organisation(session)
    material = await approved(session)
    photo = await make_media(session, material, data=b"\xff\xd8\xff\xe0signed-link-bytes")
    item = (await client.get("/api/v1/feed", headers=org.headers)).json()["items"][0]
    url = item["media"][0]["url"].removeprefix(get_settings().public_base_url)
    served = await client.get(url)
    assert served.status_code == 200
    assert served.content == b"\xff\xd8\xff\xe0signed-link-bytes"
    assert served.headers["content-type"] == "image/jpeg"
    tampered = await client.get(url.replace(f"/media/{photo.id}?", f"/media/{photo.id + 1}?"))
    assert tampered.status_code == 403
    key = get_settings().resolved_feed_signing_key()
    past = int((datetime.now(UTC) - timedelta(minutes=1)).timestamp())
    expired = await client.get(
        f"/api/v1/feed/media/{photo.id}",
        params={"expires": past, "signature": media_signature(key, photo.id, past)},
    )
    assert expired.status_code == 403
    material.status = "withdrawn"
    session.add(material)
    await session.flush()
    assert (await client.get(url)).status_code == 410
