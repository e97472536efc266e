"""The week's report counts what a person would count, row by row; a closed week never changes."""

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from openpyxl import load_workbook
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.compliance_close import close_week
from shared.models import ComplianceRule, Publication
from shared.models.enums import Role
from tests.factories import (
    make_channel,
    make_key,
    make_material,
    make_organisation,
    make_publication,
    make_subscription,
)

WEEK = "2026-W48"  # Monday 2026-11-23
VLADIVOSTOK_MONDAY = datetime(2026, 11, 22, 14, 0, tzinfo=UTC)  # 00:00 local (UTC+10)
KALININGRAD_MONDAY = datetime(2026, 11, 22, 22, 0, tzinfo=UTC)  # 00:00 local (UTC+2)


async def build_week(session: AsyncSession) -> dict[str, Any]:
    materials = [
        await make_material(session, status="approved", week=WEEK, title=f"Материал {n}") for n in range(4)
    ]
    m1, m2, m3, m4 = (material.id for material in materials)
    far = await make_organisation(session, name="Район (Владивосток)", timezone="Asia/Vladivostok")
    await make_subscription(session, far)
    vk1 = await make_channel(session, far, "vk")
    # Registered long ago: a channel appears in a week's report only if it existed before the week ended.
    vk2 = await make_channel(session, far, "vk", created_at=datetime(2026, 10, 1, tzinfo=UTC))
    tg = await make_channel(session, far, "telegram")
    ok = await make_channel(
        session,
        far,
        "ok",
        status="credentials_invalid",
        status_changed_at=VLADIVOSTOK_MONDAY + timedelta(days=2),
    )
    day = VLADIVOSTOK_MONDAY + timedelta(hours=10)
    # vk1: m1 twice (counts once), m2 deleted within the week, m3 reported but unconfirmed, m4, own news.
    await make_publication(session, vk1, day, material_id=m1, match_method="text_similarity")
    await make_publication(session, vk1, day + timedelta(days=1), material_id=m1, match_method="link")
    await make_publication(
        session, vk1, day, material_id=m2, match_method="repost", deleted_at=day + timedelta(days=1)
    )
    await make_publication(
        session, vk1, day, material_id=m3, source="reported", match_method="reported", reported_at=day
    )
    counted_m4 = await make_publication(
        session, vk1, day + timedelta(days=2), material_id=m4, match_method="post_id", source="distributor"
    )
    await make_publication(session, vk1, day, text="Своя новость")
    # vk2: three materials, the first one minute into Monday local time; one a minute before (last week).
    await make_publication(
        session,
        vk2,
        VLADIVOSTOK_MONDAY + timedelta(minutes=1),
        material_id=m1,
        source="distributor",
        match_method="post_id",
    )
    await make_publication(
        session,
        vk2,
        VLADIVOSTOK_MONDAY - timedelta(minutes=1),
        material_id=m4,
        source="distributor",
        match_method="post_id",
    )
    await make_publication(session, vk2, day, material_id=m2, source="distributor", match_method="post_id")
    await make_publication(
        session, vk2, day + timedelta(days=6), material_id=m3, source="distributor", match_method="post_id"
    )
    # A post deleted only after the week ended still counts for it.
    await make_publication(
        session,
        vk2,
        day,
        material_id=m4,
        source="observed",
        match_method="link",
        deleted_at=VLADIVOSTOK_MONDAY + timedelta(days=7, hours=1),
    )

    west = await make_organisation(
        session, name="Город (Калининград)", timezone="Europe/Kaliningrad", region="Калужская область"
    )
    await make_subscription(session, west, topics=["спорт"])  # no material of the week has this topic
    session.add(
        ComplianceRule(
            region=west.region,
            organisation_id=west.id,
            min_items_per_channel=3,
            center_min_items=0,
            require_media=True,
            count_any_post=True,
        )
    )
    vk_west = await make_channel(session, west, "vk")
    west_day = KALININGRAD_MONDAY + timedelta(hours=12)
    await make_publication(session, vk_west, west_day, material_id=m1, has_photo=True)
    await make_publication(session, vk_west, west_day, material_id=m2)
    await make_publication(session, vk_west, west_day, has_video=True, text="Своя новость с видео")
    # Sunday 23:30 in Kaliningrad is still week 48 there (it is Monday 07:30 in Vladivostok).
    await make_publication(
        session, vk_west, KALININGRAD_MONDAY + timedelta(days=7, minutes=-30), material_id=m3, has_photo=True
    )

    lonely = await make_organisation(session, name="Поселение без подписки", timezone="Asia/Chita")
    tg_lonely = await make_channel(session, lonely, "telegram")
    await session.flush()
    return {
        "far": far,
        "west": west,
        "lonely": lonely,
        "vk1": vk1,
        "vk2": vk2,
        "tg": tg,
        "ok": ok,
        "vk_west": vk_west,
        "tg_lonely": tg_lonely,
        "counted_m4": counted_m4,
    }


