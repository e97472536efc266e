"""Weeks and quarters, always in an organisation's own time zone."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def quarter_start(moment: datetime, timezone: str) -> datetime:
    """The first instant of the calendar quarter that ``moment`` falls in, in ``timezone``."""
    local = moment.astimezone(ZoneInfo(timezone))
    first_month = 3 * ((local.month - 1) // 3) + 1
    return local.replace(month=first_month, day=1, hour=0, minute=0, second=0, microsecond=0)


def quarter_label(moment: datetime, timezone: str) -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local.year}-Q{(local.month - 1) // 3 + 1}"


def week_label(moment: datetime, timezone: str) -> str:
    """The ISO week ("2026-W48") that ``moment`` falls in, in ``timezone``."""
    year, week, _ = moment.astimezone(ZoneInfo(timezone)).isocalendar()
    return f"{year}-W{week:02d}"


def week_start(label: str, timezone: str) -> datetime:
    """Monday 00:00 of the ISO week ``label`` in ``timezone`` (aware)."""
    year, week = label.split("-W")
    monday = date.fromisocalendar(int(year), int(week), 1)
    return datetime.combine(monday, time(0, 0), tzinfo=ZoneInfo(timezone))


def week_bounds(label: str, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) of the ISO week in ``timezone``."""
    start = week_start(label, timezone)
    end = datetime.combine(start.date() + timedelta(days=7), time(0, 0), tzinfo=ZoneInfo(timezone))
    return start, end
