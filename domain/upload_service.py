"""Uploads: XSRF, live sessions, size limits, streaming multipart — once for both stacks.

The rules, after Streamlit 1.67 (spec §1.3.7), in the order they are checked:

1. the XSRF header must match the `_streamlit_xsrf` cookie (when protection is on);
2. the session must be live on this server (the message explains sticky sessions and
   never echoes the id);
3. a `Content-Length` must be an integer no larger than `server.maxUploadSize`;
4. while streaming, the body may not exceed the limit plus 1 MiB of multipart framing,
   and the file itself may not exceed the limit, whatever `Content-Length` claimed;
5. the body holds exactly one file part (a part with a filename); it replaces a file with
   the same id. Parts without a filename are form fields: not stored, not counted.

The body goes straight from the socket to the store through an incremental multipart
parser (the `MultipartParser` port: python-multipart, ADR 0021); an upload that fails or
is abandoned half-way leaves nothing behind.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from hexlit.domain.cookie_header import cookie_values
from hexlit.domain.origin_policy import OriginPolicy
from hexlit.domain.subprotocol import is_session_id
from hexlit.domain.xsrf import XSRF_COOKIE, tokens_match
from hexlit.ports.errors import BadRequest, Forbidden, PayloadTooLarge
from hexlit.ports.ids import IdSource
from hexlit.ports.multipart import (
    MultipartBody,
    MultipartLimits,
    MultipartParser,
    PartData,
    PartEnd,
    PartStart,
)
from hexlit.ports.sessions import SessionDirectory
from hexlit.ports.uploads import (
    UploadCors,
    UploadedFile,
    UploadRequest,
    UploadStore,
    UploadWriter,
)

MIB: Final = 1024 * 1024
FRAMING_MARGIN: Final = MIB
MULTIPART_LIMITS: Final = MultipartLimits(max_header_bytes=16 * 1024, max_parts=64)
"""Besides its data, an upload body holds at most 64 parts, each with at most 16 KiB of
header names and values: a browser sends one part with two headers."""
UPLOAD_ENDPOINT: Final = "/_stcore/upload_file"
INACTIVE_SESSION: Final = (
    "This upload belongs to a session that is not active on this server. If the app runs "
    "on several replicas, route each browser to one replica (sticky sessions) or share "
    "the session directory; see docs/deploy.md."
)


@dataclass(frozen=True, slots=True)
class UploadLimits:
    """max_bytes: `server.maxUploadSize` in bytes; xsrf: `server.enableXsrfProtection`."""

    max_bytes: int = 200 * MIB
    xsrf: bool = True


ENDED_SESSIONS_REMEMBERED: Final = 4096


class UploadedFilesService:
    """Implements `UploadedFiles`: the runtime's side of the same store.

    It also remembers the most recently ended sessions, so an upload still streaming
    when its session ended is refused at the end instead of outliving the session.
    """

    def __init__(self, store: UploadStore, ids: IdSource) -> None:
        self._store = store
        self._ids = ids
        self._ended: OrderedDict[str, None] = OrderedDict()

    def has_ended(self, session_id: str) -> bool:
        return session_id in self._ended

    def upload_urls(self, session_id: str, count: int) -> list[tuple[str, str]]:
        pairs = []
        for _ in range(count):
            file_id = self._ids.new_id()
            pairs.append((file_id, f"{UPLOAD_ENDPOINT}/{session_id}/{file_id}"))
        return pairs

    async def files(
        self, session_id: str, file_ids: Sequence[str]
    ) -> list[tuple[UploadedFile, bytes]]:
        found = [await self._store.get(session_id, file_id) for file_id in file_ids]
        return [entry for entry in found if entry is not None]

    async def remove(self, session_id: str, file_id: str) -> None:
        await self._store.delete(session_id, file_id)

    async def remove_session(self, session_id: str) -> None:
        self._ended[session_id] = None
        while len(self._ended) > ENDED_SESSIONS_REMEMBERED:
            self._ended.popitem(last=False)
        await self._store.delete_session(session_id)


class UploadService:
    """Implements `Uploads`: the upload routes' side."""

    def __init__(
        self,
        store: UploadStore,
        sessions: SessionDirectory,
        policy: OriginPolicy,
        limits: UploadLimits,
        files: UploadedFilesService | None = None,
        *,
        multipart: MultipartParser,
    ) -> None:
        self._store = store
        self._multipart = multipart
        self._sessions = sessions
        self._files = files
        self._policy = policy
        self._limits = limits

    async def begin(self, request: UploadRequest) -> _Upload:
        self._check_xsrf(request)
        _check_ids(request)
        if not await self._sessions.is_active(request.session_id):
            raise BadRequest(INACTIVE_SESSION)
        if request.content_length is not None:
            try:
                declared = int(request.content_length.strip())
            except ValueError:
                raise BadRequest("Invalid Content-Length header") from None
            if declared < 0:
                raise BadRequest("Invalid Content-Length header")
            if declared > self._limits.max_bytes + FRAMING_MARGIN:
                raise PayloadTooLarge("File too large")
        parser = self._multipart.body(request.content_type, MULTIPART_LIMITS)
        writer = await self._store.writer(request.session_id, request.file_id)
        return _Upload(self, request, parser, writer)

    async def delete(self, request: UploadRequest) -> None:
        self._check_xsrf(request)
        _check_ids(request)
        await self._store.delete(request.session_id, request.file_id)

    def cors(self, origin: str | None, host: str | None) -> UploadCors:
        """With XSRF on, credentials are needed: allow the caller's origin when the
        origin policy trusts it (Streamlit pins it to `browser.serverAddress` instead,
        which breaks behind proxies, #10049); with XSRF off, the standard CORS answer."""
        if not self._limits.xsrf:
            return UploadCors(self._policy.cors_allow_origin(origin), credentials=False)
        trusted = origin is not None and self._policy.websocket_origin_allowed(origin, host)
        return UploadCors(origin if trusted else None, credentials=True)

    def session_ended(self, session_id: str) -> bool:
        """Whether the session ended while one of its uploads was still streaming."""
        return self._files is not None and self._files.has_ended(session_id)

    def _check_xsrf(self, request: UploadRequest) -> None:
        cookies = cookie_values(request.cookie_header, XSRF_COOKIE)
        if self._limits.xsrf and not tokens_match(request.xsrf_header, cookies):
            raise Forbidden("XSRF token missing or invalid")


