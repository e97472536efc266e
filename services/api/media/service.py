"""Attaching media to materials. The file is stored before its row is written, so a crash between the
two leaves at most an unreferenced file (harmless), never a row without its bytes."""

from pathlib import Path
from typing import Any

from anyio import to_thread
from fastapi import Request
from PIL import Image
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api import audit
from services.api.deps import Principal
from services.api.errors import Conflict, InvalidField, NotFound, not_found
from services.api.materials.concurrency import check_version
from services.api.materials.service import (
    ensure_editable,
    get_visible_material,
    lock_material,
    mark_content_changed,
)
from services.api.media.upload import MediaLimits, ReceivedFile, receive_file
from shared.models import Material, MediaAsset
from shared.models.enums import MediaKind
from shared.storage import Storage


def _image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


async def _dimensions(received: ReceivedFile) -> tuple[int | None, int | None]:
    if received.media_type.kind is not MediaKind.photo:
        return None, None
    try:
        return await to_thread.run_sync(_image_size, received.path)
    except Exception as exc:  # Pillow raises many types for a broken image
        raise InvalidField(
            "body.file",
            f"the file starts like {received.media_type.content_type} but is not a readable image",
        ) from exc


async def _store(storage: Storage, received: ReceivedFile) -> str:
    handle = await to_thread.run_sync(received.path.open, "rb")
    try:
        return await storage.put(handle, sha256=received.sha256)
    finally:
        handle.close()


async def add_media(
    session: AsyncSession,
    principal: Principal,
    storage: Storage,
    material_id: int,
    request: Request,
    limits: MediaLimits,
    staging_dir: Path,
    expected_version: int | None,
) -> MediaAsset:
    # Refuse early what would be refused anyway, before receiving the bytes (without holding a lock).
    material = await session.get(Material, material_id)
    if material is None:
        raise not_found("Material", material_id)
    ensure_editable(material)
    check_version(material, expected_version)

    received = await receive_file(request, limits, staging_dir)
    try:
        width, height = await _dimensions(received)
        storage_key = await _store(storage, received)
    finally:
        await to_thread.run_sync(lambda: received.path.unlink(missing_ok=True))

    material = await lock_material(session, material_id, expected_version)
    ensure_editable(material)
    duplicate = (
        await session.exec(
            select(MediaAsset.id).where(
                MediaAsset.material_id == material_id, MediaAsset.sha256 == received.sha256
            )
        )
    ).first()
    if duplicate is not None:
        raise Conflict(f"material {material_id} already has this file (media {duplicate})")
    last_position = (
        await session.exec(select(func.max(MediaAsset.position)).where(MediaAsset.material_id == material_id))
    ).one()
    asset = MediaAsset(
        material_id=material_id,
        kind=received.media_type.kind.value,
        content_type=received.media_type.content_type,
        size_bytes=received.size,
        sha256=received.sha256,
        width=width,
        height=height,
        storage_key=storage_key,
        original_filename=received.filename,
        position=0 if last_position is None else last_position + 1,
    )
    session.add(asset)
    changes: dict[str, Any] = mark_content_changed(material)
    await session.flush()
    audit.record(
        session,
        principal,
        "media.create",
        "media_asset",
        asset.id,
        changes={
            "material_id": material_id,
            "kind": asset.kind,
            "content_type": asset.content_type,
            "size_bytes": asset.size_bytes,
            "sha256": asset.sha256,
            "original_filename": asset.original_filename,
            **changes,
        },
    )
    return asset


async def list_media(session: AsyncSession, principal: Principal, material_id: int) -> list[MediaAsset]:
    await get_visible_material(session, principal, material_id)
    query = (
        select(MediaAsset)
        .where(MediaAsset.material_id == material_id)
        .order_by(col(MediaAsset.position), col(MediaAsset.id))
    )
    return list((await session.exec(query)).all())


async def get_visible_media(session: AsyncSession, principal: Principal, media_id: int) -> MediaAsset:
    """The media asset, or 404 — also when its material is not visible to the caller."""
    asset = await session.get(MediaAsset, media_id)
    if asset is None:
        raise not_found("Media", media_id)
    try:
        await get_visible_material(session, principal, asset.material_id)
    except NotFound as exc:
        raise not_found("Media", media_id) from exc
    return asset


async def delete_media(
    session: AsyncSession, principal: Principal, media_id: int, expected_version: int | None
) -> None:
    """Remove the asset from its material. The stored file stays: the same bytes may back other
    materials' media (content addressing), and this transaction may still roll back."""
    asset = await session.get(MediaAsset, media_id)
    if asset is None:
        raise not_found("Media", media_id)
    material = await lock_material(session, asset.material_id, expected_version)
    ensure_editable(material)
    await session.delete(asset)
    changes = mark_content_changed(material)
    await session.flush()
    audit.record(
        session,
        principal,
        "media.delete",
        "media_asset",
        media_id,
        changes={
            "material_id": material.id,
            "sha256": asset.sha256,
            "original_filename": asset.original_filename,
            **changes,
        },
    )


async def reorder_media(
    session: AsyncSession,
    principal: Principal,
    material_id: int,
    media_ids: list[int],
    expected_version: int | None,
) -> list[MediaAsset]:
    material = await lock_material(session, material_id, expected_version)
    ensure_editable(material)
    assets = list((await session.exec(select(MediaAsset).where(MediaAsset.material_id == material_id))).all())
    if sorted(media_ids) != sorted(asset.id for asset in assets if asset.id is not None):
        raise InvalidField("body.media_ids", f"list every media id of material {material_id} exactly once")
    by_id = {asset.id: asset for asset in assets}
    before = [asset.id for asset in sorted(assets, key=lambda asset: (asset.position, asset.id or 0))]
    for position, media_id in enumerate(media_ids):
        by_id[media_id].position = position
    if before != media_ids:
        changes = mark_content_changed(material)
        await session.flush()
        audit.record(
            session,
            principal,
            "media.reorder",
            "material",
            material_id,
            changes={"media_ids": [before, media_ids], **changes},
        )
    return [by_id[media_id] for media_id in media_ids]
