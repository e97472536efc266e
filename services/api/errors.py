"""Typed domain errors carry their HTTP status; one handler renders every error the same way:
``{"error": <code>, "detail": <message or list of field errors>}``."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException


class ErrorBody(BaseModel):
    error: str
    detail: Any = None


class FieldError(BaseModel):
    field: str
    message: str


class DomainError(Exception):
    status_code = 400
    error = "bad_request"

    def __init__(self, detail: Any = None, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers


class NotAuthenticated(DomainError):
    status_code = 401
    error = "not_authenticated"


class Forbidden(DomainError):
    status_code = 403
    error = "forbidden"


class NotFound(DomainError):
    status_code = 404
    error = "not_found"


class Conflict(DomainError):
    status_code = 409
    error = "conflict"


class PreconditionFailed(DomainError):
    status_code = 412
    error = "precondition_failed"


class PayloadTooLarge(DomainError):
    status_code = 413
    error = "payload_too_large"


class UnsupportedMediaType(DomainError):
    status_code = 415
    error = "unsupported_media_type"


class InvalidField(DomainError):
    """A value that passed the schema but breaks a rule only the database knows (422, per field)."""

    status_code = 422
    error = "validation_error"

    def __init__(self, field: str, message: str) -> None:
        super().__init__([{"field": field, "message": message}])


class PreconditionRequired(DomainError):
    status_code = 428
    error = "precondition_required"


def not_found(entity: str, entity_id: object) -> NotFound:
    return NotFound(f"{entity} {entity_id} does not exist")


# Shown in OpenAPI for every operation, so readers of /docs know the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid API key"},
    403: {"model": ErrorBody, "description": "The key's role or organisation does not allow this"},
    404: {"model": ErrorBody, "description": "No such resource"},
    422: {
        "model": ErrorBody,
        "description": "Field-level validation errors: `detail` lists `{field, message}`",
    },
}


def _field_path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _domain_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return JSONResponse(
        status_code=exc.status_code,
        content={"error": exc.error, "detail": exc.detail},
        headers=exc.headers,
    )


async def _validation_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = []
    for item in exc.errors():
        message = str(item.get("msg", "invalid value"))
        message = message.removeprefix("Value error, ")
        fields.append({"field": _field_path(tuple(item.get("loc", ()))), "message": message})
    return JSONResponse(status_code=422, content={"error": "validation_error", "detail": fields})


async def _http_error_handler(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 401: "not_authenticated", 403: "forbidden"}
    return JSONResponse(
        status_code=exc.status_code,
        content={"error": codes.get(exc.status_code, "http_error"), "detail": exc.detail},
        headers=getattr(exc, "headers", None),
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(StarletteHTTPException, _http_error_handler)
