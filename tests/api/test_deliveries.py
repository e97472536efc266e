from datetime import UTC, datetime

import httpx
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.models import Channel, Delivery, Organisation
from shared.models.enums import Role
from tests.factories import make_channel, make_key, make_material, make_organisation

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


async def _delivery(
    session: AsyncSession, organisation: Organisation, channel: Channel, status: str, **fields: object
) -> Delivery:
    material = await make_material(session, status="approved")
    delivery = Delivery(
        material_id=material.id,
        channel_id=channel.id,
        organisation_id=organisation.id,  # type: ignore[arg-type]
        week="2026-W48",
        due_at=NOW,
        next_attempt_at=NOW,
        status=status,
        **fields,
    )
    session.add(delivery)
    await session.flush()
    return delivery


async def test_week_summary_counts_each_state_per_network(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    vk = await make_channel(session, organisation, "vk")
    telegram = await make_channel(
        session, organisation, "telegram", status="credentials_invalid", status_reason="bot removed"
    )
    await _delivery(
        session, organisation, vk, "sent", external_post_id="1", post_url="https://vk.com/wall-1_1"
    )
    await _delivery(session, organisation, vk, "failed", last_error="content: too long")
    await _delivery(session, organisation, vk, "scheduled")
    await _delivery(session, organisation, telegram, "scheduled")
    monitor = await make_key(session, Role.monitor)
    summary = await client.get("/api/v1/distribution/2026-W48", headers=monitor)
    assert summary.status_code == 200, summary.text
    body = summary.json()
    assert body["total"] == {
        "planned": 1,
        "sending": 0,
        "sent": 1,
        "failed": 1,
        "waiting_credentials": 1,
        "cancelled": 0,
        "retracted": 0,
    }
    assert body["by_network"]["telegram"]["waiting_credentials"] == 1
    bad_week = await client.get("/api/v1/distribution/2026-48", headers=monitor)
    assert bad_week.status_code == 422


async def test_deliveries_list_filters_and_flags_waiting_channels(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    telegram = await make_channel(
        session, organisation, "telegram", status="credentials_invalid", status_reason="bot removed"
    )
    held = await _delivery(session, organisation, telegram, "scheduled")
    editor = await make_key(session, Role.editor)
    waiting = await client.get("/api/v1/deliveries", params={"status": "waiting_credentials"}, headers=editor)
    assert [item["id"] for item in waiting.json()["items"]] == [held.id]
    assert waiting.json()["items"][0]["waiting_for_credentials"] is True
    by_material = await client.get(
        "/api/v1/deliveries", params={"material_id": held.material_id}, headers=editor
    )
    assert by_material.json()["total"] == 1
    assert (
        await client.get("/api/v1/deliveries", params={"status": "lost"}, headers=editor)
    ).status_code == 422


async def test_editor_retries_a_failed_delivery_and_only_a_failed_one(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    channel = await make_channel(session, organisation, "ok")
    failed = await _delivery(
        session, organisation, channel, "failed", attempts=8, last_error="retry: [8] flood"
    )
    sent = await _delivery(session, organisation, channel, "sent", external_post_id="5")
    editor = await make_key(session, Role.editor)
    retried = await client.post(f"/api/v1/deliveries/{failed.id}/retry", headers=editor)
    assert retried.status_code == 200, retried.text
    assert (retried.json()["status"], retried.json()["attempts"]) == ("scheduled", 0)
    refused = await client.post(f"/api/v1/deliveries/{sent.id}/retry", headers=editor)
    assert refused.status_code == 409
    assert "only a failed delivery" in refused.json()["detail"]
    missing = await client.post("/api/v1/deliveries/999999/retry", headers=editor)
    assert missing.status_code == 404


async def test_operator_sees_only_its_own_deliveries(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    own = await make_organisation(session)
    other = await make_organisation(session)
    mine = await _delivery(session, own, await make_channel(session, own, "vk"), "sent")
    theirs = await _delivery(session, other, await make_channel(session, other, "vk"), "sent")
    operator = await make_key(session, Role.operator, own.id)
    listed = await client.get("/api/v1/deliveries", headers=operator)
    assert [item["id"] for item in listed.json()["items"]] == [mine.id]
    assert (await client.get(f"/api/v1/deliveries/{theirs.id}", headers=operator)).status_code == 403
