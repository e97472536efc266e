"""A small demo region (Obninsk): organisations, accounts, channels, people, subscriptions and a
week of approved materials. Its accounts match the sandbox's `sandbox/worlds/demo.json`, so the demo
posts into the sandbox when the hub's network URLs point at it."""

from datetime import datetime, time
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.crypto import encrypt_secret, fingerprint
from shared.models import Account, Channel, Material, Organisation, ResponsiblePerson, Subscription
from shared.models.base import utcnow

REGION = "Калужская область"
TIMEZONE = "Europe/Moscow"

ACCOUNTS = {
    "vk_irina": ("vk", "VK: Ирина Волкова (администратор сообществ)", {"access_token": "vk-user-irina"}),
    "vk_pavel": ("vk", "VK: Павел Соколов (администратор сообществ)", {"access_token": "vk-user-pavel"}),
    "tg_bot": (
        "telegram",
        "Региональный бот Обнинска",
        {"bot_token": "7000000001:AAregional-bot-demo-token-0000000001"},
    ),
    # Linked to no channel: it observes the channels it administers (it sees the regional bot's posts).
    "tg_observer": (
        "telegram",
        "Бот-наблюдатель",
        {"bot_token": "7000000002:AAcollector-bot-demo-token-000000002"},
    ),
    "ok_irina": (
        "ok",
        "OK: Ирина Волкова",
        {
            "access_token": "ok-token-irina",
            "application_key": "CDEMOAPPKEY",
            "application_secret_key": "DEMOSECRETKEY0000000000000000000",
        },
    ),
}

ORGANISATIONS: list[dict[str, Any]] = [
    {
        "name": "Администрация города Обнинска",
        "kind": "city_okrug",
        "mode": "auto",
        "channels": [
            ("vk", "200001", "https://vk.com/obninsk_adm", "vk_irina"),
            ("telegram", "-1001000000001", "https://t.me/obninsk_adm", "tg_bot"),
            ("ok", "70000000000001", "https://ok.ru/group/70000000000001", "ok_irina"),
        ],
        "people": [("Волкова Ирина Сергеевна", "Начальник отдела информационной политики", "irina_editor")],
    },
    {
        "name": "МБОУ «Средняя школа № 1» г. Обнинска",
        "kind": "subordinate_organisation",
        "mode": "auto",
        "channels": [
            ("vk", "200002", "https://vk.com/obninsk_school1", "vk_pavel"),
            ("telegram", "-1001000000002", "https://t.me/obninsk_school1", "tg_bot"),
            ("ok", "70000000000002", "https://ok.ru/group/70000000000002", "ok_irina"),
        ],
        "people": [("Соколов Павел Андреевич", "Заместитель директора", None)],
    },
    {
        "name": "МБУК «Центральная библиотека» г. Обнинска",
        "kind": "subordinate_organisation",
        "mode": "feed",
        "channels": [
            ("vk", "200003", "https://vk.com/obninsk_library", "vk_pavel"),
            ("telegram", "-1001000000003", "https://t.me/obninsk_library", "tg_bot"),
        ],
        "people": [("Кузнецова Анна Викторовна", "Библиограф", None)],
    },
]

TOPICS = ["экономика", "социальная сфера", "культура", "образование", "благоустройство"]
TITLES = [
    "В Обнинске открылся новый сквер у набережной",
    "Стартовал приём заявок на инициативное бюджетирование",
    "Школьники Обнинска — победители регионального этапа олимпиады",
    "В библиотеке пройдёт неделя краеведения",
    "Ремонт дорог на проспекте Маркса завершён досрочно",
    "Новые автобусные маршруты связали микрорайоны",
    "Семьи участников СВО получат дополнительные меры поддержки",
    "В поликлинике № 1 заработало отделение диспансеризации",
    "Волонтёры высадили 500 деревьев в парке Белкинский",
    "Молодёжный форум «Наукоград» собрал 300 участников",
    "Мэрия приглашает жителей на публичные слушания",
]


def current_week(now: datetime) -> str:
    year, week, _ = now.isocalendar()
    return f"{year}-W{week:02d}"


async def load_demo(session: AsyncSession) -> bool:
    """Load the demo region once; False when it is already there."""
    exists = (
        await session.exec(
            select(Organisation.id).where(
                Organisation.region == REGION, Organisation.name == ORGANISATIONS[0]["name"]
            )
        )
    ).first()
    if exists is not None:
        return False
    accounts = {}
    for key, (platform, name, secrets) in ACCOUNTS.items():
        account = Account(
            platform=platform,
            name=name,
            secret=encrypt_secret(secrets),
            secret_fingerprint=fingerprint(secrets),
        )
        session.add(account)
        accounts[key] = account
    await session.flush()
    now = utcnow()
    parent_id = None
    for spec in ORGANISATIONS:
        organisation = Organisation(
            name=spec["name"], kind=spec["kind"], region=REGION, timezone=TIMEZONE, parent_id=parent_id
        )
        session.add(organisation)
        await session.flush()
        parent_id = parent_id or organisation.id
        channel_ids = []
        for platform, external_id, url, account_key in spec["channels"]:
            channel = Channel(
                organisation_id=organisation.id,
                platform=platform,
                external_id=external_id,  # type: ignore[arg-type]
                url=url,
                title=spec["name"],
                account_id=accounts[account_key].id,
            )
            session.add(channel)
            await session.flush()
            channel_ids.append(channel.id)
        for name, position, telegram in spec["people"]:
            session.add(
                ResponsiblePerson(
                    organisation_id=organisation.id,
                    name=name,
                    position=position,  # type: ignore[arg-type]
                    telegram_username=telegram,
                    confirmed_at=now,
                )
            )
        session.add(
            Subscription(
                organisation_id=organisation.id,
                mode=spec["mode"],
                items_per_week=3,  # type: ignore[arg-type]
                window_start=time(9, 0),
                window_end=time(20, 0),
            )
        )
    week = current_week(now)
    for index, title in enumerate(TITLES):
        session.add(
            Material(
                title=title,
                body=f"{title}. Подробности — на официальном сайте администрации города Обнинска.",
                hashtags=["#Обнинск", "#НашРегион"],
                topics=[TOPICS[index % len(TOPICS)]],
                link=f"https://admobninsk.ru/news/{1000 + index}",
                priority="urgent" if index == 6 else "normal",
                week=week,
                status="approved",
                approved_at=now,
            )
        )
    session.add(
        Material(
            title="Черновик: анонс новогодних мероприятий", body="Текст готовится.", week=week, status="draft"
        )
    )
    await session.flush()
    return True
