from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.models import AuditEvent, Material
from shared.models.enums import MaterialStatus, Role
from tests.factories import make_key, make_material, make_organisation

PAYLOAD: dict[str, Any] = {
    "title": "Сделаем вместе: субботник в парке",
    "body": "В субботу приглашаем жителей на общегородской субботник.",
    "hashtags": ["#СДЕЛАЕМВМЕСТЕ", "#Хабаровск_2026"],
    "topics": ["благоустройство"],
    "link": "https://example.ru/news/42",
    "week": "2026-W48",
    "publish_not_before": "2026-11-23T09:00:00+10:00",
    "expires_at": "2026-11-30T00:00:00+10:00",
}


def if_match(version: int) -> dict[str, str]:
    return {"If-Match": f'"{version}"'}


async def create(client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/materials", json={**PAYLOAD, **overrides}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def act(
    client: httpx.AsyncClient, headers: dict[str, str], material: dict[str, Any], action: str, **kwargs: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/materials/{material['id']}/{action}",
        headers={**headers, **if_match(material["version"])},
        **kwargs,
    )


async def test_editor_creates_a_draft_at_version_one_with_etag(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    response = await client.post("/api/v1/materials", json=PAYLOAD, headers=editor)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "draft"
    assert body["version"] == 1
    assert response.headers["ETag"] == '"1"'
    assert body["hashtags"] == ["#СДЕЛАЕМВМЕСТЕ", "#Хабаровск_2026"]
    assert body["priority"] == "normal"
    assert body["created_by"] is not None
    assert datetime.fromisoformat(body["publish_not_before"]) == datetime(2026, 11, 22, 23, tzinfo=UTC)
    fetched = await client.get(f"/api/v1/materials/{body['id']}", headers=editor)
    assert fetched.status_code == 200
    assert fetched.headers["ETag"] == '"1"'
    assert fetched.json()["title"] == PAYLOAD["title"]


async def test_week_53_is_accepted_in_a_year_that_has_one(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    body = await create(client, editor, week="2026-W53", publish_not_before=None, expires_at=None)
    assert body["week"] == "2026-W53"


@pytest.mark.parametrize(
    ("overrides", "field", "message_part"),
    [
        ({"week": "2026-48"}, "body.week", "ISO week"),
        ({"week": "2027-W53"}, "body.week", "W01–W52"),
        ({"week": "2026-W00"}, "body.week", "not W00"),
        ({"hashtags": ["#ok", "no-hash"]}, "body.hashtags", "not a hashtag"),
        ({"hashtags": ["#два слова"]}, "body.hashtags", "not a hashtag"),
        ({"hashtags": ["#tag-with-dash"]}, "body.hashtags", "not a hashtag"),
        ({"link": "ftp://example.ru/file"}, "body.link", "http(s) URL"),
        ({"link": "example.ru"}, "body.link", "http(s) URL"),
        ({"publish_not_before": "2026-11-23T09:00:00"}, "body.publish_not_before", "timezone"),
        ({"expires_at": "2026-11-30T00:00:00"}, "body.expires_at", "timezone"),
        ({"expires_at": "2026-11-23T08:00:00+10:00"}, "body.expires_at", "later than publish_not_before"),
        ({"priority": "critical"}, "body.priority", "normal"),
        ({"title": "   "}, "body.title", "blank"),
        ({"topics": [""]}, "body.topics", "1–100"),
        ({"status": "approved"}, "body.status", "Extra inputs"),
    ],
)
async def test_invalid_material_fields_are_field_errors(
    client: httpx.AsyncClient, session: AsyncSession, overrides: dict[str, Any], field: str, message_part: str
) -> None:
    editor = await make_key(session, Role.editor)
    response = await client.post("/api/v1/materials", json={**PAYLOAD, **overrides}, headers=editor)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "validation_error"
    assert body["detail"][0]["field"].startswith(field), body
    assert message_part in body["detail"][0]["message"], body


async def test_full_workflow_records_who_approved_and_when(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_key(session, Role.editor)
    approver = await make_key(session, Role.admin)
    material = await create(client, author)
    submitted = await act(client, author, material, "submit")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "review"
    assert submitted.json()["version"] == 2
    assert submitted.headers["ETag"] == '"2"'
    approved = await act(client, approver, submitted.json(), "approve")
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "approved"
    assert body["version"] == 3
    assert body["approved_by"] is not None
    assert body["approved_by"] != body["created_by"]
    assert datetime.fromisoformat(body["approved_at"]) <= datetime.now(UTC)


async def test_reviewer_returns_material_to_draft(client: httpx.AsyncClient, session: AsyncSession) -> None:
    editor = await make_key(session, Role.editor)
    material = (await act(client, editor, await create(client, editor), "submit")).json()
    returned = await act(client, editor, material, "return-to-draft", json={"comment": "Добавьте фото"})
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "draft"
    audit = (
        await session.exec(
            select(AuditEvent).where(
                AuditEvent.action == "material.return_to_draft", AuditEvent.entity_id == material["id"]
            )
        )
    ).one()
    assert audit.changes["comment"] == "Добавьте фото"


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (MaterialStatus.draft, "approve"),
        (MaterialStatus.draft, "return-to-draft"),
        (MaterialStatus.review, "submit"),
        (MaterialStatus.approved, "submit"),
        (MaterialStatus.approved, "approve"),
        (MaterialStatus.approved, "return-to-draft"),
        (MaterialStatus.withdrawn, "submit"),
        (MaterialStatus.withdrawn, "approve"),
        (MaterialStatus.withdrawn, "return-to-draft"),
    ],
)
async def test_transitions_outside_the_workflow_are_conflicts(
    client: httpx.AsyncClient, session: AsyncSession, status: MaterialStatus, action: str
) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session, status=status.value)
    response = await client.post(
        f"/api/v1/materials/{material.id}/{action}", headers={**editor, **if_match(1)}
    )
    assert response.status_code == 409, response.text
    assert response.json()["error"] == "conflict"
    assert f"it is '{status.value}'" in response.json()["detail"]


