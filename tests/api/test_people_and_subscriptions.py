from datetime import UTC, datetime, timedelta

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.people.service import list_statuses
from shared.calendar import quarter_start
from shared.models import ResponsiblePerson
from shared.models.enums import Role
from tests.factories import make_channel, make_key, make_organisation


async def test_person_contacts_are_validated(client: httpx.AsyncClient, session: AsyncSession) -> None:
    editor = await make_key(session, Role.editor)
    organisation = await make_organisation(session)
    response = await client.post(
        "/api/v1/people",
        headers=editor,
        json={
            "organisation_id": organisation.id,
            "name": "Иванова М. П.",
            "phone": "8 (4212) 00-00-00",
            "email": "no-at-sign",
            "telegram_username": "ab",
        },
    )
    assert response.status_code == 422
    fields = {item["field"] for item in response.json()["detail"]}
    assert fields == {"body.phone", "body.email", "body.telegram_username"}


async def test_person_channel_must_belong_to_the_organisation(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    organisation = await make_organisation(session)
    foreign = await make_channel(session, await make_organisation(session), "vk")
    response = await client.post(
        "/api/v1/people",
        headers=editor,
        json={"organisation_id": organisation.id, "channel_id": foreign.id, "name": "Петров"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "body.channel_id"


async def test_new_list_is_stale_until_confirmed(client: httpx.AsyncClient, session: AsyncSession) -> None:
    operator_org = await make_organisation(session)
    operator = await make_key(session, Role.operator, operator_org.id)
    empty = await client.get(f"/api/v1/organisations/{operator_org.id}/responsible-list", headers=operator)
    assert empty.json()["stale"] is True
    assert empty.json()["reason"] == "no responsible people are listed"
    created = await client.post(
        "/api/v1/people",
        headers=operator,
        json={"organisation_id": operator_org.id, "name": "Сидорова", "telegram_username": "@sidorova_smm"},
    )
    assert created.status_code == 201
    assert created.json()["telegram_username"] == "sidorova_smm"
    unconfirmed = await client.get(
        f"/api/v1/organisations/{operator_org.id}/responsible-list", headers=operator
    )
    assert unconfirmed.json()["stale"] is True
    confirmed = await client.post(
        f"/api/v1/organisations/{operator_org.id}/responsible-list/confirm", headers=operator
    )
    assert confirmed.status_code == 200
    assert confirmed.json()["stale"] is False
    assert confirmed.json()["people"] == 1


async def test_list_confirmed_last_quarter_is_stale_in_the_organisations_zone(session: AsyncSession) -> None:
    # 1 October 00:30 in Khabarovsk is still 30 September in UTC: the quarter starts by local time.
    khabarovsk = await make_organisation(session, timezone="Asia/Vladivostok")
    kaliningrad = await make_organisation(session, timezone="Europe/Kaliningrad")
    now = datetime(2026, 10, 1, 3, 0, tzinfo=UTC)  # 13:00 in Khabarovsk, 05:00 in Kaliningrad
    confirmed = datetime(
        2026, 9, 30, 22, 0, tzinfo=UTC
    )  # 08:00 on 1 Oct in Khabarovsk; 00:00 1 Oct Kaliningrad
    for organisation in (khabarovsk, kaliningrad):
        session.add(ResponsiblePerson(organisation_id=organisation.id, name="X", confirmed_at=confirmed))  # type: ignore[arg-type]
    await session.flush()
    statuses = {
        status.organisation_id: status
        for status in await list_statuses(session, [khabarovsk, kaliningrad], now)
    }
    assert statuses[khabarovsk.id].stale is False  # type: ignore[index]
    assert statuses[kaliningrad.id].stale is False  # type: ignore[index]
    earlier = confirmed - timedelta(hours=1)  # 23:00 30 Sep in Kaliningrad: last quarter there
    for person in (await session.exec(__import__("sqlmodel").select(ResponsiblePerson))).all():
        person.confirmed_at = earlier
    await session.flush()
    statuses = {
        status.organisation_id: status
        for status in await list_statuses(session, [khabarovsk, kaliningrad], now)
    }
    assert statuses[khabarovsk.id].stale is False  # type: ignore[index]  (07:00 on 1 Oct there)
    assert statuses[kaliningrad.id].stale is True  # type: ignore[index]
    assert "before the current quarter 2026-Q4" in (statuses[kaliningrad.id].reason or "")  # type: ignore[index]


def test_quarter_start_uses_local_calendar() -> None:
    moment = datetime(2026, 12, 31, 15, 0, tzinfo=UTC)  # already 1 Jan 2027 in Khabarovsk
    assert quarter_start(moment, "Asia/Vladivostok").date().isoformat() == "2027-01-01"
    assert quarter_start(moment, "Europe/Moscow").date().isoformat() == "2026-10-01"


async def test_monitor_lists_stale_lists_across_organisations(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    monitor = await make_key(session, Role.monitor)
    stale_org = await make_organisation(session, region="Тестовый край")
    fresh_org = await make_organisation(session, region="Тестовый край")
    session.add(ResponsiblePerson(organisation_id=fresh_org.id, name="Y", confirmed_at=datetime.now(UTC)))  # type: ignore[arg-type]
    await session.flush()
    response = await client.get(
        "/api/v1/responsible-lists", params={"region": "Тестовый край", "stale": "true"}, headers=monitor
    )
    assert [item["organisation_id"] for item in response.json()["items"]] == [stale_org.id]


async def test_subscription_defaults_and_validation(client: httpx.AsyncClient, session: AsyncSession) -> None:
    editor = await make_key(session, Role.editor)
    organisation = await make_organisation(session)
    created = await client.post(
        "/api/v1/subscriptions", headers=editor, json={"organisation_id": organisation.id}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["mode"], body["items_per_week"], body["window_start"], body["weekdays"]) == (
        "auto",
        3,
        "09:00:00",
        [1, 2, 3, 4, 5],
    )
    bad = await client.post(
        "/api/v1/subscriptions",
        headers=editor,
        json={"organisation_id": organisation.id, "weekdays": [0, 8], "items_per_week": 0, "mode": "push"},
    )
    assert bad.status_code == 422
    fields = {item["field"] for item in bad.json()["detail"]}
    assert {"body.weekdays", "body.items_per_week", "body.mode"} <= fields
    window = await client.patch(
        f"/api/v1/subscriptions/{body['id']}", headers=editor, json={"window_end": "08:00"}
    )
    assert window.status_code == 422
    assert window.json()["detail"][0]["field"] == "body.window_end"


async def test_subscription_channels_must_be_the_organisations(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    organisation = await make_organisation(session)
    own = await make_channel(session, organisation, "vk")
    foreign = await make_channel(session, await make_organisation(session), "vk")
    response = await client.post(
        "/api/v1/subscriptions",
        headers=editor,
        json={"organisation_id": organisation.id, "channel_ids": [own.id, foreign.id]},
    )
    assert response.status_code == 422
    assert str(foreign.id) in response.json()["detail"][0]["message"]


async def test_every_write_is_audited(client: httpx.AsyncClient, session: AsyncSession) -> None:
    editor = await make_key(session, Role.editor)
    admin = await make_key(session, Role.admin)
    organisation = await make_organisation(session)
    await client.post("/api/v1/subscriptions", headers=editor, json={"organisation_id": organisation.id})
    await client.patch(f"/api/v1/organisations/{organisation.id}", headers=editor, json={"name": "Новое имя"})
    events = await client.get(
        "/api/v1/audit-events", params={"organisation_id": organisation.id}, headers=admin
    )
    actions = [item["action"] for item in events.json()["items"]]
    assert actions == ["organisation.update", "subscription.create"]
    assert events.json()["items"][0]["changes"]["name"][1] == "Новое имя"
    assert events.json()["items"][0]["actor_role"] == "editor"
