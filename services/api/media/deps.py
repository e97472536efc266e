"""What the media endpoints need from outside: upload limits, the storage, a staging directory.
Dependencies, so tests and deployments can replace each one."""

from pathlib import Path
from typing import Annotated

from fastapi import Depends

from services.api.media.upload import MediaLimits
from shared.settings import get_settings
from shared.storage import Storage, local_storage


def media_limits() -> MediaLimits:
    settings = get_settings()
    return MediaLimits(max_photo_bytes=settings.max_photo_bytes, max_video_bytes=settings.max_video_bytes)


def media_storage() -> Storage:
    return local_storage()


def upload_staging_dir() -> Path:
    return get_settings().data_dir / "uploads"


LimitsDep = Annotated[MediaLimits, Depends(media_limits)]
StorageDep = Annotated[Storage, Depends(media_storage)]
StagingDep = Annotated[Path, Depends(upload_staging_dir)]
