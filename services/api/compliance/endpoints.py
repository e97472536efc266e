from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response, status

from services.api.compliance import service
from services.api.compliance.exports import (
    EVIDENCE_HEADERS,
    EXPORT_RESPONSES,
    REPORT_HEADERS,
    SUMMARY_HEADERS,
    ExportFormat,
    evidence_line,
    report_line,
    summary_line,
    table_response,
)
from services.api.compliance.schemas import (
    EffectiveRule,
    Evidence,
    OrganisationHistory,
    RegionSummary,
    ReportedPublication,
    RuleSetIn,
    RuleSetPublic,
    WeekReport,
)
from services.api.deps import Admin, Reader, SessionDep
from services.api.pagination import Page, PageDep
from shared import compliance
from shared.models import ComplianceRule
from shared.models.enums import Platform

router = APIRouter(prefix="/compliance", tags=["compliance"])

REPORT_PAGE_DEFAULT = 500
REPORT_PAGE_MAX = 5000

Weeks = Annotated[int, Query(ge=1, le=53, description="How many weeks, ending with the given one")]
Format = Annotated[ExportFormat, Query(description="xlsx or csv (UTF-8 with BOM, `;`-separated)")]
OrganisationFilter = Annotated[
    int | None, Query(description="One organisation (operators: always their own)")
]
RegionFilter = Annotated[str | None, Query(description="Exact region name")]
MetFilter = Annotated[bool | None, Query(description="Only rows that met (true) or fell short (false)")]
ReportAfter = Annotated[
    int,
    Query(ge=0, description="Cursor: organisations with ids above this (the previous page's `next_after`)"),
]
ReportLimit = Annotated[
    int,
    Query(ge=1, le=REPORT_PAGE_MAX, description=f"Organisations per page (at most {REPORT_PAGE_MAX})"),
]


def week_path(
    week: Annotated[str, Path(description="ISO week, e.g. 2026-W48", examples=["2026-W48"])],
) -> str:
    return service.valid_week(week)


WeekDep = Annotated[str, Depends(week_path)]


async def _report_rows(
    session: SessionDep,
    principal: Reader,
    week: str,
    organisation_id: int | None,
    region: str | None,
    platform: Platform | None,
    met: bool | None,
) -> list[Any]:
    filters = service.scoped_filters(
        principal,
        organisation_id=organisation_id,
        region=region,
        platform=platform.value if platform else None,
        met=met,
    )
    return await compliance.week_report(session, week, filters)


@router.get("/weeks/{week}/report", response_model=WeekReport)
async def week_report(
    week: WeekDep,
    session: SessionDep,
    principal: Reader,
    organisation_id: OrganisationFilter = None,
    region: RegionFilter = None,
    platform: Platform | None = None,
    met: MetFilter = None,
    after: ReportAfter = 0,
    limit: ReportLimit = REPORT_PAGE_DEFAULT,
) -> Response:
    """The week's compliance, one row per organisation and channel: publications counted, required,
    met or not, and the reason when not (`no posts`, `posts without media`, `channel credentials
    invalid since …`, `not subscribed`, `too few posts`), with the center's figure for the
    organisation. The week is each organisation's ISO week in its own time zone; rows of closed weeks
    are frozen (`state: closed`), others are computed now. Operators see their own organisation.

    Paged by organisation: a page holds every row of up to `limit` organisations (default 500, at most
    5,000) that the filters select, in order of organisation id, starting after the id `after`. Pass
    the reply's `next_after` as `after` for the next page; it is `null` on the last page. `channels`
    and `channels_met` count the page's rows. The exports below return the whole report at once."""
    filters = service.scoped_filters(
        principal,
        organisation_id=organisation_id,
        region=region,
        platform=platform.value if platform else None,
        met=met,
    )
    return Response(
        content=await compliance.week_report_json(session, week, filters, after=after, limit=limit),
        media_type="application/json",
    )


@router.get("/weeks/{week}/report/export", response_class=Response, responses=EXPORT_RESPONSES)
async def export_week_report(
    week: WeekDep,
    session: SessionDep,
    principal: Reader,
    format: Format = ExportFormat.xlsx,
    organisation_id: OrganisationFilter = None,
    region: RegionFilter = None,
    platform: Platform | None = None,
    met: MetFilter = None,
) -> Response:
    """The week's report as XLSX or CSV with Russian column headers (Организация, Площадка, Канал,
    Засчитано, Требуется, Норма выполнена, Причина, …)."""
    rows = await _report_rows(session, principal, week, organisation_id, region, platform, met)
    return table_response(
        REPORT_HEADERS,
        (report_line(week, row) for row in rows),
        format,
        f"compliance-{week}",
        f"Неделя {week}",
    )


@router.get("/organisations/{organisation_id}/history", response_model=OrganisationHistory)
async def organisation_history(
    organisation_id: int,
    session: SessionDep,
    principal: Reader,
    until: Annotated[str, Query(description="Last week shown, e.g. 2026-W48")],
    weeks: Weeks = 12,
) -> dict[str, Any]:
    """An organisation's weeks, oldest first, each with its channels' rows and whether every channel
    and the center met the rules."""
    return await service.history(session, principal, organisation_id, service.valid_week(until), weeks)


@router.get(
    "/organisations/{organisation_id}/history/export", response_class=Response, responses=EXPORT_RESPONSES
)
async def export_organisation_history(
    organisation_id: int,
    session: SessionDep,
    principal: Reader,
    until: Annotated[str, Query(description="Last week shown, e.g. 2026-W48")],
    weeks: Weeks = 12,
    format: Format = ExportFormat.xlsx,
) -> Response:
    """The organisation's history as XLSX or CSV with Russian column headers, one line per week
    and channel."""
    weeks_rows = await service.history_records(
        session, principal, organisation_id, service.valid_week(until), weeks
    )
    lines = (report_line(label, row) for label, rows in weeks_rows for row in rows)
    return table_response(
        REPORT_HEADERS, lines, format, f"compliance-organisation-{organisation_id}", "История"
    )


