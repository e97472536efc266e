import httpx
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.crypto import decrypt_secret
from shared.models import Account
from shared.models.enums import Role
from tests.factories import make_account, make_channel, make_key, make_organisation

BOT_TOKEN = "7012345678:AAH-very-secret-token"


async def test_credentials_are_encrypted_and_never_returned(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    created = await client.post(
        "/api/v1/accounts",
        headers=editor,
        json={"platform": "telegram", "name": "Региональный бот", "credentials": {"bot_token": BOT_TOKEN}},
    )
    assert created.status_code == 201, created.text
    assert BOT_TOKEN not in created.text
    assert "credentials" not in created.json()
    account_id = created.json()["id"]
    for response in (
        await client.get(f"/api/v1/accounts/{account_id}", headers=editor),
        await client.get("/api/v1/accounts", headers=editor),
        await client.get("/api/v1/audit-events", headers=await make_key(session, Role.admin)),
    ):
        assert response.status_code == 200
        assert BOT_TOKEN not in response.text
    stored = (
        await session.exec(text("SELECT secret FROM account WHERE id = :id").bindparams(id=account_id))
    ).one()
    assert BOT_TOKEN.encode() not in bytes(stored[0])
    assert decrypt_secret(bytes(stored[0])) == {"bot_token": BOT_TOKEN}


async def test_rotation_replaces_the_secret_and_changes_the_fingerprint(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    account = await make_account(session, "vk")
    before = account.secret_fingerprint
    rotated = await client.patch(
        f"/api/v1/accounts/{account.id}",
        headers=editor,
        json={"credentials": {"access_token": "vk1.a.new-token"}},
    )
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["secret_fingerprint"] != before
    await session.refresh(account)
    stored = await session.get(Account, account.id)
    assert stored is not None
    assert decrypt_secret(stored.secret) == {"access_token": "vk1.a.new-token"}


async def test_credentials_must_fit_the_platform(client: httpx.AsyncClient, session: AsyncSession) -> None:
    editor = await make_key(session, Role.editor)
    missing = await client.post(
        "/api/v1/accounts",
        headers=editor,
        json={"platform": "ok", "name": "OK", "credentials": {"access_token": "x"}},
    )
    assert missing.status_code == 422
    detail = missing.json()["detail"][0]
    assert detail["field"] == "body.credentials"
    assert "application_key" in detail["message"]
    malformed = await client.post(
        "/api/v1/accounts",
        headers=editor,
        json={"platform": "telegram", "name": "bot", "credentials": {"bot_token": "not-a-token"}},
    )
    assert malformed.status_code == 422
    assert "BotFather" in malformed.json()["detail"][0]["message"]
    bad_rotation = await client.patch(
        f"/api/v1/accounts/{(await make_account(session, 'vk')).id}",
        headers=editor,
        json={"credentials": {"bot_token": "1:x"}},
    )
    assert bad_rotation.status_code == 422
    assert bad_rotation.json()["detail"][0]["field"] == "body.credentials"


async def test_operator_cannot_touch_shared_or_foreign_accounts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    own = await make_organisation(session)
    other = await make_organisation(session)
    operator = await make_key(session, Role.operator, own.id)
    shared = await make_account(session, "telegram")
    foreign = await make_account(session, "vk", organisation_id=other.id)
    assert (await client.get(f"/api/v1/accounts/{shared.id}", headers=operator)).status_code == 200
    assert (await client.get(f"/api/v1/accounts/{foreign.id}", headers=operator)).status_code == 403
    assert (
        await client.patch(f"/api/v1/accounts/{shared.id}", json={"name": "mine"}, headers=operator)
    ).status_code == 403
    create_foreign = await client.post(
        "/api/v1/accounts",
        headers=operator,
        json={
            "platform": "vk",
            "name": "x",
            "organisation_id": other.id,
            "credentials": {"access_token": "t"},
        },
    )
    assert create_foreign.status_code == 403
    create_own = await client.post(
        "/api/v1/accounts",
        headers=operator,
        json={"platform": "vk", "name": "x", "organisation_id": own.id, "credentials": {"access_token": "t"}},
    )
    assert create_own.status_code == 201


async def test_channel_registration_validates_ids_urls_and_accounts(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    organisation = await make_organisation(session)
    telegram_account = await make_account(session, "telegram")
    base = {
        "organisation_id": organisation.id,
        "platform": "vk",
        "external_id": "212345678",
        "url": "https://vk.com/club212345678",
    }
    wrong_host = await client.post(
        "/api/v1/channels", headers=editor, json={**base, "url": "https://ok.ru/group/1"}
    )
    assert wrong_host.status_code == 422
    assert wrong_host.json()["detail"][0]["field"] == "body.url"
    negative = await client.post(
        "/api/v1/channels", headers=editor, json={**base, "external_id": "-212345678"}
    )
    assert negative.status_code == 422
    assert "without the minus" in negative.json()["detail"][0]["message"]
    wrong_platform = await client.post(
        "/api/v1/channels", headers=editor, json={**base, "account_id": telegram_account.id}
    )
    assert wrong_platform.status_code == 422
    assert "telegram account" in wrong_platform.json()["detail"][0]["message"]
    created = await client.post("/api/v1/channels", headers=editor, json=base)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "active"
    duplicate = await client.post("/api/v1/channels", headers=editor, json=base)
    assert duplicate.status_code == 409
    assert "already registered" in duplicate.json()["detail"]


async def test_telegram_channel_accepts_chat_id_or_username(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    organisation = await make_organisation(session)
    for external_id in ("-1001234567890", "@obninsk_news"):
        response = await client.post(
            "/api/v1/channels",
            headers=editor,
            json={
                "organisation_id": organisation.id,
                "platform": "telegram",
                "external_id": external_id,
                "url": "https://t.me/obninsk_news",
            },
        )
        assert response.status_code == 201, response.text


async def test_disabling_a_channel_needs_a_reason(client: httpx.AsyncClient, session: AsyncSession) -> None:
    editor = await make_key(session, Role.editor)
    channel = await make_channel(session, await make_organisation(session), "ok")
    no_reason = await client.patch(
        f"/api/v1/channels/{channel.id}", json={"status": "disabled"}, headers=editor
    )
    assert no_reason.status_code == 422
    disabled = await client.patch(
        f"/api/v1/channels/{channel.id}",
        headers=editor,
        json={"status": "disabled", "status_reason": "Группа закрыта"},
    )
    assert disabled.status_code == 200
    assert disabled.json()["status_changed_at"] is not None
    reactivated = await client.patch(
        f"/api/v1/channels/{channel.id}", json={"status": "active"}, headers=editor
    )
    assert reactivated.json()["status_reason"] is None


async def test_operator_manages_only_its_own_channels(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    own = await make_organisation(session)
    other = await make_organisation(session)
    operator = await make_key(session, Role.operator, own.id)
    foreign_channel = await make_channel(session, other, "vk")
    own_channel = await make_channel(session, own, "vk")
    assert (await client.get(f"/api/v1/channels/{foreign_channel.id}", headers=operator)).status_code == 403
    assert (
        await client.patch(f"/api/v1/channels/{foreign_channel.id}", json={"title": "x"}, headers=operator)
    ).status_code == 403
    assert (
        await client.delete(f"/api/v1/channels/{foreign_channel.id}", headers=operator)
    ).status_code == 403
    listed = await client.get("/api/v1/channels", headers=operator)
    assert [item["id"] for item in listed.json()["items"]] == [own_channel.id]
    create_foreign = await client.post(
        "/api/v1/channels",
        headers=operator,
        json={
            "organisation_id": other.id,
            "platform": "vk",
            "external_id": "777",
            "url": "https://vk.com/club777",
        },
    )
    assert create_foreign.status_code == 403


async def test_rotating_credentials_reactivates_channels_stopped_by_the_old_ones(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    organisation = await make_organisation(session)
    account = await make_account(session, "telegram")
    stopped = await make_channel(
        session,
        organisation,
        "telegram",
        account_id=account.id,
        status="credentials_invalid",
        status_reason="Forbidden: bot was kicked",
    )
    disabled = await make_channel(
        session, organisation, "telegram", account_id=account.id, status="disabled", status_reason="closed"
    )
    rotated = await client.patch(
        f"/api/v1/accounts/{account.id}",
        headers=editor,
        json={"credentials": {"bot_token": "7012345678:AAH-new-token"}},
    )
    assert rotated.status_code == 200, rotated.text
    channels = {
        item["id"]: item
        for item in (
            await client.get("/api/v1/channels", params={"account_id": account.id}, headers=editor)
        ).json()["items"]
    }
    assert channels[stopped.id]["status"] == "active"
    assert channels[stopped.id]["status_reason"] is None
    assert channels[disabled.id]["status"] == "disabled"  # a person's decision stays
