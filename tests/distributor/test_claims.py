"""Claims and leases in PostgreSQL: what two workers may and may not take."""

from datetime import UTC, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from services.distributor.claims import claim_due, renew_leases
from shared.models import Delivery
from tests.factories import make_channel, make_material, make_organisation

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


async def _due_delivery(
    session: AsyncSession, *, channel_status: str = "active", urgent: bool = False
) -> Delivery:
    organisation = await make_organisation(session)
    channel = await make_channel(session, organisation, "vk", status=channel_status)
    material = await make_material(session, status="approved")
    delivery = Delivery(
        material_id=material.id,
        channel_id=channel.id,
        organisation_id=organisation.id,  # type: ignore[arg-type]
        week="2026-W48",
        due_at=NOW,
        next_attempt_at=NOW,
        urgent=urgent,
    )
    session.add(delivery)
    await session.flush()
    return delivery


async def test_a_claimed_delivery_is_not_claimed_again_while_its_lease_holds(session: AsyncSession) -> None:
    delivery = await _due_delivery(session)
    first = await claim_due(session, worker="a", now=NOW, limit=10, lease_s=60)
    assert [claim.delivery_id for claim in first] == [delivery.id]
    assert await claim_due(session, worker="b", now=NOW + timedelta(seconds=59), limit=10, lease_s=60) == []


async def test_an_expired_lease_is_reclaimed_as_outcome_unknown(session: AsyncSession) -> None:
    delivery = await _due_delivery(session)
    (first,) = await claim_due(session, worker="a", now=NOW, limit=10, lease_s=60)
    assert first.unknown_since is None
    (second,) = await claim_due(session, worker="b", now=NOW + timedelta(seconds=61), limit=10, lease_s=60)
    assert second.delivery_id == delivery.id
    assert second.attempts == 2
    assert second.unknown_since == NOW  # the crashed attempt may have posted: look before sending


async def test_renewed_lease_keeps_other_workers_away(session: AsyncSession) -> None:
    delivery = await _due_delivery(session)
    await claim_due(session, worker="a", now=NOW, limit=10, lease_s=60)
    await renew_leases(session, worker="a", ids=[delivery.id], now=NOW + timedelta(seconds=50), lease_s=60)  # type: ignore[list-item]
    assert await claim_due(session, worker="b", now=NOW + timedelta(seconds=90), limit=10, lease_s=60) == []
    await renew_leases(session, worker="b", ids=[delivery.id], now=NOW + timedelta(seconds=100), lease_s=600)  # type: ignore[list-item]
    reclaimed = await claim_due(session, worker="b", now=NOW + timedelta(seconds=111), limit=10, lease_s=60)
    assert [claim.delivery_id for claim in reclaimed] == [
        delivery.id
    ]  # b's renewal did not count: not b's lease


async def test_channels_without_valid_credentials_hold_their_deliveries(session: AsyncSession) -> None:
    await _due_delivery(session, channel_status="credentials_invalid")
    assert await claim_due(session, worker="a", now=NOW, limit=10, lease_s=60) == []


async def test_urgent_deliveries_are_claimed_first(session: AsyncSession) -> None:
    await _due_delivery(session)
    urgent = await _due_delivery(session, urgent=True)
    (claim,) = await claim_due(session, worker="a", now=NOW, limit=1, lease_s=60)
    assert claim.delivery_id == urgent.id
