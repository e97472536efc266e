"""Compliance use cases: reports, history, summary, evidence, rules and reported posts."""

import json
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api import audit
from services.api.compliance.schemas import RuleSetIn
from services.api.crud import get_or_404
from services.api.deps import Principal
from services.api.errors import InvalidField, NotFound
from shared import compliance
from shared.compliance import ReportFilters
from shared.models import Channel, ComplianceRule, Organisation, Publication
from shared.models.base import utcnow
from shared.settings import get_settings


def valid_week(week: str) -> str:
    try:
        compliance.week_monday(week)
    except ValueError as error:
        raise InvalidField("path.week", str(error)) from None
    return week


def scoped_filters(
    principal: Principal,
    *,
    organisation_id: int | None = None,
    region: str | None = None,
    platform: str | None = None,
    met: bool | None = None,
    channel_id: int | None = None,
) -> ReportFilters:
    """Report filters, narrowed to the key's own organisation for operators."""
    if principal.is_operator:
        principal.ensure_organisation(
            organisation_id if organisation_id is not None else principal.organisation_id
        )
        organisation_id = principal.organisation_id
    return ReportFilters(
        organisation_ids=[organisation_id] if organisation_id is not None else None,
        region=region,
        platform=platform,
        met=met,
        channel_ids=[channel_id] if channel_id is not None else None,
    )


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@lru_cache(maxsize=4096)
def _local_iso(value: datetime, timezone: str) -> str:
    return value.astimezone(ZoneInfo(timezone)).isoformat()


def row_dict(row: asyncpg.Record) -> dict[str, Any]:
    """A report row as the API shows it (the reason in words, times as ISO 8601; the week's bounds in
    the organisation's own zone)."""
    data = {key: _iso(value) for key, value in row.items()}
    data["week_start"] = _local_iso(row["week_start"], row["timezone"])
    data["week_end"] = _local_iso(row["week_end"], row["timezone"])
    code = data.pop("reason")
    data["reason_code"] = code
    data["reason"] = compliance.reason_text(code, row["channel_status_since"], row["timezone"])
    return data


async def history_records(
    session: AsyncSession, principal: Principal, organisation_id: int, until: str, weeks: int
) -> list[tuple[str, list[asyncpg.Record]]]:
    """The organisation's report rows week by week, oldest first, ending with ``until``."""
    principal.ensure_organisation(organisation_id)
    await get_or_404(session, Organisation, organisation_id)
    filters = ReportFilters(organisation_ids=[organisation_id])
    now = utcnow()
    result = []
    for back in range(weeks - 1, -1, -1):
        label = compliance.shift_week(until, -back)
        result.append((label, await compliance.week_report(session, label, filters, now=now)))
    return result


async def history(
    session: AsyncSession, principal: Principal, organisation_id: int, until: str, weeks: int
) -> dict[str, Any]:
    result = []
    for label, rows in await history_records(session, principal, organisation_id, until, weeks):
        result.append(
            {
                "week": label,
                "state": rows[0]["state"] if rows else "no_channels",
                "channels": len(rows),
                "channels_met": sum(1 for row in rows if row["met"]),
                "met": bool(rows) and all(row["met"] for row in rows),
                "center_items": rows[0]["center_items"] if rows else 0,
                "center_required": rows[0]["center_required"] if rows else 0,
                "center_met": bool(rows) and rows[0]["center_met"],
                "rows": [row_dict(row) for row in rows],
            }
        )
    return {"organisation_id": organisation_id, "weeks": result}


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


async def summary(
    session: AsyncSession, principal: Principal, week: str, region: str | None, weeks: int
) -> dict[str, Any]:
    filters = scoped_filters(principal, region=region)
    now = utcnow()
    result = []
    for back in range(weeks - 1, -1, -1):
        label = compliance.shift_week(week, -back)
        row = await compliance.week_summary(session, label, filters, now=now)
        result.append(
            {
                "week": label,
                "organisations": row["organisations"],
                "organisations_met": row["organisations_met"],
                "organisations_met_share": _share(row["organisations_met"], row["organisations"]),
                "organisations_center_met": row["organisations_center_met"],
                "organisations_center_met_share": _share(
                    row["organisations_center_met"], row["organisations"]
                ),
                "channels": row["channels"],
                "channels_met": row["channels_met"],
                "channels_met_share": _share(row["channels_met"], row["channels"]),
                "reasons": json.loads(row["reasons"]),
            }
        )

    def change(key: str) -> float | None:
        return round(result[-1][key] - result[-2][key], 4) if len(result) > 1 else None

    return {
        "week": week,
        "region": region,
        "weeks": result,
        "channels_met_share_change": change("channels_met_share"),
        "organisations_met_share_change": change("organisations_met_share"),
    }


async def evidence(
    session: AsyncSession, principal: Principal, week: str, organisation_id: int, channel_id: int | None
) -> dict[str, Any]:
    principal.ensure_organisation(organisation_id)
    await get_or_404(session, Organisation, organisation_id)
    if channel_id is not None:
        channel = await session.get(Channel, channel_id)
        if channel is None or channel.organisation_id != organisation_id:
            raise NotFound(f"channel {channel_id} is not a channel of organisation {organisation_id}")
    filters = ReportFilters(
        organisation_ids=[organisation_id], channel_ids=[channel_id] if channel_id is not None else None
    )
    rows = await compliance.week_evidence(session, week, filters)
    closed_at = await _closed_at(session, organisation_id, week)
    items = []
    for row in rows:
        data = {key: _iso(value) for key, value in row.items() if key not in ("match_score", "confirmed_at")}
        data["counted"] = row["not_counted_reason"] is None
        deleted = row["deleted_at"]
        data["later_event"] = (
            f"deleted on {deleted.isoformat()}, after the week was closed"
            if closed_at is not None and deleted is not None and deleted > closed_at
            else None
        )
        items.append(data)
    center = [dict(row.items()) for row in await compliance.center_evidence(session, week, organisation_id)]
    return {
        "week": week,
        "organisation_id": organisation_id,
        "channel_id": channel_id,
        "publications": items,
        "center_materials": center,
    }


