import hashlib
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.media.deps import media_limits, upload_staging_dir
from services.api.media.upload import MediaLimits
from shared.media_types import sniff
from shared.models import AuditEvent
from shared.models.enums import Role
from shared.storage import LocalDiskStorage, content_key
from tests.factories import make_key, make_material, make_organisation

MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00\x00\x00\x10mdat" + b"\x00" * 8
QUICKTIME = b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  " + b"\x00\x00\x00\x08wide"
WEBM = (
    bytes.fromhex("1a45dfa3")
    + b"\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x84webm"
)
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 16


def image_bytes(fmt: str, size: tuple[int, int] = (64, 48), colour: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format=fmt)
    return buffer.getvalue()


def media_url(material_id: int | None) -> str:
    return f"/api/v1/materials/{material_id}/media"


async def upload(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    material_id: int | None,
    data: bytes,
    filename: str = "photo.jpg",
    content_type: str = "image/jpeg",
) -> httpx.Response:
    return await client.post(
        media_url(material_id), files={"file": (filename, data, content_type)}, headers=headers
    )


@pytest.fixture
async def small_limits_client(db_connection: AsyncConnection) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose upload limits are tiny: 2 KiB photos, 4 KiB videos."""
    from services.api.app import create_app

    app = create_app()
    app.state.sessionmaker = async_sessionmaker(
        bind=db_connection,
        class_=AsyncSession,
        expire_on_commit=False,
        join_transaction_mode="create_savepoint",
    )
    app.dependency_overrides[media_limits] = lambda: MediaLimits(max_photo_bytes=2048, max_video_bytes=4096)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as http:
        yield http


async def test_png_named_jpg_is_detected_as_png(client: httpx.AsyncClient, session: AsyncSession) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session)
    data = image_bytes("PNG", (120, 80))
    response = await upload(
        client, editor, material.id, data, filename="photo.jpg", content_type="image/jpeg"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["content_type"] == "image/png"
    assert body["kind"] == "photo"
    assert (body["width"], body["height"]) == (120, 80)
    assert body["size_bytes"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["original_filename"] == "photo.jpg"
    assert body["position"] == 0
    assert body["content_url"] == f"/api/v1/media/{body['id']}/content"


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("JPEG", "image/jpeg"), ("WEBP", "image/webp"), ("GIF", "image/gif"), ("PNG", "image/png")],
)
async def test_photo_types_are_sniffed_from_bytes(
    client: httpx.AsyncClient, session: AsyncSession, fmt: str, content_type: str
) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session)
    response = await upload(
        client,
        editor,
        material.id,
        image_bytes(fmt),
        filename="upload.bin",
        content_type="application/octet-stream",
    )
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == content_type
    assert (response.json()["width"], response.json()["height"]) == (64, 48)


@pytest.mark.parametrize(
    ("data", "content_type"), [(MP4, "video/mp4"), (QUICKTIME, "video/quicktime"), (WEBM, "video/webm")]
)
async def test_video_types_are_sniffed_from_bytes(
    client: httpx.AsyncClient, session: AsyncSession, data: bytes, content_type: str
) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session)
    response = await upload(client, editor, material.id, data, filename="clip.jpg", content_type="image/jpeg")
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == content_type
    assert response.json()["kind"] == "video"
    assert response.json()["width"] is None


@pytest.mark.parametrize("data", [b"just some text, not a picture\n" * 4, HEIC, b"<svg></svg>"])
async def test_unaccepted_content_is_415_whatever_the_name(
    client: httpx.AsyncClient, session: AsyncSession, data: bytes
) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session)
    response = await upload(
        client, editor, material.id, data, filename="photo.jpg", content_type="image/jpeg"
    )
    assert response.status_code == 415, response.text
    assert response.json()["error"] == "unsupported_media_type"
    assert "JPEG" in response.json()["detail"]


async def test_empty_file_is_a_field_error(client: httpx.AsyncClient, session: AsyncSession) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session)
    response = await upload(client, editor, material.id, b"")
    assert response.status_code == 422
    assert response.json()["detail"] == [{"field": "body.file", "message": "the file is empty"}]


async def test_missing_file_field_and_non_multipart_are_field_errors(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session)
    wrong_field = await client.post(
        media_url(material.id), files={"photo": ("a.png", image_bytes("PNG"))}, headers=editor
    )
    assert wrong_field.status_code == 422
    assert wrong_field.json()["detail"][0]["field"] == "body.file"
    as_json = await client.post(media_url(material.id), json={"file": "abc"}, headers=editor)
    assert as_json.status_code == 422
    assert "multipart/form-data" in as_json.json()["detail"][0]["message"]


async def test_two_files_in_one_request_are_refused(client: httpx.AsyncClient, session: AsyncSession) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session)
    files = [
        ("file", ("a.png", image_bytes("PNG"), "image/png")),
        ("file", ("b.gif", image_bytes("GIF"), "image/gif")),
    ]
    response = await client.post(media_url(material.id), files=files, headers=editor)
    assert response.status_code == 422
    assert "one file" in response.json()["detail"][0]["message"]


async def test_broken_image_with_a_valid_signature_is_refused(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session)
    response = await upload(client, editor, material.id, b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    assert response.status_code == 422
    assert "not a readable image" in response.json()["detail"][0]["message"]


async def test_oversized_photo_is_413_while_a_video_of_that_size_fits(
    small_limits_client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session)
    photo = b"\x89PNG\r\n\x1a\n" + b"\x00" * 3000
    too_big = await upload(small_limits_client, editor, material.id, photo)
    assert too_big.status_code == 413, too_big.text
    assert too_big.json()["error"] == "payload_too_large"
    assert "2048" in too_big.json()["detail"]
    video = MP4 + b"\x00" * (3000 - len(MP4))
    fits = await upload(small_limits_client, editor, material.id, video, filename="clip.mp4")
    assert fits.status_code == 201, fits.text
    assert fits.json()["size_bytes"] == 3000


async def test_oversized_video_is_413(small_limits_client: httpx.AsyncClient, session: AsyncSession) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session)
    response = await upload(
        small_limits_client, editor, material.id, MP4 + b"\x00" * 5000, filename="clip.mp4"
    )
    assert response.status_code == 413
    assert "video" in response.json()["detail"]


async def test_body_far_over_every_limit_is_refused_from_content_length(
    small_limits_client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session)
    response = await upload(
        small_limits_client, editor, material.id, MP4 + b"\x00" * 200_000, filename="big.mp4"
    )
    assert response.status_code == 413


async def test_refused_uploads_leave_nothing_behind(
    small_limits_client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session)
    staging = upload_staging_dir()
    before = set(staging.iterdir()) if staging.exists() else set()
    for data in (b"plain text" * 10, b"\x89PNG\r\n\x1a\n" + b"\x00" * 3000, b""):
        assert (await upload(small_limits_client, editor, material.id, data)).status_code in (413, 415, 422)
    after = set(staging.iterdir()) if staging.exists() else set()
    assert after == before
    listed = await small_limits_client.get(media_url(material.id), headers=editor)
    assert listed.json() == []
    await session.refresh(material)
    assert material.version == 1


async def test_same_bytes_twice_on_one_material_is_409_but_fine_on_another(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    first, second = await make_material(session), await make_material(session)
    data = image_bytes("JPEG", colour="blue")
    assert (await upload(client, editor, first.id, data)).status_code == 201
    again = await upload(client, editor, first.id, data, filename="copy.jpg")
    assert again.status_code == 409
    assert "already has this file" in again.json()["detail"]
    elsewhere = await upload(client, editor, second.id, data)
    assert elsewhere.status_code == 201


async def test_content_returns_identical_bytes_with_detected_type(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    monitor = await make_key(session, Role.monitor)
    material = await make_material(session)
    data = image_bytes("PNG", (300, 200), "green")
    created = (await upload(client, editor, material.id, data, filename="Субботник.jpg")).json()
    content = await client.get(created["content_url"], headers=monitor)
    assert content.status_code == 200
    assert content.content == data
    assert content.headers["content-type"] == "image/png"
    assert content.headers["x-content-type-options"] == "nosniff"
    assert content.headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    unchanged = await client.get(
        created["content_url"], headers={**monitor, "If-None-Match": content.headers["etag"]}
    )
    assert unchanged.status_code == 304
    metadata = await client.get(f"/api/v1/media/{created['id']}", headers=monitor)
    assert metadata.json()["sha256"] == created["sha256"]


async def test_upload_bumps_material_version_and_sends_approved_back_to_review(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session, status="approved")
    response = await upload(client, editor, material.id, image_bytes("PNG"))
    assert response.status_code == 201
    fetched = await client.get(f"/api/v1/materials/{material.id}", headers=editor)
    assert fetched.json()["version"] == 2
    assert fetched.json()["status"] == "review"
    assert fetched.headers["ETag"] == '"2"'


async def test_upload_with_stale_if_match_is_412(client: httpx.AsyncClient, session: AsyncSession) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session, version=3)
    stale = await upload(client, {**editor, "If-Match": '"2"'}, material.id, image_bytes("PNG"))
    assert stale.status_code == 412
    current = await upload(client, {**editor, "If-Match": '"3"'}, material.id, image_bytes("PNG"))
    assert current.status_code == 201


async def test_withdrawn_material_takes_no_media_changes(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session)
    created = (await upload(client, editor, material.id, image_bytes("PNG"))).json()
    withdrawn = await client.post(
        f"/api/v1/materials/{material.id}/withdraw",
        json={"reason": "ошибка"},
        headers={**editor, "If-Match": '"2"'},
    )
    assert withdrawn.status_code == 200
    assert (await upload(client, editor, material.id, image_bytes("GIF"))).status_code == 409
    assert (await client.delete(f"/api/v1/media/{created['id']}", headers=editor)).status_code == 409
    reorder = await client.put(
        f"{media_url(material.id)}/order", json={"media_ids": [created["id"]]}, headers=editor
    )
    assert reorder.status_code == 409


async def test_delete_removes_media_and_bumps_version(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session)
    created = (await upload(client, editor, material.id, image_bytes("PNG"))).json()
    deleted = await client.delete(f"/api/v1/media/{created['id']}", headers={**editor, "If-Match": '"2"'})
    assert deleted.status_code == 204
    assert (await client.get(f"/api/v1/media/{created['id']}", headers=editor)).status_code == 404
    assert (await client.get(media_url(material.id), headers=editor)).json() == []
    assert (await client.get(f"/api/v1/materials/{material.id}", headers=editor)).json()["version"] == 3
    actions = (
        await session.exec(
            select(AuditEvent.action).where(
                AuditEvent.entity_type == "media_asset", AuditEvent.entity_id == created["id"]
            )
        )
    ).all()
    assert sorted(actions) == ["media.create", "media.delete"]


async def test_media_are_listed_in_order_and_can_be_reordered(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    editor = await make_key(session, Role.editor)
    material = await make_material(session)
    ids = [
        (await upload(client, editor, material.id, image_bytes("PNG", colour=colour))).json()["id"]
        for colour in ("red", "green", "blue")
    ]
    listed = await client.get(media_url(material.id), headers=editor)
    assert [item["id"] for item in listed.json()] == ids
    assert [item["position"] for item in listed.json()] == [0, 1, 2]
    new_order = [ids[2], ids[0], ids[1]]
    reordered = await client.put(
        f"{media_url(material.id)}/order", json={"media_ids": new_order}, headers=editor
    )
    assert reordered.status_code == 200, reordered.text
    assert [
        item["id"] for item in (await client.get(media_url(material.id), headers=editor)).json()
    ] == new_order
    incomplete = await client.put(
        f"{media_url(material.id)}/order", json={"media_ids": ids[:2]}, headers=editor
    )
    assert incomplete.status_code == 422
    assert incomplete.json()["detail"][0]["field"] == "body.media_ids"


@pytest.mark.parametrize("role", [Role.monitor, Role.operator])
async def test_monitor_and_operator_cannot_change_media(
    client: httpx.AsyncClient, session: AsyncSession, role: Role
) -> None:
    organisation = await make_organisation(session)
    headers = await make_key(session, role, organisation.id if role is Role.operator else None)
    editor = await make_key(session, Role.editor)
    material = await make_material(session, status="approved")
    created = (await upload(client, editor, material.id, image_bytes("PNG"))).json()
    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", media_url(material.id), {"files": {"file": ("a.gif", image_bytes("GIF"), "image/gif")}}),
        ("DELETE", f"/api/v1/media/{created['id']}", {}),
        ("PUT", f"{media_url(material.id)}/order", {"json": {"media_ids": [created["id"]]}}),
    ]
    for method, url, kwargs in attempts:
        response = await client.request(method, url, headers=headers, **kwargs)
        assert response.status_code == 403, (method, url, response.text)
    assert len((await client.get(media_url(material.id), headers=editor)).json()) == 1


@pytest.mark.parametrize("role", [Role.admin, Role.editor])
async def test_admin_and_editor_may_change_media(
    client: httpx.AsyncClient, session: AsyncSession, role: Role
) -> None:
    headers = await make_key(session, role)
    material = await make_material(session)
    created = await upload(client, headers, material.id, image_bytes("PNG"))
    assert created.status_code == 201
    media_id = created.json()["id"]
    reorder = await client.put(
        f"{media_url(material.id)}/order", json={"media_ids": [media_id]}, headers=headers
    )
    assert reorder.status_code == 200
    assert (await client.delete(f"/api/v1/media/{media_id}", headers=headers)).status_code == 204


async def test_operator_reads_media_of_approved_materials_only(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    organisation = await make_organisation(session)
    operator = await make_key(session, Role.operator, organisation.id)
    editor = await make_key(session, Role.editor)
    approved, draft = await make_material(session), await make_material(session)
    data = image_bytes("PNG")
    visible = (await upload(client, editor, approved.id, data)).json()
    hidden = (await upload(client, editor, draft.id, data)).json()
    await session.refresh(approved)
    approved.status = "approved"
    await session.flush()
    assert (await client.get(f"/api/v1/media/{visible['id']}/content", headers=operator)).content == data
    assert len((await client.get(media_url(approved.id), headers=operator)).json()) == 1
    for url in (
        f"/api/v1/media/{hidden['id']}",
        f"/api/v1/media/{hidden['id']}/content",
        media_url(draft.id),
    ):
        assert (await client.get(url, headers=operator)).status_code == 404, url


async def test_upload_to_a_missing_material_is_404(client: httpx.AsyncClient, session: AsyncSession) -> None:
    editor = await make_key(session, Role.editor)
    assert (await upload(client, editor, 999999, image_bytes("PNG"))).status_code == 404


def test_sniffing_reads_signatures_not_names() -> None:
    assert sniff(image_bytes("JPEG")[:64]).content_type == "image/jpeg"  # type: ignore[union-attr]
    assert sniff(MP4).content_type == "video/mp4"  # type: ignore[union-attr]
    assert sniff(HEIC) is None
    assert sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x82\x88matroska") is None
    assert sniff(b"RIFF\x00\x00\x00\x00WAVEfmt ") is None
    assert sniff(b"") is None


async def test_local_storage_is_content_addressed_and_checks_the_hash(tmp_path: Path) -> None:
    storage = LocalDiskStorage(tmp_path)
    data = b"some bytes" * 1000
    digest = hashlib.sha256(data).hexdigest()
    key = await storage.put(io.BytesIO(data), sha256=digest)
    assert key == content_key(digest)
    assert await storage.exists(key)
    assert b"".join([chunk async for chunk in storage.open(key)]) == data
    assert await storage.put(io.BytesIO(data), sha256=digest) == key
    with pytest.raises(ValueError, match="do not match"):
        await storage.put(io.BytesIO(b"other"), sha256="0" * 64)
    assert not await storage.exists(content_key("0" * 64))
    await storage.delete(key)
    assert not await storage.exists(key)
    with pytest.raises(ValueError, match="64 hex"):
        content_key("../../etc/passwd")
