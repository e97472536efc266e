"""A week observed on the sandbox networks: organisations in three time zones post automatically, by
hand, by repost, with and without media; one deletes a post, one loses its token, one reports URLs.
The report must match what a person counting the pages would write down, row by row."""

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from sandbox.testing import RunningSandbox
from services.scheduler.confirm_reports import TELEGRAM_WAITING, confirm_reported
from services.scheduler.observe import observe_ok, observe_vk, poll_telegram
from services.scheduler.reminders import record_midweek_reminders
from shared.adapters.observe_vk import VkWallReader
from shared.adapters.ok import OkAdapter
from shared.adapters.registry import get_adapter, get_telegram_adapter
from shared.calendar import week_label
from shared.compliance_close import close_week
from shared.models import ComplianceRule, Notification, Publication
from shared.models.enums import Role
from shared.settings import get_settings
from tests.factories import (
    make_account,
    make_channel,
    make_key,
    make_material,
    make_organisation,
    make_person,
    make_publication,
    make_subscription,
)

ADMIN_A, ADMIN_C = 100001, 100002
TOKEN_A, TOKEN_C = "vk-user-a-token", "vk-user-c-token"
CENTER_GROUP, GROUP_A, GROUP_B, GROUP_C = 300001, 200001, 200002, 200003
BOT = "7000000001:AAcompliance-bot-token-000000000001"
TG_A, TG_C = -1001000000001, -1001000000002
TG_EDITOR = 500001
OK_APP, OK_SECRET, OK_UID, OK_TOKEN = (
    "CCOMPLIANCEKEY",
    "COMPLIANCESECRET0000000000000000",
    "570000000001",
    "ok-tok",
)
OK_GROUP = "70000000000001"

WORLD: dict[str, Any] = {
    "vk": {
        "users": [{"id": ADMIN_A}, {"id": ADMIN_C}],
        "groups": [
            {"id": CENTER_GROUP, "name": "Центр", "admins": [ADMIN_A]},
            {"id": GROUP_A, "name": "Район", "admins": [ADMIN_A]},
            {"id": GROUP_B, "name": "Город", "admins": [ADMIN_A]},
            {"id": GROUP_C, "name": "Посёлок", "admins": [ADMIN_C]},
        ],
        "tokens": [
            {"token": TOKEN_A, "type": "user", "user_id": ADMIN_A},
            {"token": TOKEN_C, "type": "user", "user_id": ADMIN_C},
        ],
    },
    "telegram": {
        "bots": [{"token": BOT, "username": "region_bot"}],
        "users": [{"id": TG_EDITOR, "first_name": "Ирина"}],
        "channels": [
            {
                "id": TG_A,
                "title": "Район",
                "username": "rayon",
                "admin_bots": [BOT],
                "admin_users": [TG_EDITOR],
            },
            {"id": TG_C, "title": "Посёлок", "admin_bots": [BOT], "admin_users": [TG_EDITOR]},
        ],
    },
    "ok": {
        "apps": [{"application_key": OK_APP, "secret_key": OK_SECRET}],
        "users": [{"uid": OK_UID, "name": "Ирина", "access_token": OK_TOKEN}],
        "groups": [{"gid": OK_GROUP, "name": "Город", "admins": [OK_UID]}],
    },
}

SQUARE = (
    "Открытие нового сквера в центре города",
    "В субботу в центре города открылся новый сквер с фонтаном, детской площадкой и скамейками. "
    "Жители сами выбрали проект на голосовании прошлой весной.",
)
FESTIVAL = (
    "Фестиваль народных ремёсел пройдёт в краевом центре",
    "С 27 по 29 ноября на набережной пройдёт фестиваль народных ремёсел: мастер-классы гончаров, "
    "кузнецов и вышивальщиц, ярмарка и концерт фольклорных коллективов.",
)
VACCINE = ("Продолжается вакцинация от гриппа", "Прививку можно сделать бесплатно в любой поликлинике края.")
VACCINE_LINK = "https://region.example/news/vaccine"
PHOTO = base64.b64encode(b"\xff\xd8\xff\xe0" + b"photo" * 20).decode()


async def vk_post(sandbox: RunningSandbox, group: int, user: int, text: str, **extra: Any) -> str:
    post = await sandbox.acontrol.create(
        "vk/posts", {"owner_id": -group, "user_id": user, "text": text, "from_group": 1, **extra}
    )
    return str(post["id"])