@router.get("/weeks/{week}/summary", response_model=RegionSummary)
async def region_summary(
    week: WeekDep,
    session: SessionDep,
    principal: Reader,
    region: RegionFilter = None,
    weeks: Weeks = 6,
) -> dict[str, Any]:
    """Shares of organisations and channels meeting each rule (channel minimum on every channel;
    the center's weekly minimum), shortfalls by reason, over `weeks` weeks ending with `week` (the
    trend), and the change against the previous week."""
    return await service.summary(session, principal, week, region, weeks)


@router.get("/weeks/{week}/summary/export", response_class=Response, responses=EXPORT_RESPONSES)
async def export_region_summary(
    week: WeekDep,
    session: SessionDep,
    principal: Reader,
    region: RegionFilter = None,
    weeks: Weeks = 6,
    format: Format = ExportFormat.xlsx,
) -> Response:
    """The summary as XLSX or CSV with Russian column headers, one line per week."""
    data = await service.summary(session, principal, week, region, weeks)
    return table_response(
        SUMMARY_HEADERS,
        (summary_line(item) for item in data["weeks"]),
        format,
        f"compliance-summary-{week}",
        "Сводка",
    )


@router.get("/weeks/{week}/organisations/{organisation_id}/evidence", response_model=Evidence)
async def week_evidence(
    week: WeekDep,
    organisation_id: int,
    session: SessionDep,
    principal: Reader,
    channel_id: Annotated[int | None, Query(description="Only this channel's publications")] = None,
) -> dict[str, Any]:
    """The evidence behind an organisation's numbers: every publication of the week on its channels
    with its link, source, matched material and whether it counted (and why not), plus the materials
    the center offered it. For a closed week the frozen evidence, with deletions after closing
    shown as `later_event`."""
    return await service.evidence(session, principal, week, organisation_id, channel_id)


@router.get(
    "/weeks/{week}/organisations/{organisation_id}/evidence/export",
    response_class=Response,
    responses=EXPORT_RESPONSES,
)
async def export_week_evidence(
    week: WeekDep,
    organisation_id: int,
    session: SessionDep,
    principal: Reader,
    channel_id: Annotated[int | None, Query(description="Only this channel's publications")] = None,
    format: Format = ExportFormat.xlsx,
) -> Response:
    """The evidence as XLSX or CSV with Russian column headers, one line per publication."""
    data = await service.evidence(session, principal, week, organisation_id, channel_id)
    return table_response(
        EVIDENCE_HEADERS,
        (evidence_line(week, item) for item in data["publications"]),
        format,
        f"compliance-evidence-{week}-{organisation_id}",
        "Публикации",
    )


@router.get("/rules", response_model=list[RuleSetPublic])
async def list_rules(
    session: SessionDep, principal: Reader, region: RegionFilter = None
) -> list[ComplianceRule]:
    """Rule sets: each region's default and organisations' overrides. Where neither exists the
    defaults are 3 items per channel, 10 from the center, no media required, regional content only."""
    return await service.list_rules(session, region)


@router.get("/rules/organisations/{organisation_id}", response_model=EffectiveRule)
async def get_effective_rule(organisation_id: int, session: SessionDep, principal: Reader) -> dict[str, Any]:
    """The rule that applies to an organisation and where it comes from (organisation, region, default)."""
    return await service.effective_rule(session, principal, organisation_id)


@router.put("/rules/regions/{region}", response_model=RuleSetPublic)
async def put_region_rule(
    region: str, data: RuleSetIn, session: SessionDep, principal: Admin
) -> ComplianceRule:
    """Set the region's default rule set (applies to live weeks; closed weeks keep theirs). Role: admin."""
    return await service.put_rule(session, principal, data, region=region)


@router.delete("/rules/regions/{region}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def delete_region_rule(region: str, session: SessionDep, principal: Admin) -> Response:
    """Remove the region's default: the settings' defaults apply again. Role: admin."""
    await service.delete_rule(session, principal, region=region)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/rules/organisations/{organisation_id}", response_model=RuleSetPublic)
async def put_organisation_rule(
    organisation_id: int, data: RuleSetIn, session: SessionDep, principal: Admin
) -> ComplianceRule:
    """Override the region's rule for one organisation (e.g. Obninsk: photo or video required).
    Role: admin."""
    return await service.put_rule(session, principal, data, organisation_id=organisation_id)


@router.delete(
    "/rules/organisations/{organisation_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response
)
async def delete_organisation_rule(organisation_id: int, session: SessionDep, principal: Admin) -> Response:
    """Remove an organisation's override: its region's rule applies again. Role: admin."""
    await service.delete_rule(session, principal, organisation_id=organisation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/reported-publications", response_model=Page[ReportedPublication])
async def list_reported_publications(
    session: SessionDep,
    principal: Reader,
    page: PageDep,
    organisation_id: OrganisationFilter = None,
    unconfirmed: Annotated[bool, Query(description="Only reports not confirmed yet")] = False,
) -> dict[str, object]:
    """Posts organisations reported (through the feed's reporting back), newest first, with their
    confirmation state: a report counts once `confirmed_at` is set; `confirmation_error` says why the
    network could not confirm it (yet). Operators see their own."""
    items, total = await service.list_reported(
        session, principal, organisation_id, unconfirmed, page.limit, page.offset
    )
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}
