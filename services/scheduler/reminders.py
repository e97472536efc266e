"""Midweek reminders and stale responsible lists, recorded as notifications (Russian text).

Once an organisation's local time passes ``reminder_weekday`` at ``reminder_hour`` in the current
week, each of its channels still short of the rule gets a message to its responsible people (those of
the channel, else the organisation's): the channel, the count so far, and three items of this week's
package with their links that the channel has not published yet. An organisation whose list of
responsible people was not confirmed this quarter gets a message too. Dedupe keys make every run after
the first a no-op for the same week, channel and person.

Sending is ``send_pending_notifications``: Telegram to a person's linked chat through the
notification bot account, else e-mail when SMTP is configured, else the record stays pending for
another sender."""

import asyncio
import logging
import smtplib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared import compliance
from shared.adapters.telegram import TelegramAdapter
from shared.calendar import quarter_label, quarter_start, week_label
from shared.compliance import ReportFilters
from shared.crypto import decrypt_secret
from shared.models import Account, Notification, Organisation, ResponsiblePerson
from shared.settings import Settings, get_settings

logger = logging.getLogger("scheduler.reminders")
PLATFORMS_RU = {"vk": "ВКонтакте", "ok": "Одноклассники", "telegram": "Telegram"}
SUGGESTIONS = 3

_PACKAGE = text("""
SELECT DISTINCT m.id, m.title, m.link, m.priority = 'urgent' AS urgent, m.approved_at
FROM subscription s JOIN material m ON m.week = :week AND m.status = 'approved'
     AND (cardinality(s.topics) = 0 OR s.topics && m.topics)
WHERE s.is_active AND s.organisation_id = :organisation
ORDER BY urgent DESC, m.approved_at DESC NULLS LAST, m.id DESC
""")
_POSTED = text("""
SELECT DISTINCT material_id FROM publication
WHERE channel_id = :channel AND material_id IS NOT NULL AND deleted_at IS NULL AND published_at >= :since
""")


@dataclass
class ReminderResult:
    organisations: int = 0
    reminders: int = 0
    stale_lists: int = 0


def reminder_text(
    channel_title: str,
    platform: str,
    week: str,
    counted: int,
    required: int,
    suggestions: list[tuple[str, str | None]],
) -> str:
    lines = [
        f"Напоминание о публикациях за неделю {week}.",
        f"Канал «{channel_title}» ({PLATFORMS_RU.get(platform, platform)}): "
        f"засчитано {counted} из {required} публикаций регионального контента. "
        f"До конца недели нужно ещё {max(required - counted, 0)}.",
    ]
    if suggestions:
        lines.append("Материалы из пакета этой недели, которые ещё не опубликованы на канале:")
        lines += [
            f"{n}. {title}" + (f" — {link}" if link else "") for n, (title, link) in enumerate(suggestions, 1)
        ]
    return "\n".join(lines)


def stale_text(organisation: str, quarter: str) -> str:
    return (
        f"Список ответственных за официальные страницы организации «{organisation}» не подтверждён "
        f"в {quarter.replace('-Q', ' году, квартал ')}. Проверьте список и подтвердите его в хабе."
    )