def _check_ids(request: UploadRequest) -> None:
    if not (is_session_id(request.session_id) and is_session_id(request.file_id)):
        raise BadRequest("Invalid upload path")


class _Upload:
    """One upload in progress (`UploadSink`): parser → size accounting → store writer."""

    def __init__(
        self,
        service: UploadService,
        request: UploadRequest,
        parser: MultipartBody,
        writer: UploadWriter,
    ) -> None:
        self._service = service
        self._request = request
        self._parser = parser
        self._writer = writer
        self._limit = service._limits.max_bytes
        self._body_bytes = 0
        self._file: PartStart | None = None
        self._in_field = False
        """Inside a form field's part: its bytes are dropped, not stored."""
        self._file_bytes = 0
        self._files = 0
        self._finished = False

    async def feed(self, chunk: bytes) -> None:
        try:
            self._body_bytes += len(chunk)
            if self._body_bytes > self._limit + FRAMING_MARGIN:
                raise PayloadTooLarge("File too large")
            for event in self._parser.feed(chunk):
                await self._handle(event)
        except BaseException:
            await self.abort()
            raise

    async def _handle(self, event: PartStart | PartData | PartEnd) -> None:
        if isinstance(event, PartStart):
            self._in_field = not event.is_file
            if self._in_field:
                return
            self._files += 1
            if self._files > 1:
                raise BadRequest("Expected 1 file, but got more")
            self._file = event
        elif isinstance(event, PartData) and not self._in_field:
            self._file_bytes += len(event.data)
            if self._file_bytes > self._limit:
                raise PayloadTooLarge("File too large")
            await self._writer.write(event.data)

    async def finish(self) -> None:
        try:
            self._parser.close()
            if self._file is None:
                raise BadRequest("Expected 1 file, but got 0")
            request = self._request
            if self._service.session_ended(request.session_id):
                raise BadRequest(INACTIVE_SESSION)
            await self._writer.commit(
                UploadedFile(
                    request.session_id,
                    request.file_id,
                    self._file.filename or "",
                    self._file.content_type or "application/octet-stream",
                    self._file_bytes,
                )
            )
            self._finished = True
        except BaseException:
            await self.abort()
            raise

    async def abort(self) -> None:
        if not self._finished:
            self._finished = True
            await self._writer.abort()