async def build(session: AsyncSession, sandbox: RunningSandbox) -> dict[str, Any]:
    await sandbox.acontrol.reset(WORLD)
    now = datetime.now(UTC)
    week = week_label(now, "UTC")
    square = await make_material(
        session,
        status="approved",
        week=week,
        title=SQUARE[0],
        body=SQUARE[1],
        approved_at=now - timedelta(days=1),
    )
    festival = await make_material(
        session,
        status="approved",
        week=week,
        title=FESTIVAL[0],
        body=FESTIVAL[1],
        approved_at=now - timedelta(days=1),
    )
    vaccine = await make_material(
        session,
        status="approved",
        week=week,
        title=VACCINE[0],
        body=VACCINE[1],
        link=VACCINE_LINK,
        approved_at=now - timedelta(days=1),
    )
    vk_a = await make_account(session, "vk", credentials={"access_token": TOKEN_A})
    vk_c = await make_account(session, "vk", credentials={"access_token": TOKEN_C})
    bot = await make_account(session, "telegram", credentials={"bot_token": BOT})
    ok = await make_account(
        session,
        "ok",
        credentials={
            "access_token": OK_TOKEN,
            "application_key": OK_APP,
            "application_secret_key": OK_SECRET,
        },
    )
    center = await make_organisation(session, name="Центр", timezone="Asia/Vladivostok")
    center_vk = await make_channel(session, center, "vk", external_id=str(CENTER_GROUP), account_id=vk_a.id)
    far = await make_organisation(session, name="Район", timezone="Asia/Vladivostok")
    west = await make_organisation(session, name="Город", timezone="Europe/Kaliningrad")
    chita = await make_organisation(session, name="Посёлок", timezone="Asia/Chita")
    for organisation in (far, west, chita):
        await make_subscription(session, organisation)
    session.add(ComplianceRule(region=chita.region, organisation_id=chita.id, require_media=True))
    channels = {
        "far_vk": await make_channel(session, far, "vk", external_id=str(GROUP_A), account_id=vk_a.id),
        "far_tg": await make_channel(
            session, far, "telegram", external_id=str(TG_A), account_id=bot.id, url="https://t.me/rayon"
        ),
        "west_vk": await make_channel(session, west, "vk", external_id=f"club{GROUP_B}", account_id=vk_a.id),
        "west_ok": await make_channel(session, west, "ok", external_id=OK_GROUP, account_id=ok.id),
        "chita_vk": await make_channel(session, chita, "vk", external_id=str(GROUP_C), account_id=vk_c.id),
        "chita_tg": await make_channel(session, chita, "telegram", external_id=str(TG_C), account_id=bot.id),
    }
    person = await make_person(session, far, confirmed_at=now - timedelta(days=400))

    # The center posted the square on its own community (the distributor recorded it).
    center_post = await vk_post(sandbox, CENTER_GROUP, ADMIN_A, f"{SQUARE[0]}\n\n{SQUARE[1]}")
    await make_publication(
        session,
        center_vk,
        now,
        external_post_id=center_post,
        source="distributor",
        material_id=square.id,
        match_method="post_id",
    )
    # Район, VK: a repost of the center's post, the festival re-typed by hand, the vaccine link, own news,
    # and a second re-typed festival that is deleted the same week.
    await vk_post(
        sandbox, GROUP_A, ADMIN_A, "", copy_history={"owner_id": -CENTER_GROUP, "post_id": center_post}
    )
    await vk_post(
        sandbox,
        GROUP_A,
        ADMIN_A,
        "Фестиваль народных ремёсел пройдёт в краевом центре! С 27 по 29 "
        "ноября на набережной: мастер-классы гончаров, кузнецов, вышивальщиц, ярмарка и концерт.",
    )
    await vk_post(sandbox, GROUP_A, ADMIN_A, f"Не забудьте привиться: {VACCINE_LINK}")
    await vk_post(sandbox, GROUP_A, ADMIN_A, "Ремонт дороги на улице Ленина завершится в пятницу.")
    doomed = await vk_post(sandbox, GROUP_A, ADMIN_A, f"{FESTIVAL[0]}. {FESTIVAL[1]}")
    # Район, Telegram: the square with a photo, by hand; own news.
    await sandbox.acontrol.create(
        "telegram/posts",
        {"chat_id": TG_A, "user_id": TG_EDITOR, "text": f"{SQUARE[0]}. {SQUARE[1]}", "photo_base64": PHOTO},
    )
    await sandbox.acontrol.create(
        "telegram/posts",
        {"chat_id": TG_A, "user_id": TG_EDITOR, "text": "Приём граждан главой района перенесён на среду."},
    )
    # Город, VK: the distributor's square, the vaccine link, and the festival it reports by URL.
    auto = await vk_post(sandbox, GROUP_B, ADMIN_A, f"{SQUARE[0]}\n\n{SQUARE[1]}")
    await make_publication(
        session,
        channels["west_vk"],
        now,
        external_post_id=auto,
        source="distributor",
        material_id=square.id,
        match_method="post_id",
    )
    await vk_post(sandbox, GROUP_B, ADMIN_A, f"Прививка от гриппа — бесплатно. Подробности: {VACCINE_LINK}")
    reported = await vk_post(sandbox, GROUP_B, ADMIN_A, f"{FESTIVAL[1]}")
    # Город, OK: the square by hand; and a report of a topic that does not exist.
    await sandbox.acontrol.create(
        "ok/topics", {"gid": OK_GROUP, "uid": OK_UID, "text": f"{SQUARE[0]}. {SQUARE[1]}"}
    )
    # Посёлок (photo or video required): Telegram square with a photo, festival without; VK token revoked.
    await sandbox.acontrol.create(
        "telegram/posts",
        {"chat_id": TG_C, "user_id": TG_EDITOR, "text": f"{SQUARE[0]}. {SQUARE[1]}", "photo_base64": PHOTO},
    )
    await sandbox.acontrol.create(
        "telegram/posts", {"chat_id": TG_C, "user_id": TG_EDITOR, "text": f"{FESTIVAL[0]}. {FESTIVAL[1]}"}
    )
    await vk_post(sandbox, GROUP_C, ADMIN_C, f"{VACCINE[0]}. {VACCINE_LINK}")
    await sandbox.acontrol.revoke("vk", TOKEN_C)
    # Reports through the feed (what the feed's reporting back writes): one real, one bogus.
    for channel, post_id, url in (
        (channels["west_vk"], reported, f"https://vk.com/wall-{GROUP_B}_{reported}"),
        (channels["west_ok"], "999999", f"https://ok.ru/group/{OK_GROUP}/topic/999999"),
    ):
        await make_publication(
            session,
            channel,
            now,
            external_post_id=post_id,
            url=url,
            source="reported",
            material_id=festival.id,
            match_method="reported",
            reported_at=now,
        )
    await session.flush()
    return {
        "now": now,
        "channels": channels,
        "doomed": doomed,
        "person": person,
        "far": far,
        "organisations": [(far.id, far.timezone), (west.id, west.timezone), (chita.id, chita.timezone)],
        "materials": (square, festival, vaccine),
    }


