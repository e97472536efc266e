"""What the feed tests share: an organisation with a feed key and a subscription, approved materials."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.calendar import week_label
from shared.models import Material, Organisation
from shared.models.enums import Role
from tests.factories import make_key, make_material, make_organisation, make_subscription


@dataclass
class FeedOrganisation:
    organisation: Organisation
    headers: dict[str, str]

    @property
    def id(self) -> int:
        assert self.organisation.id is not None
        return self.organisation.id


async def feed_organisation(
    session: AsyncSession, topics: list[str] | None = None, role: Role = Role.feed, **fields: Any
) -> FeedOrganisation:
    organisation = await make_organisation(session, **fields)
    await make_subscription(session, organisation, topics=topics or [])
    headers = await make_key(session, role, organisation.id)
    return FeedOrganisation(organisation, headers)


def this_week(timezone: str = "Asia/Vladivostok") -> str:
    return week_label(datetime.now(UTC), timezone)


async def approved(session: AsyncSession, **fields: Any) -> Material:
    values: dict[str, Any] = {"status": "approved", "approved_at": datetime.now(UTC), "week": this_week()}
    values.update(fields)
    return await make_material(session, **values)