async def record_midweek_reminders(
    session: AsyncSession, now: datetime, settings: Settings | None = None
) -> ReminderResult:
    settings = settings or get_settings()
    result = ReminderResult()
    organisations = (await session.exec(select(Organisation).where(col(Organisation.is_active)))).all()
    due: dict[str, list[Organisation]] = defaultdict(list)
    for organisation in organisations:
        local = now.astimezone(ZoneInfo(organisation.timezone))
        if (local.isoweekday(), local.hour) >= (settings.reminder_weekday, settings.reminder_hour):
            due[week_label(now, organisation.timezone)].append(organisation)
    people_rows = (
        await session.exec(
            select(ResponsiblePerson).where(
                col(ResponsiblePerson.organisation_id).in_([o.id for group in due.values() for o in group])
            )
        )
    ).all()
    people: dict[int, list[ResponsiblePerson]] = defaultdict(list)
    for person in people_rows:
        people[person.organisation_id].append(person)
    rows: list[dict[str, object]] = []
    for label, group in due.items():
        by_id = {organisation.id: organisation for organisation in group}
        report = await compliance.week_report(
            session, label, ReportFilters(organisation_ids=list(by_id)), now=now, settings=settings
        )
        package: dict[int, list[tuple[int, str, str | None]]] = {}
        for row in report:
            if row["met"] or row["state"] != "in_progress":
                continue
            organisation_id = row["organisation_id"]
            if organisation_id not in package:
                found = (
                    await session.execute(_PACKAGE, {"week": label, "organisation": organisation_id})
                ).all()
                package[organisation_id] = [(item.id, item.title, item.link) for item in found]
            posted = {
                item[0]
                for item in (
                    await session.execute(_POSTED, {"channel": row["channel_id"], "since": row["week_start"]})
                ).all()
            }
            suggestions = [
                (title, link) for mid, title, link in package[organisation_id] if mid not in posted
            ]
            body = reminder_text(
                row["channel_title"] or row["channel_url"],
                row["platform"],
                label,
                row["counted"],
                row["required"],
                suggestions[:SUGGESTIONS],
            )
            listed = people.get(organisation_id, [])
            targeted = [p for p in listed if p.channel_id == row["channel_id"]] or [
                p for p in listed if p.channel_id is None
            ]
            for person_id in [p.id for p in targeted] or [None]:
                rows.append(
                    {
                        "organisation_id": organisation_id,
                        "channel_id": row["channel_id"],
                        "person_id": person_id,
                        "kind": "compliance_reminder",
                        "subject": f"Публикации за неделю {label}: канал отстаёт",
                        "text": body,
                        "status": "pending",
                        "created_at": now,
                        "dedupe_key": f"reminder:{label}:{row['channel_id']}:{person_id or '-'}",
                    }
                )
            result.reminders += len(targeted) or 1
        for organisation in group:
            assert organisation.id is not None
            listed = people.get(organisation.id, [])
            started = quarter_start(now, organisation.timezone)
            if listed and all(p.confirmed_at is not None and p.confirmed_at >= started for p in listed):
                continue
            quarter = quarter_label(now, organisation.timezone)
            result.stale_lists += 1
            for person_id in [p.id for p in listed] or [None]:
                rows.append(
                    {
                        "organisation_id": organisation.id,
                        "channel_id": None,
                        "person_id": person_id,
                        "kind": "responsible_list_stale",
                        "subject": "Подтвердите список ответственных",
                        "text": stale_text(organisation.name, quarter),
                        "status": "pending",
                        "created_at": now,
                        "dedupe_key": f"stale:{quarter}:{label}:{organisation.id}:{person_id or '-'}",
                    }
                )
        result.organisations += len(group)
    for start in range(0, len(rows), 1000):
        await session.execute(
            insert(Notification).values(rows[start : start + 1000]).on_conflict_do_nothing()
        )
    return result


@dataclass
class SendResult:
    telegram: int = 0
    email: int = 0
    failed: int = 0
    left_pending: int = 0


def _send_email(settings: Settings, to: str, subject: str, body: str) -> None:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    assert settings.smtp_host is not None
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.network_timeout_s) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        smtp.send_message(message)


async def send_pending_notifications(
    session: AsyncSession,
    now: datetime,
    *,
    telegram: TelegramAdapter,
    settings: Settings | None = None,
    limit: int = 200,
) -> SendResult:
    """Send pending notifications that have a way out; the rest stay pending (counted)."""
    settings = settings or get_settings()
    result = SendResult()
    bot_credentials = None
    if settings.notification_bot_account_id is not None:
        account = await session.get(Account, settings.notification_bot_account_id)
        bot_credentials = decrypt_secret(account.secret) if account is not None else None
    rows = (
        await session.exec(
            select(Notification, ResponsiblePerson)
            .join(ResponsiblePerson, col(ResponsiblePerson.id) == Notification.person_id, isouter=True)
            .where(Notification.status == "pending")
            .order_by(col(Notification.id))
            .limit(limit)
            .with_for_update(of=Notification, skip_locked=True)  # type: ignore[arg-type]
        )
    ).all()
    for notification, person in rows:
        try:
            if person is not None and person.telegram_chat_id and bot_credentials is not None:
                bot = await telegram.bot(bot_credentials)
                await bot.send_message(chat_id=person.telegram_chat_id, text=notification.text)
                result.telegram += 1
            elif person is not None and person.email and settings.smtp_host:
                await asyncio.to_thread(
                    _send_email, settings, person.email, notification.subject, notification.text
                )
                result.email += 1
            else:
                result.left_pending += 1
                continue
        except Exception as error:  # noqa: BLE001 - one bad address must not stop the others
            notification.status = "failed"
            notification.error = type(error).__name__ + ": " + str(error)[:500]
            result.failed += 1
            continue
        notification.status = "sent"
        notification.sent_at = now
    await session.flush()
    return result
