"""Base for PATCH bodies: a field may be omitted, but null only where null means something."""

from typing import Any, ClassVar

from pydantic import BaseModel, ValidationInfo, field_validator


class PartialUpdate(BaseModel):
    nullable_fields: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _null_only_where_meaningful(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.nullable_fields:
            raise ValueError("may be omitted but not null")
        return value
