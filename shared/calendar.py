"""Weeks and quarters, always in an organisation's own time zone."""

from datetime import datetime
from zoneinfo import ZoneInfo


def quarter_start(moment: datetime, timezone: str) -> datetime:
    """The first instant of the calendar quarter that ``moment`` falls in, in ``timezone``."""
    local = moment.astimezone(ZoneInfo(timezone))
    first_month = 3 * ((local.month - 1) // 3) + 1
    return local.replace(month=first_month, day=1, hour=0, minute=0, second=0, microsecond=0)


def quarter_label(moment: datetime, timezone: str) -> str:
    local = moment.astimezone(ZoneInfo(timezone))
    return f"{local.year}-Q{(local.month - 1) // 3 + 1}"