def by_channel(report: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {row["channel_id"]: row for row in report["rows"]}


async def test_report_counts_what_a_person_would_count(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_week(session)
    monitor = await make_key(session, Role.monitor)
    ids = [world[name].id for name in ("far", "west", "lonely")]
    response = await client.get(f"/api/v1/compliance/weeks/{WEEK}/report", headers=monitor)
    assert response.status_code == 200, response.text
    rows = {row["channel_id"]: row for row in response.json()["rows"] if row["organisation_id"] in ids}
    expected = {
        # channel: (posts standing, counted, required, met, reason_code)
        world["vk1"].id: (4, 2, 3, False, "too_few_posts"),
        world["vk2"].id: (4, 4, 3, True, None),
        world["tg"].id: (0, 0, 3, False, "no_posts"),
        world["ok"].id: (0, 0, 3, False, "credentials_invalid"),
        world["vk_west"].id: (4, 3, 3, True, None),
        world["tg_lonely"].id: (0, 0, 3, False, "not_subscribed"),
    }
    actual = {
        channel: (row["posts"], row["counted"], row["required"], row["met"], row["reason_code"])
        for channel, row in rows.items()
    }
    assert actual == expected
    assert rows[world["ok"].id]["reason"] == "channel credentials invalid since 2026-11-25 00:00"
    far_row = rows[world["vk1"].id]
    assert (far_row["center_items"], far_row["center_required"], far_row["center_met"]) == (4, 10, False)
    west_row = rows[world["vk_west"].id]
    assert (west_row["center_items"], west_row["center_required"], west_row["center_met"]) == (0, 0, True)
    assert west_row["require_media"] is True
    assert west_row["week_start"] == "2026-11-23T00:00:00+02:00"


async def test_media_rule_names_posts_without_media(client: httpx.AsyncClient, session: AsyncSession) -> None:
    world = await build_week(session)
    session.add(
        ComplianceRule(
            region="Хабаровский край",
            organisation_id=None,
            min_items_per_channel=3,
            center_min_items=10,
            require_media=True,
            count_any_post=False,
        )
    )
    await session.flush()
    monitor = await make_key(session, Role.monitor)
    response = await client.get(
        f"/api/v1/compliance/weeks/{WEEK}/report",
        params={"organisation_id": world["far"].id},
        headers=monitor,
    )
    rows = by_channel(response.json())
    assert (rows[world["vk2"].id]["counted"], rows[world["vk2"].id]["reason_code"]) == (
        0,
        "posts_without_media",
    )
    assert rows[world["vk2"].id]["reason"] == "posts without media"


async def test_evidence_lists_every_publication_with_why_it_did_not_count(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_week(session)
    monitor = await make_key(session, Role.monitor)
    response = await client.get(
        f"/api/v1/compliance/weeks/{WEEK}/organisations/{world['far'].id}/evidence",
        params={"channel_id": world["vk1"].id},
        headers=monitor,
    )
    assert response.status_code == 200, response.text
    items = response.json()["publications"]
    reasons = sorted(item["not_counted_reason"] or "counted" for item in items)
    assert reasons == ["counted", "counted", "deleted", "duplicate_material", "not_regional", "unconfirmed"]
    assert all(item["url"] for item in items)
    assert len(response.json()["center_materials"]) == 4


async def test_closed_week_does_not_change_and_shows_later_deletions(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_week(session)
    monitor = await make_key(session, Role.monitor)
    before = (
        await client.get(
            f"/api/v1/compliance/weeks/{WEEK}/report",
            params={"organisation_id": world["far"].id},
            headers=monitor,
        )
    ).json()
    closed_at = datetime(2026, 12, 3, tzinfo=UTC)
    organisations, channels, evidence = await close_week(
        session, WEEK, closed_at, organisation_ids=[world["far"].id]
    )
    assert (organisations, channels) == (1, 4)
    assert evidence == 10
    again = await close_week(session, WEEK, closed_at, organisation_ids=[world["far"].id])
    assert again == (0, 0, 0)
    # After closing: a counted post is deleted, a new one appears, the rule changes.
    counted: Publication = world["counted_m4"]
    counted.deleted_at = closed_at + timedelta(days=1)
    session.add(counted)
    await make_publication(
        session,
        world["tg"],
        VLADIVOSTOK_MONDAY + timedelta(days=1),
        material_id=None,
        text="поздно найденная новость",
    )
    session.add(
        ComplianceRule(
            region="Хабаровский край",
            organisation_id=world["far"].id,
            min_items_per_channel=1,
            center_min_items=1,
            count_any_post=True,
        )
    )
    await session.flush()
    after = (
        await client.get(
            f"/api/v1/compliance/weeks/{WEEK}/report",
            params={"organisation_id": world["far"].id},
            headers=monitor,
        )
    ).json()

    def frozen(report: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [
            (
                row["channel_id"],
                row["posts"],
                row["counted"],
                row["required"],
                row["met"],
                row["reason_code"],
                row["center_items"],
            )
            for row in report["rows"]
        ]

    assert frozen(after) == frozen(before)
    assert {row["state"] for row in after["rows"]} == {"closed"}
    evidence_items = (
        await client.get(
            f"/api/v1/compliance/weeks/{WEEK}/organisations/{world['far'].id}/evidence",
            params={"channel_id": world["vk1"].id},
            headers=monitor,
        )
    ).json()["publications"]
    later = [item for item in evidence_items if item["later_event"]]
    assert len(later) == 1
    assert later[0]["counted"] is True
    assert later[0]["later_event"].startswith("deleted on 2026-12-04")


async def test_report_pages_by_organisation_and_the_pages_add_up_to_the_whole_week(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await build_week(session)
    monitor = await make_key(session, Role.monitor)
    path = f"/api/v1/compliance/weeks/{WEEK}/report"
    whole = (await client.get(path, headers=monitor)).json()
    assert whole["next_after"] is None
    pages, after = [], 0
    while True:
        page = (await client.get(path, params={"after": after, "limit": 1}, headers=monitor)).json()
        pages.append(page)
        assert page["organisations"] <= 1
        assert len({row["organisation_id"] for row in page["rows"]}) == page["organisations"]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    walked = [row for page in pages for row in page["rows"]]
    assert walked == whole["rows"]
    assert sum(page["channels"] for page in pages) == whole["channels"]
    too_many = await client.get(path, params={"limit": 5001}, headers=monitor)
    assert too_many.status_code == 422


async def test_operator_sees_only_its_own_organisation(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_week(session)
    operator = await make_key(session, Role.operator, world["west"].id)
    report = (await client.get(f"/api/v1/compliance/weeks/{WEEK}/report", headers=operator)).json()
    assert {row["organisation_id"] for row in report["rows"]} == {world["west"].id}
    refused = await client.get(
        f"/api/v1/compliance/weeks/{WEEK}/report",
        params={"organisation_id": world["far"].id},
        headers=operator,
    )
    assert refused.status_code == 403
    evidence = await client.get(
        f"/api/v1/compliance/weeks/{WEEK}/organisations/{world['far'].id}/evidence", headers=operator
    )
    assert evidence.status_code == 403
    summary = (await client.get(f"/api/v1/compliance/weeks/{WEEK}/summary", headers=operator)).json()
    assert summary["weeks"][-1]["organisations"] == 1


async def test_exports_have_russian_headers_and_the_same_rows(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    world = await build_week(session)
    monitor = await make_key(session, Role.monitor)
    params = {"organisation_id": world["far"].id}
    csv_reply = await client.get(
        f"/api/v1/compliance/weeks/{WEEK}/report/export", params={**params, "format": "csv"}, headers=monitor
    )
    assert csv_reply.status_code == 200
    assert csv_reply.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_reply.headers["content-disposition"]
    lines = list(csv.reader(io.StringIO(csv_reply.content.decode("utf-8-sig")), delimiter=";"))
    assert lines[0][:5] == ["Неделя", "Организация", "Регион", "Площадка", "Канал"]
    assert len(lines) == 1 + 4
    reasons = {line[12] for line in lines[1:]}
    assert reasons == {
        "недостаточно публикаций",
        "",
        "нет публикаций",
        "доступ к каналу утрачен с 2026-11-25 00:00",
    }
    xlsx_reply = await client.get(
        f"/api/v1/compliance/weeks/{WEEK}/report/export", params={**params, "format": "xlsx"}, headers=monitor
    )
    sheet = load_workbook(io.BytesIO(xlsx_reply.content)).active
    assert sheet is not None
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert table[0][9:12] == ["Засчитано", "Требуется", "Норма выполнена"]
    assert sorted(row[9] for row in table[1:]) == [0, 0, 2, 4]
    for path in (
        f"/api/v1/compliance/weeks/{WEEK}/summary/export",
        f"/api/v1/compliance/weeks/{WEEK}/organisations/{world['far'].id}/evidence/export",
        f"/api/v1/compliance/organisations/{world['far'].id}/history/export",
    ):
        reply = await client.get(path, params={"format": "csv", "until": WEEK, "weeks": 2}, headers=monitor)
        assert reply.status_code == 200, (path, reply.text)
        header = reply.content.decode("utf-8-sig").splitlines()[0]
        assert header.startswith("Неделя;"), header


async def test_history_and_summary(client: httpx.AsyncClient, session: AsyncSession) -> None:
    world = await build_week(session)
    monitor = await make_key(session, Role.monitor)
    history = (
        await client.get(
            f"/api/v1/compliance/organisations/{world['far'].id}/history",
            params={"until": WEEK, "weeks": 3},
            headers=monitor,
        )
    ).json()
    assert [week["week"] for week in history["weeks"]] == ["2026-W46", "2026-W47", "2026-W48"]
    # The Sunday-night post on vk2 belongs to W47; the other channels were registered after W47 ended.
    assert [(row["channel_id"], row["counted"]) for row in history["weeks"][1]["rows"]] == [
        (world["vk2"].id, 1)
    ]
    assert history["weeks"][2]["channels_met"] == 1
    summary = (
        await client.get(
            f"/api/v1/compliance/weeks/{WEEK}/summary",
            params={"region": "Хабаровский край", "weeks": 2},
            headers=monitor,
        )
    ).json()
    last = summary["weeks"][-1]
    assert last["channels"] >= 5
    assert last["reasons"]["no_posts"] >= 1
    bad = await client.get("/api/v1/compliance/weeks/2026-W54/report", headers=monitor)
    assert bad.status_code == 422


async def test_rules_are_data_set_by_admins(client: httpx.AsyncClient, session: AsyncSession) -> None:
    organisation = await make_organisation(session, region="Калужская область")
    admin = await make_key(session, Role.admin)
    effective = (
        await client.get(f"/api/v1/compliance/rules/organisations/{organisation.id}", headers=admin)
    ).json()
    assert effective["source"] == "default"
    put = await client.put(
        "/api/v1/compliance/rules/regions/Калужская область",
        json={"min_items_per_channel": 3, "center_min_items": 10, "require_media": True},
        headers=admin,
    )
    assert put.status_code == 200, put.text
    effective = (
        await client.get(f"/api/v1/compliance/rules/organisations/{organisation.id}", headers=admin)
    ).json()
    assert (effective["source"], effective["require_media"]) == ("region", True)
    own = await client.put(
        f"/api/v1/compliance/rules/organisations/{organisation.id}",
        json={"min_items_per_channel": 5},
        headers=admin,
    )
    assert own.json()["min_items_per_channel"] == 5
    effective = (
        await client.get(f"/api/v1/compliance/rules/organisations/{organisation.id}", headers=admin)
    ).json()
    assert (effective["source"], effective["min_items_per_channel"]) == ("organisation", 5)
    gone = await client.delete(f"/api/v1/compliance/rules/organisations/{organisation.id}", headers=admin)
    assert gone.status_code == 204
    listed = (
        await client.get("/api/v1/compliance/rules", params={"region": "Калужская область"}, headers=admin)
    ).json()
    assert [rule["organisation_id"] for rule in listed] == [None]