@pytest.mark.parametrize("status", [MaterialStatus.draft, MaterialStatus.review, MaterialStatus.approved])
async def test_withdraw_from_any_state_records_reason_and_time(
    client: httpx.AsyncClient, session: AsyncSession, status: MaterialStatus
) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session, status=status.value)
    response = await client.post(
        f"/api/v1/materials/{material.id}/withdraw",
        json={"reason": "Ошибка в дате"},
        headers={**editor, **if_match(1)},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "withdrawn"
    assert body["withdrawn_reason"] == "Ошибка в дате"
    assert body["withdrawn_at"] is not None
    assert body["version"] == 2


async def test_withdraw_needs_a_reason_and_happens_once(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session)
    url = f"/api/v1/materials/{material.id}/withdraw"
    missing = await client.post(url, json={}, headers={**editor, **if_match(1)})
    assert missing.status_code == 422
    assert missing.json()["detail"][0]["field"] == "body.reason"
    blank = await client.post(url, json={"reason": "  "}, headers={**editor, **if_match(1)})
    assert blank.status_code == 422
    first = await client.post(url, json={"reason": "дубль"}, headers={**editor, **if_match(1)})
    assert first.status_code == 200
    again = await client.post(url, json={"reason": "дубль"}, headers={**editor, **if_match(2)})
    assert again.status_code == 409


async def test_approval_requires_a_body(client: httpx.AsyncClient, session: AsyncSession) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session, status="review", body="   ")
    response = await client.post(
        f"/api/v1/materials/{material.id}/approve", headers={**editor, **if_match(1)}
    )
    assert response.status_code == 409
    assert "the body is empty" in response.json()["detail"]


async def test_approval_refuses_an_expired_material(client: httpx.AsyncClient, session: AsyncSession) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(
        session, status="review", expires_at=datetime.now(UTC) - timedelta(hours=1)
    )
    response = await client.post(
        f"/api/v1/materials/{material.id}/approve", headers={**editor, **if_match(1)}
    )
    assert response.status_code == 409
    assert "expired" in response.json()["detail"]


