"""XLSX and CSV exports with Russian column headers, ready to attach to an official letter.

CSV is UTF-8 with a byte-order mark and ``;`` between fields: what Excel in a Russian locale opens
correctly by double-click. XLSX is written in openpyxl's write-only mode (streams rows, low memory)."""

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Response
from openpyxl import Workbook

from shared.compliance import NOT_COUNTED_RU, reason_text

PLATFORMS_RU = {"vk": "ВКонтакте", "ok": "Одноклассники", "telegram": "Telegram"}
STATES_RU = {"in_progress": "идёт", "ended": "завершена, не закрыта", "closed": "закрыта"}
CHANNEL_STATUS_RU = {"active": "работает", "credentials_invalid": "доступ утрачен", "disabled": "отключён"}
SOURCES_RU = {
    "distributor": "опубликовано хабом",
    "observed": "найдено на странице",
    "reported": "сообщено организацией",
}
MATCH_RU = {
    "post_id": "по id публикации",
    "repost": "репост поста центра",
    "link": "по ссылке материала",
    "text_similarity": "по сходству текста",
    "reported": "указано организацией",
}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The table as a file (Russian column headers)",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
        },
    },
}


class ExportFormat(StrEnum):
    xlsx = "xlsx"
    csv = "csv"


def yes_no(value: bool | None) -> str:
    return "да" if value else "нет"


def local_time(value: datetime | None, timezone: str) -> str:
    return value.astimezone(ZoneInfo(timezone)).strftime("%d.%m.%Y %H:%M") if value else ""


REPORT_HEADERS = (
    "Неделя",
    "Организация",
    "Регион",
    "Площадка",
    "Канал",
    "Ссылка на канал",
    "Состояние канала",
    "Подписка",
    "Публикаций",
    "Засчитано",
    "Требуется",
    "Норма выполнена",
    "Причина",
    "Материалов от центра",
    "Требуется от центра",
    "Центр выполнил",
    "Неделя закрыта",
)


def report_line(week: str, row: Any) -> list[Any]:
    return [
        week,
        row["organisation_name"],
        row["region"],
        PLATFORMS_RU.get(row["platform"], row["platform"]),
        row["channel_title"] or "",
        row["channel_url"],
        CHANNEL_STATUS_RU.get(row["channel_status"], ""),
        yes_no(row["subscribed"]),
        row["posts"],
        row["counted"],
        row["required"],
        yes_no(row["met"]),
        reason_text(row["reason"], row["channel_status_since"], row["timezone"], russian=True) or "",
        row["center_items"],
        row["center_required"],
        yes_no(row["center_met"]),
        STATES_RU.get(row["state"], ""),
    ]


SUMMARY_HEADERS = (
    "Неделя",
    "Организаций",
    "Выполнили норму по всем каналам",
    "Доля организаций",
    "Получили от центра не меньше нормы",
    "Доля по центру",
    "Каналов",
    "Каналов выполнили",
    "Доля каналов",
    "Нет публикаций",
    "Без фото или видео",
    "Доступ утрачен",
    "Нет подписки",
    "Недостаточно публикаций",
)


def summary_line(week: dict[str, Any]) -> list[Any]:
    reasons = week["reasons"]
    return [
        week["week"],
        week["organisations"],
        week["organisations_met"],
        week["organisations_met_share"],
        week["organisations_center_met"],
        week["organisations_center_met_share"],
        week["channels"],
        week["channels_met"],
        week["channels_met_share"],
        reasons.get("no_posts", 0),
        reasons.get("posts_without_media", 0),
        reasons.get("credentials_invalid", 0),
        reasons.get("not_subscribed", 0),
        reasons.get("too_few_posts", 0),
    ]


EVIDENCE_HEADERS = (
    "Неделя",
    "Организация (id)",
    "Канал (id)",
    "Публикация в сети",
    "Ссылка",
    "Опубликовано (UTC)",
    "Источник",
    "Материал (id)",
    "Как сопоставлено",
    "Фото или видео",
    "Засчитано",
    "Почему не засчитано",
    "Удалена (UTC)",
    "После закрытия недели",
)


def evidence_line(week: str, item: dict[str, Any]) -> list[Any]:
    def utc(value: str | None) -> str:
        return value[:16].replace("T", " ") if value else ""

    return [
        week,
        item["organisation_id"],
        item["channel_id"],
        item["external_post_id"],
        item["url"] or "",
        utc(item["published_at"]),
        SOURCES_RU.get(item["source"], item["source"]),
        item["material_id"] or "",
        MATCH_RU.get(item["match_method"] or "", ""),
        yes_no(item["has_media"]),
        yes_no(item["counted"]),
        NOT_COUNTED_RU.get(item["not_counted_reason"] or "", ""),
        utc(item["deleted_at"]),
        item["later_event"] or "",
    ]


def table_response(
    headers: Sequence[str], lines: Iterable[Sequence[Any]], fmt: ExportFormat, filename: str, sheet: str
) -> Response:
    if fmt is ExportFormat.csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerow(headers)
        writer.writerows(lines)
        content = ("\ufeff" + buffer.getvalue()).encode("utf-8")
        media_type = "text/csv; charset=utf-8"
    else:
        workbook = Workbook(write_only=True)
        worksheet = workbook.create_sheet(sheet[:31])
        worksheet.append(list(headers))
        for line in lines:
            worksheet.append(list(line))
        output = io.BytesIO()
        workbook.save(output)
        content = output.getvalue()
        media_type = XLSX_TYPE
    name = f"{filename}.{fmt.value}"
    disposition = f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
    return Response(content=content, media_type=media_type, headers={"Content-Disposition": disposition})