async def report_rows(
    client: httpx.AsyncClient, headers: dict[str, str], world: dict[str, Any]
) -> dict[str, tuple[Any, ...]]:
    rows: dict[int, dict[str, Any]] = {}
    for organisation_id, timezone in world["organisations"]:
        label = week_label(world["now"], timezone)  # each organisation's own week
        reply = await client.get(
            f"/api/v1/compliance/weeks/{label}/report",
            params={"organisation_id": organisation_id},
            headers=headers,
        )
        assert reply.status_code == 200, reply.text
        rows.update({row["channel_id"]: row for row in reply.json()["rows"]})
    return {
        name: (
            rows[channel.id]["posts"],
            rows[channel.id]["counted"],
            rows[channel.id]["met"],
            rows[channel.id]["reason_code"],
        )
        for name, channel in world["channels"].items()
    }


async def observe_everything(session: AsyncSession, now: datetime) -> dict[str, Any]:
    settings = get_settings()
    reader = VkWallReader(settings)
    ok = get_adapter("ok")
    assert isinstance(ok, OkAdapter)
    try:
        confirmed = await confirm_reported(
            session, now, reader=reader, ok=ok, limiter=None, settings=settings
        )
        vk = await observe_vk(session, now, limiter=None, reader=reader, settings=settings)
        ok_result = await observe_ok(session, now, limiter=None, adapter=ok, settings=settings)
        telegram = await poll_telegram(session, now, adapter=get_telegram_adapter(), settings=settings)
    finally:
        await reader.aclose()
    return {"confirmed": confirmed, "vk": vk, "ok": ok_result, "telegram": telegram}


async def test_observed_week_matches_what_a_person_would_count(
    client: httpx.AsyncClient, session: AsyncSession, sandbox: RunningSandbox
) -> None:
    world = await build(session, sandbox)
    monitor = await make_key(session, Role.monitor)
    # Before observation only the distributor's rows count; reports wait for confirmation.
    before = await report_rows(client, monitor, world)
    assert before["west_vk"] == (1, 1, False, "too_few_posts")

    first = await observe_everything(session, world["now"])
    assert first["confirmed"].confirmed == 1
    assert first["vk"].requests == 2  # two tokens, one execute each (25 walls fit in one)
    assert first["vk"].by_method == {"repost": 1, "text_similarity": 2, "link": 2}
    assert first["telegram"].by_method == {"text_similarity": 3}
    # The second re-typed festival is deleted the same week: the next pass finds it gone.
    await sandbox.acontrol.create("vk/posts/delete", {"owner_id": -GROUP_A, "post_id": int(world["doomed"])})
    again = await observe_everything(session, world["now"] + timedelta(minutes=15))
    assert (again["vk"].new, again["vk"].deleted) == (0, 1)

    expected = {
        # (posts standing, counted, met, reason) — as a person counting the pages would
        "far_vk": (4, 3, True, None),  # repost of the square, festival re-typed, vaccine link; own news
        "far_tg": (2, 1, False, "too_few_posts"),  # square with photo; own news
        "west_vk": (3, 3, True, None),  # distributor's square, vaccine link, reported festival (confirmed)
        "west_ok": (1, 1, False, "too_few_posts"),  # square by hand; the bogus report never counts
        "chita_vk": (0, 0, False, "credentials_invalid"),  # token revoked: the wall cannot be read
        "chita_tg": (2, 1, False, "posts_without_media"),  # photo required: festival has none
    }
    assert await report_rows(client, monitor, world) == expected

    reports = (await client.get("/api/v1/compliance/reported-publications", headers=monitor)).json()["items"]
    by_url = {item["url"]: item for item in reports}
    bogus = by_url[f"https://ok.ru/group/{OK_GROUP}/topic/999999"]
    assert bogus["confirmed_at"] is None
    assert "999999 is not among the group's newest" in bogus["confirmation_error"]


