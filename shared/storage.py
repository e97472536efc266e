"""Where media bytes live. The API talks to the small ``Storage`` protocol; the local-disk
implementation is the default, an S3-compatible one can follow without touching callers.

Keys are content addresses (``sha256/ab/cd/<hex>``): the same bytes are stored once, writes are
idempotent, and a file can only ever hold the bytes its key names."""

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO, Protocol

from anyio import to_thread

from shared.settings import get_settings

CHUNK_BYTES = 256 * 1024


class StorageKeyMissing(Exception):
    """The key names no stored object."""


class Storage(Protocol):
    async def put(self, stream: BinaryIO, *, sha256: str) -> str:
        """Store ``stream`` (whose SHA-256 the caller computed) and return its key."""
        ...

    def open(self, key: str) -> AsyncIterator[bytes]:
        """The stored bytes, in chunks; raises ``StorageKeyMissing`` when there are none."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error."""
        ...

    async def exists(self, key: str) -> bool: ...


def content_key(sha256: str) -> str:
    sha256 = sha256.lower()
    if len(sha256) != 64 or any(char not in "0123456789abcdef" for char in sha256):
        raise ValueError("sha256 must be 64 hex digits")
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


class LocalDiskStorage:
    """Files under ``root``; each write goes to a temporary file first and is renamed into place,
    so a reader never sees a half-written object and a crash leaves only a stray temporary file."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"storage key escapes the storage root: {key!r}")
        return path

    async def put(self, stream: BinaryIO, *, sha256: str) -> str:
        key = content_key(sha256)
        await to_thread.run_sync(self._put_sync, stream, key, sha256.lower())
        return key

    def _put_sync(self, stream: BinaryIO, key: str, sha256: str) -> None:
        target = self._path(key)
        if target.exists():
            return
        staging = self.root / ".staging"
        staging.mkdir(parents=True, exist_ok=True)
        temporary = staging / uuid.uuid4().hex
        digest = hashlib.sha256()
        try:
            with temporary.open("wb") as handle:
                while chunk := stream.read(CHUNK_BYTES):
                    digest.update(chunk)
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            if digest.hexdigest() != sha256:
                raise ValueError("the stored bytes do not match the SHA-256 the caller gave")
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)

    async def open(self, key: str) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            handle = await to_thread.run_sync(path.open, "rb")
        except FileNotFoundError as exc:
            raise StorageKeyMissing(key) from exc
        try:
            while chunk := await to_thread.run_sync(handle.read, CHUNK_BYTES):
                yield chunk
        finally:
            handle.close()

    async def delete(self, key: str) -> None:
        await to_thread.run_sync(lambda: self._path(key).unlink(missing_ok=True))

    async def exists(self, key: str) -> bool:
        return await to_thread.run_sync(self._path(key).is_file)


def local_storage() -> LocalDiskStorage:
    return LocalDiskStorage(get_settings().media_root)
