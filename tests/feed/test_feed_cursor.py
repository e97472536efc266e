"""Changes mode: paging never skips or repeats an item, whatever is added or changed between pages."""

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.security import generate_key
from tests.feed.helpers import FeedOrganisation, approved, feed_organisation


async def page(
    client: httpx.AsyncClient, org: FeedOrganisation, cursor: str, limit: int = 2
) -> dict[str, Any]:
    response = await client.get(
        "/api/v1/feed", headers=org.headers, params={"cursor": cursor, "limit": limit}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_pages_neither_skip_nor_repeat_when_items_are_added_and_changed_between_pages(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    topic = f"cursor-{uuid.uuid4().hex[:8]}"
    org = await feed_organisation(session, topics=[topic])
    materials = [await approved(session, topics=[topic], week=f"2031-W{week:02d}") for week in range(1, 6)]
    first = await page(client, org, "start")
    seen = [(item["id"], item["version"]) for item in first["items"]]
    assert [item_id for item_id, _ in seen] == [materials[0].id, materials[1].id]
    assert first["has_more"] is True

    # Between pages: a new item, a change to an item already read, a change to one not yet read.
    added = await approved(session, topics=[topic], week="2031-W09")
    for material in (materials[0], materials[3]):
        material.title, material.version = material.title + " (исправлено)", material.version + 1
        session.add(material)
    await session.flush()

    cursor = first["next_cursor"]
    while True:
        body = await page(client, org, cursor)
        seen += [(item["id"], item["version"]) for item in body["items"]]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
    ids = [item_id for item_id, _ in seen]
    assert sorted(set(ids)) == sorted([m.id for m in materials] + [added.id])
    # Only the item changed after it was read comes again — with its new version; nothing else repeats.
    assert ids.count(materials[0].id) == 2
    assert [version for item_id, version in seen if item_id == materials[0].id] == [1, 2]
    assert ids.count(materials[3].id) == 1
    assert len(ids) == len(set(ids)) + 1
    assert (await page(client, org, cursor))["items"] == []


async def test_week_mode_gives_a_cursor_to_follow_changes_from(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    org = await feed_organisation(session)
    await approved(session)
    week = (await client.get("/api/v1/feed", headers=org.headers)).json()
    assert (await page(client, org, week["next_cursor"]))["items"] == []
    later = await approved(session)
    assert [item["id"] for item in (await page(client, org, week["next_cursor"]))["items"]] == [later.id]


INSERT_ORGANISATION = """
INSERT INTO organisation (name, kind, region, timezone, is_active, created_at, updated_at)
VALUES (:name, 'settlement', 'Калужская область', 'Europe/Moscow', true, now(), now()) RETURNING id
"""
INSERT_SUBSCRIPTION = """
INSERT INTO subscription (organisation_id, topics, channel_ids, mode, items_per_week, window_start,
    window_end,
    weekdays, is_active, created_at, updated_at)
VALUES (:organisation_id, :topics, '{}', 'feed', 3, '09:00', '20:00', '{1,2,3,4,5}', true, now(), now())
"""
INSERT_KEY = """
INSERT INTO api_key (name, role, organisation_id, prefix, key_hash, created_at)
VALUES ('feed', 'feed', :organisation_id, :prefix, :hash, now())
"""
INSERT_MATERIAL = text(
    "INSERT INTO material (title, body, hashtags, topics, priority, week, status, approved_at, version, "
    "created_at, updated_at) VALUES (:title, 'Текст', '{}', '{concurrent-cursor}', 'normal', '2031-W20', "
    "'approved', now(), 1, now(), now()) RETURNING id"
)


async def test_a_transaction_that_commits_late_never_slips_behind_a_cursor(
    production_client: httpx.AsyncClient, committing: list[AsyncConnection]
) -> None:
    """Transaction A writes first and commits last; B writes later and commits at once. A reader must not
    get B's item before A's is readable — or A's item would land behind the reader's cursor and be lost."""
    slow, fast = committing
    organisation_id, key = await committed_feed_key(fast)
    org = FeedOrganisation(organisation=None, headers={"X-API-Key": key})  # type: ignore[arg-type]
    org_params = {"organisation_id": organisation_id}
    start = await production_client.get(
        "/api/v1/feed", headers=org.headers, params={**org_params, "cursor": "start"}
    )
    assert start.json()["items"] == []
    cursor = start.json()["next_cursor"]

    a = await slow.begin()
    late = (await slow.execute(INSERT_MATERIAL, {"title": "A: записан первым"})).scalar_one()
    directory = production_client._transport.app.state.feed_directory  # type: ignore[attr-defined]
    before_b = directory.version
    b = await fast.begin()
    early = (await fast.execute(INSERT_MATERIAL, {"title": "B: записан вторым"})).scalar_one()
    await b.commit()
    # API processes learn of commits by notification: wait for it, as a poll a moment later would.
    await asyncio.wait_for(directory.wait_past(before_b), timeout=10)

    while_a_runs = await page(production_client, org, cursor, limit=10)
    assert while_a_runs["items"] == [], "B's item must wait until A's fate is known"
    assert while_a_runs["next_cursor"] == cursor

    before_a = directory.version
    await a.commit()
    await asyncio.wait_for(directory.wait_past(before_a), timeout=10)
    after = await page(production_client, org, cursor, limit=10)
    assert [item["id"] for item in after["items"]] == [late, early]


async def committed_feed_key(
    connection: AsyncConnection, topic: str = "concurrent-cursor"
) -> tuple[int, str]:
    """An organisation subscribed to ``topic`` with a feed key, committed; (organisation id, key)."""
    async with connection.begin():
        organisation_id = (
            await connection.execute(
                text(INSERT_ORGANISATION),
                {"name": f"concurrent-cursor-{uuid.uuid4().hex[:8]}"},
            )
        ).scalar_one()
        await connection.execute(
            text(INSERT_SUBSCRIPTION),
            {"organisation_id": organisation_id, "topics": [topic]},
        )
        key = generate_key()
        await connection.execute(
            text(INSERT_KEY),
            {"organisation_id": organisation_id, "prefix": key.prefix, "hash": key.key_hash},
        )
    return organisation_id, key.plaintext


async def test_polls_served_from_memory_see_edits_and_revocations_once_notified(
    production_client: httpx.AsyncClient, committing: list[AsyncConnection]
) -> None:
    writer = committing[0]
    _, key = await committed_feed_key(writer)
    headers = {"X-API-Key": key}
    params = {"cursor": "start"}
    async with writer.begin():
        material_id = (await writer.execute(INSERT_MATERIAL, {"title": "Первая версия"})).scalar_one()
    first = await production_client.get("/api/v1/feed", headers=headers, params=params)
    assert first.status_code == 200
    directory = production_client._transport.app.state.feed_directory  # type: ignore[attr-defined]
    again = await production_client.get("/api/v1/feed", headers=headers, params=params)
    assert again.headers["etag"] == first.headers["etag"]

    version = directory.version
    async with writer.begin():
        await writer.execute(
            text("UPDATE material SET title = 'Вторая версия', version = 2 WHERE id = :id"),
            {"id": material_id},
        )
    await asyncio.wait_for(directory.wait_past(version), timeout=10)
    edited = await production_client.get("/api/v1/feed", headers=headers, params=params)
    assert edited.json()["items"][0]["title"] == "Вторая версия"

    version = directory.version
    async with writer.begin():
        await writer.execute(
            text("UPDATE api_key SET revoked_at = now() WHERE prefix = :p"), {"p": key.split("_")[1]}
        )
    await asyncio.wait_for(directory.wait_past(version), timeout=10)
    revoked = await production_client.get("/api/v1/feed", headers=headers, params=params)
    assert revoked.status_code == 401
