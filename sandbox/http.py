"""Minimal HTTP plumbing for the raw ASGI app: parsed requests, JSON replies, multipart bodies."""

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qsl


@dataclass(slots=True)
class UploadedFile:
    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)
    json_body: object = None

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name, default)


@dataclass(slots=True)
class Response:
    status: int
    body: bytes
    content_type: bytes = b"application/json"


def json_response(payload: object, status: int = 200) -> Response:
    return Response(status, json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())


def text_response(text: str, status: int) -> Response:
    return Response(status, text.encode(), b"text/plain; charset=utf-8")


def parse_body(request: Request) -> None:
    """Fill ``params`` (query string, then form, multipart or JSON fields) and ``files``."""
    params = dict(request.query)
    content_type = request.header("content-type")
    body = request.body
    if body:
        if content_type.startswith("application/x-www-form-urlencoded") or not content_type:
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        elif content_type.startswith("multipart/form-data"):
            fields, files = parse_multipart(body, content_type)
            params.update(fields)
            request.files = files
        elif content_type.startswith("application/json"):
            try:
                decoded = json.loads(body)
            except ValueError:
                decoded = None
            request.json_body = decoded
            if isinstance(decoded, dict):
                for key, value in decoded.items():
                    params[key] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    request.params = params


def _boundary(content_type: str) -> bytes:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "boundary":
            return value.strip('"').encode()
    raise ValueError("multipart body without boundary")


def _disposition(value: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for part in value.split(";")[1:]:
        key, _, raw = part.strip().partition("=")
        result[key.lower()] = raw.strip().strip('"')
    return result


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    """Split a multipart/form-data body into text fields and files (fields with a filename)."""
    delimiter = b"--" + _boundary(content_type)
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, payload = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        if payload.endswith(b"\r\n"):
            payload = payload[:-2]
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        disposition = _disposition(headers.get("content-disposition", ""))
        name = disposition.get("name", "")
        if "filename" in disposition:
            files[name] = UploadedFile(
                name,
                disposition["filename"],
                headers.get("content-type", "application/octet-stream"),
                payload,
            )
        else:
            fields[name] = payload.decode("utf-8", "replace")
    return fields, files
