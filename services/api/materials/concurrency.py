"""Optimistic concurrency for materials: reads carry ``ETag: "<version>"``, writes must send it back
in ``If-Match`` (or as ``version`` in the body). The version is compared under a row lock, so two
editors holding the same version cannot both win."""

from typing import Annotated

from fastapi import Header, Response

from services.api.errors import InvalidField, PreconditionFailed, PreconditionRequired
from shared.models import Material

IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The `ETag` of the material you last read, e.g. `"3"`. Required for changes: '
        "a stale value gives 412, a missing one 428.",
    ),
]


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, material: Material) -> None:
    response.headers["ETag"] = etag(material.version)


def parse_if_match(value: str | None) -> int | None:
    """The version named by an ``If-Match`` header (``"3"``, ``W/"3"`` or ``3``), None when absent."""
    if value is None or not value.strip():
        return None
    versions = []
    for part in value.split(","):
        tag = part.strip().removeprefix("W/").strip('"')
        if tag == "*":
            raise InvalidField(
                "header.If-Match", "'*' is not accepted: send the ETag of the version you read"
            )
        if not tag.isdigit():
            raise InvalidField("header.If-Match", f"'{part.strip()}' is not a material ETag such as '\"3\"'")
        versions.append(int(tag))
    if len(set(versions)) != 1:
        raise InvalidField("header.If-Match", "send exactly one ETag")
    return versions[0]


def expected_version(
    if_match: str | None, body_version: int | None = None, *, required: bool = True
) -> int | None:
    """The version the client claims to have read; 428 when a change arrives without one."""
    from_header = parse_if_match(if_match)
    if from_header is not None and body_version is not None and from_header != body_version:
        raise InvalidField("body.version", "the If-Match header and the version field disagree")
    version = from_header if from_header is not None else body_version
    if version is None and required:
        raise PreconditionRequired(
            "this change needs the material's current version: send the ETag you read as an "
            "'If-Match' header (or 'version' in the body)"
        )
    return version


def check_version(material: Material, expected: int | None) -> None:
    """412 when the material changed since the client read it. Call with the row locked."""
    if expected is not None and material.version != expected:
        raise PreconditionFailed(
            f"material {material.id} is at version {material.version}, not {expected}: someone changed it "
            "since you read it; reload it and apply your change again",
            headers={"ETag": etag(material.version)},
        )