async def test_closed_week_keeps_its_figures_when_a_post_disappears(
    client: httpx.AsyncClient, session: AsyncSession, sandbox: RunningSandbox
) -> None:
    world = await build(session, sandbox)
    monitor = await make_key(session, Role.monitor)
    await observe_everything(session, world["now"])
    before = await report_rows(client, monitor, world)
    label = week_label(world["now"], "Asia/Vladivostok")
    settings = get_settings().model_copy(update={"compliance_close_after_s": -8 * 24 * 3600})
    closed = await close_week(session, label, datetime.now(UTC), settings, organisation_ids=[world["far"].id])
    assert closed[0] == 1
    repost = (
        await session.exec(
            select(Publication).where(
                Publication.channel_id == world["channels"]["far_vk"].id, Publication.match_method == "repost"
            )
        )
    ).one()
    await sandbox.acontrol.create(
        "vk/posts/delete", {"owner_id": -GROUP_A, "post_id": int(repost.external_post_id)}
    )
    result = await observe_everything(session, datetime.now(UTC))
    assert result["vk"].deleted == 1
    after = await report_rows(client, monitor, world)
    assert after == before
    evidence = (
        await client.get(
            f"/api/v1/compliance/weeks/{label}/organisations/{world['far'].id}/evidence",
            params={"channel_id": world["channels"]["far_vk"].id},
            headers=monitor,
        )
    ).json()
    events = [item for item in evidence["publications"] if item["later_event"]]
    assert [item["external_post_id"] for item in events] == [repost.external_post_id]


async def test_midweek_reminders_name_the_channel_count_and_three_items(
    session: AsyncSession, sandbox: RunningSandbox
) -> None:
    world = await build(session, sandbox)
    await observe_everything(session, world["now"])
    extra = [
        await make_material(
            session,
            status="approved",
            week=week_label(world["now"], "UTC"),
            title=f"Новость {n}",
            link=f"https://region.example/{n}",
        )
        for n in range(3)
    ]
    # Far east: Thursday noon local is past the reminder time (Wednesday 12:00) in any case.
    local_thursday = world["now"]
    monday = local_thursday - timedelta(days=local_thursday.weekday())
    moment = monday.replace(hour=3, minute=0, second=0, microsecond=0) + timedelta(days=3)  # Thu 13:00 UTC+10
    first = await record_midweek_reminders(session, moment)
    second = await record_midweek_reminders(session, moment)
    assert first.reminders >= 1
    assert second.reminders == first.reminders
    rows = (
        await session.exec(select(Notification).where(Notification.organisation_id == world["far"].id))
    ).all()
    reminders = [row for row in rows if row.kind == "compliance_reminder"]
    assert len(reminders) == 1  # far_tg is behind; far_vk met; one person, deduplicated across runs
    text = reminders[0].text
    assert "засчитано 1 из 3" in text
    assert "Telegram" in text
    assert sum(1 for line in text.splitlines() if line[:2] in ("1.", "2.", "3.")) == 3
    assert "https://region.example/" in text
    assert reminders[0].person_id == world["person"].id
    stale = [row for row in rows if row.kind == "responsible_list_stale"]
    assert len(stale) == 1
    assert "не подтверждён" in stale[0].text
    _ = extra


async def test_telegram_report_waits_for_the_bot_to_see_the_post(
    session: AsyncSession, sandbox: RunningSandbox
) -> None:
    world = await build(session, sandbox)
    channel = world["channels"]["far_tg"]
    report = await make_publication(
        session,
        channel,
        world["now"],
        external_post_id="424242",
        source="reported",
        url="https://t.me/rayon/424242",
        reported_at=world["now"],
    )
    await observe_everything(session, world["now"])
    await session.refresh(report)
    assert report.confirmed_at is None
    assert report.confirmation_error == TELEGRAM_WAITING