async def _closed_at(session: AsyncSession, organisation_id: int, week: str) -> datetime | None:
    rows = await compliance.fetch(
        session,
        "SELECT closed_at FROM compliance_week WHERE organisation_id = :organisation_id AND week = :week",
        {"organisation_id": organisation_id, "week": week},
    )
    return rows[0]["closed_at"] if rows else None


# ----- rules -----------------------------------------------------------------------------------------------


async def list_rules(session: AsyncSession, region: str | None) -> list[ComplianceRule]:
    query = select(ComplianceRule).order_by(col(ComplianceRule.region), col(ComplianceRule.organisation_id))
    if region is not None:
        query = query.where(ComplianceRule.region == region)
    return list((await session.exec(query)).all())


async def put_rule(
    session: AsyncSession,
    principal: Principal,
    data: RuleSetIn,
    *,
    region: str | None = None,
    organisation_id: int | None = None,
) -> ComplianceRule:
    if organisation_id is not None:
        organisation = await get_or_404(session, Organisation, organisation_id)
        region = organisation.region
    assert region is not None
    now = utcnow()
    values = {**data.model_dump(), "region": region, "organisation_id": organisation_id, "updated_at": now}
    statement = insert(ComplianceRule).values(**values, created_at=now)
    if organisation_id is not None:
        statement = statement.on_conflict_do_update(index_elements=["organisation_id"], set_=values)
    else:
        statement = statement.on_conflict_do_update(
            index_elements=["region"], index_where=col(ComplianceRule.organisation_id).is_(None), set_=values
        )
    await session.execute(statement)
    query = select(ComplianceRule).where(ComplianceRule.region == region)
    query = (
        query.where(ComplianceRule.organisation_id == organisation_id)
        if organisation_id is not None
        else query.where(col(ComplianceRule.organisation_id).is_(None))
    )
    rule = (await session.exec(query.execution_options(populate_existing=True))).one()
    audit.record(
        session,
        principal,
        "compliance_rule.put",
        "compliance_rule",
        rule.id,
        organisation_id=organisation_id,
        changes=data.model_dump(),
    )
    return rule


async def delete_rule(
    session: AsyncSession,
    principal: Principal,
    *,
    region: str | None = None,
    organisation_id: int | None = None,
) -> None:
    query = delete(ComplianceRule)
    if organisation_id is not None:
        query = query.where(col(ComplianceRule.organisation_id) == organisation_id)
    else:
        query = query.where(
            col(ComplianceRule.region) == region, col(ComplianceRule.organisation_id).is_(None)
        )
    result = await session.execute(query)
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound("no such rule set")
    audit.record(
        session,
        principal,
        "compliance_rule.delete",
        "compliance_rule",
        None,
        organisation_id=organisation_id,
        changes={"region": region},
    )


async def effective_rule(session: AsyncSession, principal: Principal, organisation_id: int) -> dict[str, Any]:
    principal.ensure_organisation(organisation_id)
    organisation = await get_or_404(session, Organisation, organisation_id)
    rules = (
        await session.exec(
            select(ComplianceRule).where(
                (col(ComplianceRule.organisation_id) == organisation_id)
                | (
                    (col(ComplianceRule.region) == organisation.region)
                    & col(ComplianceRule.organisation_id).is_(None)
                )
            )
        )
    ).all()
    own = next((rule for rule in rules if rule.organisation_id is not None), None)
    regional = next((rule for rule in rules if rule.organisation_id is None), None)
    chosen = own or regional
    if chosen is not None:
        values = RuleSetIn.model_validate(chosen, from_attributes=True).model_dump()
        return {"organisation_id": organisation_id, "source": "organisation" if own else "region", **values}
    settings = get_settings()
    return {
        "organisation_id": organisation_id,
        "source": "default",
        "min_items_per_channel": settings.compliance_min_items_per_channel,
        "center_min_items": settings.center_weekly_quota,
        "require_media": settings.compliance_require_media,
        "count_any_post": settings.compliance_count_any_post,
    }


# ----- reported publications --------------------------------------------------------------------------------


async def list_reported(
    session: AsyncSession,
    principal: Principal,
    organisation_id: int | None,
    unconfirmed_only: bool,
    limit: int,
    offset: int,
) -> tuple[list[Publication], int]:
    from services.api.pagination import PageParams, paginate

    query = (
        select(Publication)
        .where(col(Publication.reported_at).is_not(None))
        .order_by(col(Publication.reported_at).desc(), col(Publication.id))
    )
    if principal.is_operator:
        organisation_id = principal.organisation_id
    if organisation_id is not None:
        query = query.where(Publication.organisation_id == organisation_id)
    if unconfirmed_only:
        query = query.where(col(Publication.confirmed_at).is_(None))
    return await paginate(session, query, PageParams(limit=limit, offset=offset))
