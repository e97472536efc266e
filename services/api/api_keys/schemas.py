from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.models.enums import Role


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Оператор — Администрация Хабаровского района",
                    "role": "operator",
                    "organisation_id": 12,
                }
            ]
        },
    )

    name: str = Field(min_length=1, max_length=200, description="Who or what uses the key")
    role: Role
    organisation_id: int | None = Field(
        default=None, description="Required for operator keys, and only for them"
    )

    @model_validator(mode="after")
    def _organisation_for_operators(self) -> "ApiKeyCreate":
        bound = (Role.operator, Role.feed)
        if self.role in bound and self.organisation_id is None:
            raise ValueError(f"an {self.role.value} key needs organisation_id")
        if self.role not in bound and self.organisation_id is not None:
            raise ValueError(f"a {self.role.value} key is not bound to an organisation; omit organisation_id")
        return self


class ApiKeyPublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 4,
                    "name": "Мониторинг ЦУР",
                    "role": "monitor",
                    "organisation_id": None,
                    "prefix": "3fa85f64a1b2",
                    "created_at": "2026-11-24T10:00:00Z",
                    "last_used_at": None,
                    "revoked_at": None,
                }
            ]
        },
    )

    id: int
    name: str
    role: Role
    organisation_id: int | None
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    """The new key, with its plaintext `key` — shown this once and never again."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 4,
                    "name": "Мониторинг ЦУР",
                    "role": "monitor",
                    "organisation_id": None,
                    "prefix": "3fa85f64a1b2",
                    "created_at": "2026-11-24T10:00:00Z",
                    "last_used_at": None,
                    "revoked_at": None,
                    "key": "hub_3fa85f64a1b2_Q2hhbmdlIG1lIGJ5IGNyZWF0aW5nIGEga2V5",
                }
            ]
        }
    )

    key: str
