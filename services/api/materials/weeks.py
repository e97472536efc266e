"""ISO weeks as the API writes them: ``"2026-W48"``."""

import re
from datetime import UTC, date, datetime, timedelta

WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")
WEEK_EXAMPLE = "2026-W48"


def week_monday(value: str) -> date:
    """The Monday of ISO week ``value``; ValueError with a readable message when it is not one."""
    match = WEEK_PATTERN.match(value)
    if match is None:
        raise ValueError(f"'{value}' is not an ISO week; write it like '{WEEK_EXAMPLE}'")
    year, week = int(match.group(1)), int(match.group(2))
    if year < 1:
        raise ValueError(f"'{value}' has no year 0; write it like '{WEEK_EXAMPLE}'")
    try:
        return date.fromisocalendar(year, week, 1)
    except ValueError as exc:
        weeks_in_year = date(year, 12, 28).isocalendar().week
        raise ValueError(f"ISO year {year} has weeks W01–W{weeks_in_year:02d}, not W{week:02d}") from exc


def valid_week(value: str) -> str:
    week_monday(value)
    return value


def week_of(day: date) -> str:
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def current_week(now: datetime | None = None) -> str:
    return week_of((now or datetime.now(UTC)).date())


def shift_week(value: str, weeks: int) -> str:
    return week_of(week_monday(value) + timedelta(weeks=weeks))


def weeks_between(first: str, last: str) -> list[str]:
    """Every week from ``first`` to ``last``, both included."""
    monday, end = week_monday(first), week_monday(last)
    weeks = []
    while monday <= end:
        weeks.append(week_of(monday))
        monday += timedelta(weeks=1)
    return weeks
