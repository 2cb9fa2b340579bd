"""Uploaded files (`st.file_uploader`): ports and values.

`UploadStore` keeps the bytes (driven); `Uploads` is what the upload routes call;
`UploadedFiles` is what the runtime reads uploaded files through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class UploadedFile:
    session_id: str
    file_id: str
    name: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class UploadRequest:
    """The parts of an upload PUT or DELETE the rules look at."""

    session_id: str
    file_id: str
    content_length: str | None
    content_type: str | None
    xsrf_header: str | None
    """The `X-Xsrftoken` header."""
    cookie_header: str | None
    """The raw `Cookie` header."""
    origin: str | None = None
    host: str | None = None


@dataclass(frozen=True, slots=True)
class UploadCors:
    """The CORS answer of the upload routes: an origin to allow, and whether with cookies."""

    allow_origin: str | None
    credentials: bool


class UploadWriter(Protocol):
    """One file being written; nothing is visible until `commit`."""

    async def write(self, chunk: bytes) -> None: ...

    async def commit(self, file: UploadedFile) -> None:
        """Make the file visible (replacing one with the same ids)."""
        ...

    async def abort(self) -> None:
        """Throw away what was written. Idempotent; also fine after commit (no-op)."""
        ...


class UploadStore(Protocol):
    """Where uploaded files live, keyed by (session id, file id)."""

    async def writer(self, session_id: str, file_id: str) -> UploadWriter: ...

    async def get(self, session_id: str, file_id: str) -> tuple[UploadedFile, bytes] | None: ...

    async def delete(self, session_id: str, file_id: str) -> None: ...

    async def delete_session(self, session_id: str) -> None:
        """Remove every file of the session."""
        ...


class UploadSink(Protocol):
    """An upload in progress: feed the body as it arrives, then finish (or abort)."""

    async def feed(self, chunk: bytes) -> None:
        """Raises `PayloadTooLarge` or `BadRequest`; the upload is then already aborted."""
        ...

    async def finish(self) -> None:
        """Raises `BadRequest` for a truncated body or not exactly one file."""
        ...

    async def abort(self) -> None:
        """The client went away: leave nothing behind. Idempotent."""
        ...


class Uploads(Protocol):
    """The upload routes: `PUT`/`DELETE {base}/_stcore/upload_file/{session}/{file}`."""

    async def begin(self, request: UploadRequest) -> UploadSink:
        """Check the request before reading its body.

        Raises `Forbidden` (XSRF), `BadRequest` (inactive session, bad ids, bad
        Content-Length or Content-Type) or `PayloadTooLarge` (Content-Length over limit).
        """
        ...

    async def delete(self, request: UploadRequest) -> None:
        """Raises `Forbidden` (XSRF). Unknown files are ignored."""
        ...

    def cors(self, origin: str | None, host: str | None) -> UploadCors:
        """What the upload routes answer to CORS, for every method and outcome."""
        ...


class UploadedFiles(Protocol):
    """The runtime's side."""

    def upload_urls(self, session_id: str, count: int) -> list[tuple[str, str]]:
        """`count` fresh (file id, URL) pairs for the frontend to PUT files to."""
        ...

    async def files(
        self, session_id: str, file_ids: Sequence[str]
    ) -> list[tuple[UploadedFile, bytes]]:
        """The session's files with these ids, in order; unknown ids are skipped."""
        ...

    async def remove(self, session_id: str, file_id: str) -> None: ...

    async def remove_session(self, session_id: str) -> None:
        """The session ended: its files go with it."""
        ...
