"""Receive one uploaded file from a multipart request as it streams in: into a temporary file, with
the SHA-256 and a running size check, and its type sniffed from the first bytes. An oversized or
unacceptable upload is refused as soon as that is known, without reading the rest."""

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from anyio import to_thread
from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from services.api.errors import InvalidField, PayloadTooLarge, UnsupportedMediaType
from shared.media_types import ACCEPTED_DESCRIPTION, SNIFF_BYTES, MediaType, sniff
from shared.models.enums import MediaKind

FILE_FIELD = "file"
# Room for the multipart boundaries and part headers around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


@dataclass(frozen=True)
class MediaLimits:
    max_photo_bytes: int
    max_video_bytes: int

    def for_kind(self, kind: MediaKind) -> int:
        return self.max_photo_bytes if kind is MediaKind.photo else self.max_video_bytes


@dataclass
class ReceivedFile:
    path: Path
    size: int
    sha256: str
    media_type: MediaType
    filename: str | None


def _file_error(message: str) -> InvalidField:
    return InvalidField(f"body.{FILE_FIELD}", message)


@dataclass
class _Parts:
    """Collects what the (synchronous) multipart callbacks see, for the async loop to act on."""

    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    headers: dict[bytes, bytes] = field(default_factory=dict)
    in_file: bool = False
    file_seen: bool = False
    file_ended: bool = False
    second_file: bool = False
    filename: str | None = None
    chunks: list[bytes] = field(default_factory=list)

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self.header_field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self.header_value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self.headers = {}

    def _header_end(self) -> None:
        self.headers[bytes(self.header_field).lower()] = bytes(self.header_value)
        self.header_field.clear()
        self.header_value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        if options.get(b"name") != FILE_FIELD.encode():
            return
        if self.file_seen:
            self.second_file = True
            return
        self.in_file = self.file_seen = True
        raw_name = options.get(b"filename")
        if raw_name:
            name = os.path.basename(raw_name.decode("utf-8", errors="replace").replace("\\", "/"))
            self.filename = name[:300] or None

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self.in_file:
            self.chunks.append(bytes(data[start:end]))

    def _part_end(self) -> None:
        if self.in_file:
            self.in_file = False
            self.file_ended = True


class _Sink:
    """Writes the file's bytes to ``handle`` while hashing, sniffing and counting them."""

    def __init__(self, handle: BinaryIO, limits: MediaLimits) -> None:
        self.handle = handle
        self.limits = limits
        self.digest = hashlib.sha256()
        self.size = 0
        self.head = bytearray()
        self.media_type: MediaType | None = None

    async def write(self, chunks: list[bytes], *, final: bool) -> None:
        for chunk in chunks:
            if self.media_type is None:
                self.head.extend(chunk)
                if len(self.head) < SNIFF_BYTES:
                    continue
                chunk = bytes(self.head)
                self._detect()
            await self._append(chunk)
        if final and self.media_type is None:
            if not self.head:
                raise _file_error("the file is empty")
            self._detect()
            await self._append(bytes(self.head))

    def _detect(self) -> None:
        self.media_type = sniff(bytes(self.head))
        if self.media_type is None:
            raise UnsupportedMediaType(
                f"the file's content is not a type we accept ({ACCEPTED_DESCRIPTION}); "
                "the type is read from the bytes, not from the file name"
            )

    async def _append(self, chunk: bytes) -> None:
        assert self.media_type is not None
        self.size += len(chunk)
        limit = self.limits.for_kind(self.media_type.kind)
        if self.size > limit:
            raise PayloadTooLarge(
                f"a {self.media_type.kind.value} may be at most {limit} bytes; this upload is larger"
            )
        self.digest.update(chunk)
        await to_thread.run_sync(self.handle.write, chunk)


def _open_staging_file(staging_dir: Path) -> BinaryIO:
    staging_dir.mkdir(parents=True, exist_ok=True)
    # Closed (and removed on failure) by the caller.
    return tempfile.NamedTemporaryFile(dir=staging_dir, delete=False)  # type: ignore[return-value]


def _discard(handle: BinaryIO, path: Path) -> None:
    handle.close()
    path.unlink(missing_ok=True)


async def receive_file(request: Request, limits: MediaLimits, staging_dir: Path) -> ReceivedFile:
    """Stream the ``file`` field of a multipart request into a temporary file under ``staging_dir``.
    The caller owns (and must remove) the file it returns; on any error it is already removed."""
    media, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if media != b"multipart/form-data" or not boundary:
        raise _file_error(f"send the file as multipart/form-data, in a field named '{FILE_FIELD}'")
    declared = request.headers.get("content-length", "")
    largest = max(limits.max_photo_bytes, limits.max_video_bytes)
    if declared.isdigit() and int(declared) > largest + MULTIPART_OVERHEAD:
        raise PayloadTooLarge(
            f"uploads may be at most {largest} bytes (videos), photos {limits.max_photo_bytes}"
        )

    parts = _Parts()
    parser = MultipartParser(boundary, parts.callbacks())  # type: ignore[arg-type]
    handle = await to_thread.run_sync(_open_staging_file, staging_dir)
    path = Path(handle.name)
    try:
        sink = _Sink(handle, limits)
        async for chunk in request.stream():
            try:
                parser.write(chunk)
            except MultipartParseError as exc:
                raise _file_error(f"the multipart body is malformed: {exc}") from exc
            if parts.second_file:
                raise _file_error(f"send one file per request in the '{FILE_FIELD}' field")
            chunks, parts.chunks = parts.chunks, []
            await sink.write(chunks, final=False)
        try:
            parser.finalize()
        except MultipartParseError as exc:
            raise _file_error(f"the multipart body is malformed: {exc}") from exc
        if not parts.file_seen:
            raise _file_error(f"no file: send it as multipart/form-data in a field named '{FILE_FIELD}'")
        if not parts.file_ended:
            raise _file_error("the upload ended before the file was complete")
        chunks, parts.chunks = parts.chunks, []
        await sink.write(chunks, final=True)
        await to_thread.run_sync(handle.close)
        assert sink.media_type is not None
        return ReceivedFile(
            path=path,
            size=sink.size,
            sha256=sink.digest.hexdigest(),
            media_type=sink.media_type,
            filename=parts.filename,
        )
    except BaseException:
        await to_thread.run_sync(_discard, handle, path)
        raise