async def test_editing_an_approved_material_sends_it_back_to_review(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session, status="approved", approved_at=datetime.now(UTC))
    response = await client.patch(
        f"/api/v1/materials/{material.id}",
        json={"title": "Исправленный заголовок"},
        headers={**editor, **if_match(1)},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "review"
    assert body["approved_at"] is None
    assert body["version"] == 2
    assert body["title"] == "Исправленный заголовок"


async def test_patch_changes_only_sent_fields_and_bumps_version(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    material = await create(client, editor)
    response = await client.patch(
        f"/api/v1/materials/{material['id']}",
        json={"priority": "urgent", "link": None, "hashtags": ["#Новости"]},
        headers={**editor, **if_match(1)},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["priority"], body["link"], body["hashtags"]) == ("urgent", None, ["#Новости"])
    assert body["title"] == PAYLOAD["title"]
    assert body["status"] == "draft"
    assert body["version"] == 2
    assert response.headers["ETag"] == '"2"'


async def test_patch_validates_the_publication_window_against_stored_values(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    material = await create(client, editor)
    response = await client.patch(
        f"/api/v1/materials/{material['id']}",
        json={"expires_at": "2026-11-20T00:00:00+03:00"},
        headers={**editor, **if_match(1)},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "body.expires_at"


async def test_patch_refuses_null_for_required_fields(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session)
    response = await client.patch(
        f"/api/v1/materials/{material.id}", json={"week": None}, headers={**editor, **if_match(1)}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "body.week"


async def test_withdrawn_material_cannot_be_edited(client: httpx.AsyncClient, session: AsyncSession) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session, status="withdrawn", withdrawn_reason="ошибка")
    response = await client.patch(
        f"/api/v1/materials/{material.id}", json={"title": "Новое"}, headers={**editor, **if_match(1)}
    )
    assert response.status_code == 409
    assert "withdrawn" in response.json()["detail"]


async def test_change_without_if_match_is_428(client: httpx.AsyncClient, session: AsyncSession) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session)
    patch = await client.patch(f"/api/v1/materials/{material.id}", json={"title": "x"}, headers=editor)
    assert patch.status_code == 428
    assert patch.json()["error"] == "precondition_required"
    assert "If-Match" in patch.json()["detail"]
    submit = await client.post(f"/api/v1/materials/{material.id}/submit", headers=editor)
    assert submit.status_code == 428


async def test_stale_if_match_is_412_and_nothing_changes(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    first_editor = await make_key(session, Role.editor)
    second_editor = await make_key(session, Role.editor)
    material = await make_material(session)
    url = f"/api/v1/materials/{material.id}"
    winner = await client.patch(url, json={"title": "Первая правка"}, headers={**first_editor, **if_match(1)})
    assert winner.status_code == 200
    loser = await client.patch(url, json={"title": "Вторая правка"}, headers={**second_editor, **if_match(1)})
    assert loser.status_code == 412
    assert loser.json()["error"] == "precondition_failed"
    assert loser.headers["ETag"] == '"2"'
    stale_action = await client.post(f"{url}/submit", headers={**second_editor, **if_match(1)})
    assert stale_action.status_code == 412
    current = await client.get(url, headers=first_editor)
    assert current.json()["title"] == "Первая правка"
    assert current.json()["version"] == 2
    assert current.json()["status"] == "draft"


async def test_version_in_body_is_an_alternative_to_if_match(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session)
    url = f"/api/v1/materials/{material.id}"
    accepted = await client.patch(url, json={"title": "Правка", "version": 1}, headers=editor)
    assert accepted.status_code == 200
    assert accepted.json()["version"] == 2
    stale = await client.patch(url, json={"title": "Ещё", "version": 1}, headers=editor)
    assert stale.status_code == 412
    disagree = await client.patch(url, json={"title": "Ещё", "version": 2}, headers={**editor, **if_match(1)})
    assert disagree.status_code == 422


async def test_weak_and_unquoted_if_match_are_understood_garbage_is_not(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session)
    url = f"/api/v1/materials/{material.id}"
    weak = await client.patch(url, json={"title": "a"}, headers={**editor, "If-Match": 'W/"1"'})
    assert weak.status_code == 200
    bare = await client.patch(url, json={"title": "b"}, headers={**editor, "If-Match": "2"})
    assert bare.status_code == 200
    star = await client.patch(url, json={"title": "c"}, headers={**editor, "If-Match": "*"})
    assert star.status_code == 422
    assert star.json()["detail"][0]["field"] == "header.If-Match"
    garbage = await client.patch(url, json={"title": "c"}, headers={**editor, "If-Match": '"abc"'})
    assert garbage.status_code == 422


async def test_patch_without_changes_keeps_the_version(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session, title="Без изменений")
    response = await client.patch(
        f"/api/v1/materials/{material.id}", json={"title": "Без изменений"}, headers={**editor, **if_match(1)}
    )
    assert response.status_code == 200
    assert response.json()["version"] == 1


WRITES = [
    ("POST", "", {"json": PAYLOAD}),
    ("PATCH", "/{id}", {"json": {"title": "Правка"}}),
    ("POST", "/{id}/submit", {}),
    ("POST", "/{id}/approve", {}),
    ("POST", "/{id}/return-to-draft", {}),
    ("POST", "/{id}/withdraw", {"json": {"reason": "ошибка"}}),
]


@pytest.mark.parametrize(("method", "suffix", "kwargs"), WRITES)
@pytest.mark.parametrize("role", [Role.monitor, Role.operator])
async def test_monitor_and_operator_cannot_write_materials(
    client: httpx.AsyncClient,
    session: AsyncSession,
    role: Role,
    method: str,
    suffix: str,
    kwargs: dict[str, Any],
) -> None:
    organisation = await make_organisation(session)
    headers = await make_key(session, role, organisation.id if role is Role.operator else None)
    material = await make_material(session, status="review")
    response = await client.request(
        method,
        "/api/v1/materials" + suffix.format(id=material.id),
        headers={**headers, **if_match(1)},
        **kwargs,
    )
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "forbidden"
    await session.refresh(material)
    assert (material.version, material.status) == (1, "review")


@pytest.mark.parametrize(
    ("method", "suffix", "kwargs", "status"),
    [
        ("POST", "", {"json": PAYLOAD}, 201),
        ("PATCH", "/{id}", {"json": {"title": "Правка"}}, 200),
        ("POST", "/{id}/submit", {}, 200),
        ("POST", "/{id}/approve", {}, 200),
        ("POST", "/{id}/return-to-draft", {}, 200),
        ("POST", "/{id}/withdraw", {"json": {"reason": "ошибка"}}, 200),
    ],
)
@pytest.mark.parametrize("role", [Role.admin, Role.editor])
async def test_admin_and_editor_may_write_materials(
    client: httpx.AsyncClient,
    session: AsyncSession,
    role: Role,
    method: str,
    suffix: str,
    kwargs: dict[str, Any],
    status: int,
) -> None:
    headers = await make_key(session, role)
    starting = "draft" if suffix.endswith("submit") else "review"
    material = await make_material(session, status=starting)
    response = await client.request(
        method,
        "/api/v1/materials" + suffix.format(id=material.id),
        headers={**headers, **if_match(1)},
        **kwargs,
    )
    assert response.status_code == status, response.text


async def test_every_material_write_is_audited(client: httpx.AsyncClient, session: AsyncSession) -> None:
    editor = await make_key(session, Role.editor)
    material = await create(client, editor)
    material = (
        await client.patch(
            f"/api/v1/materials/{material['id']}",
            json={"body": "Новый текст"},
            headers={**editor, **if_match(1)},
        )
    ).json()
    material = (await act(client, editor, material, "submit")).json()
    material = (await act(client, editor, material, "approve")).json()
    await act(client, editor, material, "withdraw", json={"reason": "снято"})
    events = (
        await session.exec(
            select(AuditEvent)
            .where(AuditEvent.entity_type == "material", AuditEvent.entity_id == material["id"])
            .order_by(col(AuditEvent.id))
        )
    ).all()
    assert [event.action for event in events] == [
        "material.create",
        "material.update",
        "material.submit",
        "material.approve",
        "material.withdraw",
    ]
    assert events[1].changes["body"] == [PAYLOAD["body"], "Новый текст"]
    assert events[4].changes["reason"] == "снято"
    assert all(event.actor_role == "editor" for event in events)


async def test_operator_reads_only_approved_and_withdrawn(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    operator = await make_key(session, Role.operator, organisation.id)
    week = "2031-W05"
    visible = {
        (await make_material(session, status=status, week=week)).id for status in ("approved", "withdrawn")
    }
    hidden = [await make_material(session, status=status, week=week) for status in ("draft", "review")]
    listed = await client.get("/api/v1/materials", params={"week": week}, headers=operator)
    assert listed.status_code == 200
    assert {item["id"] for item in listed.json()["items"]} == visible
    for material in hidden:
        refused = await client.get(f"/api/v1/materials/{material.id}", headers=operator)
        assert refused.status_code == 404
    for material_id in visible:
        assert (await client.get(f"/api/v1/materials/{material_id}", headers=operator)).status_code == 200
    drafts = await client.get("/api/v1/materials", params={"week": week, "status": "draft"}, headers=operator)
    assert drafts.json()["total"] == 0


async def test_monitor_reads_every_status(client: httpx.AsyncClient, session: AsyncSession) -> None:
    monitor = await make_key(session, Role.monitor)
    week = "2031-W06"
    for status in MaterialStatus:
        await make_material(session, status=status.value, week=week)
    listed = await client.get("/api/v1/materials", params={"week": week}, headers=monitor)
    assert listed.json()["total"] == len(MaterialStatus)


async def test_list_filters_and_pages(client: httpx.AsyncClient, session: AsyncSession) -> None:
    editor = await make_key(session, Role.editor)
    week = "2031-W07"
    await make_material(
        session,
        week=week,
        title="Зимний фестиваль",
        topics=["культура", "спорт"],
        priority="urgent",
        status="approved",
    )
    await make_material(session, week=week, title="Ремонт дорог", topics=["дороги"], hashtags=["#дороги"])
    await make_material(session, week=week, title="Фестиваль_100% открыт", topics=["культура"])
    await make_material(session, week="2031-W08", title="Фестиваль в другой неделе")

    async def ids(**params: Any) -> int:
        response = await client.get("/api/v1/materials", params={"week": week, **params}, headers=editor)
        assert response.status_code == 200, response.text
        return int(response.json()["total"])

    assert await ids() == 3
    assert await ids(status="approved") == 1
    assert await ids(priority="urgent") == 1
    assert await ids(topic="культура") == 2
    assert await ids(hashtag="#дороги") == 1
    assert await ids(q="фестиваль") == 2
    assert await ids(q="_100%") == 1
    page = await client.get(
        "/api/v1/materials", params={"week": week, "limit": 2, "offset": 2}, headers=editor
    )
    assert page.json()["total"] == 3
    assert len(page.json()["items"]) == 1


async def test_list_refuses_an_invalid_week_filter(client: httpx.AsyncClient, session: AsyncSession) -> None:
    editor = await make_key(session, Role.editor)
    response = await client.get("/api/v1/materials", params={"week": "2025-W53"}, headers=editor)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "query.week"


async def test_missing_material_is_404(client: httpx.AsyncClient, session: AsyncSession) -> None:
    editor = await make_key(session, Role.editor)
    assert (await client.get("/api/v1/materials/999999", headers=editor)).status_code == 404
    patch = await client.patch(
        "/api/v1/materials/999999", json={"title": "x"}, headers={**editor, **if_match(1)}
    )
    assert patch.status_code == 404


async def test_version_counter_is_stored(session: AsyncSession, client: httpx.AsyncClient) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session)
    await client.post(f"/api/v1/materials/{material.id}/submit", headers={**editor, **if_match(1)})
    stored = (
        await session.exec(
            select(Material).where(Material.id == material.id).execution_options(populate_existing=True)
        )
    ).one()
    assert (stored.version, stored.status) == (2, "review")
