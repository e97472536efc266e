from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field

from shared.models.enums import MediaKind


class MediaPublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 31,
                    "material_id": 7,
                    "kind": "photo",
                    "content_type": "image/jpeg",
                    "size_bytes": 2480133,
                    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                    "width": 1920,
                    "height": 1280,
                    "original_filename": "subbotnik.jpg",
                    "position": 0,
                    "created_at": "2026-11-21T10:05:00Z",
                    "content_url": "/api/v1/media/31/content",
                }
            ]
        },
    )

    id: int
    material_id: int
    kind: MediaKind
    content_type: str = Field(description="Detected from the file's bytes, not its name")
    size_bytes: int
    sha256: str
    width: int | None = Field(description="Pixels, for photos")
    height: int | None
    original_filename: str | None
    position: int = Field(description="Order of the media in the post, from 0")
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def content_url(self) -> str:
        return f"/api/v1/media/{self.id}/content"


class MediaOrder(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"media_ids": [33, 31, 32]}]})

    media_ids: list[int] = Field(description="Every media id of the material, in the new order")
