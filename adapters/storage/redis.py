"""Stores in Redis: media and uploaded files shared by every replica of the server.

Key layout (`ns` is the namespace given to the store, "hexlit" by default; an id made of
`[A-Za-z0-9._-]` is used as is, any other id, and the reserved word "tmp", as `~<hex>`):

    {ns}:media:{media_id}:meta           hash: size, chunks, content_type, kind, filename
    {ns}:media:{media_id}:c:{n}          chunk n of the bytes (CHUNK bytes, the last shorter)
    {ns}:upload:tmp:{token}:c:{n}        chunk n of an upload being written (not visible)
    {ns}:upload:{sid}:{fid}:meta         hash: name, content_type, size, chunks, version
    {ns}:upload:{sid}:{fid}:c:{n}        chunk n of a committed upload
    {ns}:upload:{sid}:files              set of the session's file ids

Lifecycle. Explicit deletes drive it, exactly as with the memory stores: the core deletes
media the runtime no longer references and a session's files when the session ends.
Every key also carries a safety expiry, so what a crashed replica leaves behind goes away
by itself: media `ttl` (24 h; storing the same media again, which the core does on every
rerun that shows it, renews it), committed uploads `ttl` (24 h from their commit) and
upload chunks still being written `TMP_TTL` (1 h). A media file or an upload not touched
for longer than its expiry is gone, as if deleted.

Visibility. A media file appears at once (chunks and metadata in one MULTI/EXEC); an
upload is written to temporary keys and made visible by one MULTI/EXEC that renames its
chunks into place and removes what a longer earlier file under the same ids left. Writes
that must not interleave WATCH the metadata key and retry on conflict.

Failures. Every Redis error becomes `StoreUnavailable`, its reason logged once
(`hexlit.adapters.redis.connection.shared_store`, shared with the session directory).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncGenerator
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import WatchError
from redis.typing import EncodableT, FieldT

from hexlit.adapters.redis.connection import UNREACHABLE, key_part, milliseconds, shared_store
from hexlit.ports.errors import NotFound, StoreUnavailable
from hexlit.ports.media import MediaInfo, MediaKind
from hexlit.ports.uploads import UploadedFile

CHUNK: Final = 1024 * 1024
"""Bytes per chunk key; a read fetches only the chunks (and parts of them) it covers."""
MEDIA_TTL: Final = 24 * 3600.0
UPLOAD_TTL: Final = 24 * 3600.0
TMP_TTL: Final = 3600.0
"""Seconds an upload's chunks wait for their commit (or abort) before Redis drops them."""
WATCH_ATTEMPTS: Final = 8
"""Optimistic transactions retried at most this often when another writer interferes."""

log = logging.getLogger(__name__)


def _text(value: str) -> bytes:
    return value.encode("utf-8", "surrogatepass")


def _str(value: bytes | str) -> str:
    return value if isinstance(value, str) else value.decode("utf-8", "surrogatepass")


def _bytes(value: bytes | str) -> bytes:
    if isinstance(value, str):
        raise TypeError("the Redis client must answer bytes (decode_responses=False)")
    return value


class RedisMediaStore:
    """Implements `MediaStore` with chunked values and a metadata hash per media id."""

    def __init__(self, client: Redis, namespace: str = "hexlit", *, ttl: float = MEDIA_TTL):
        self._client = client
        self._prefix = f"{namespace}:media:"
        self._ttl = milliseconds(ttl)

    def _meta(self, media_id: str) -> str:
        return f"{self._prefix}{key_part(media_id)}:meta"

    def _chunk(self, media_id: str, n: int) -> str:
        return f"{self._prefix}{key_part(media_id)}:c:{n}"

    async def put(self, info: MediaInfo, data: bytes) -> None:
        meta = self._meta(info.media_id)
        view = memoryview(data)
        with shared_store("media put"):
            for _ in range(WATCH_ATTEMPTS - 1):
                with contextlib.suppress(WatchError):
                    await self._put_once(info, meta, view)
                    return
            await self._put_once(info, meta, view)

    async def _put_once(self, info: MediaInfo, meta: str, view: memoryview) -> None:
        async with self._client.pipeline(transaction=True) as pipe:
            await pipe.watch(meta)
            stored = await pipe.hget(meta, "chunks")
            pipe.multi()
            if stored is not None:
                # The same id again: a no-op but for renewing the safety expiry.
                pipe.pexpire(meta, self._ttl)
                for n in range(int(stored)):
                    pipe.pexpire(self._chunk(info.media_id, n), self._ttl)
            else:
                count = 0
                for count, offset in enumerate(range(0, len(view), CHUNK), start=1):
                    piece = view[offset : offset + CHUNK]
                    pipe.set(self._chunk(info.media_id, count - 1), piece, px=self._ttl)
                fields: dict[FieldT, EncodableT] = {
                    "size": len(view),
                    "chunks": count,
                    "content_type": _text(info.content_type),
                    "kind": _text(info.kind.value),
                }
                if info.filename is not None:
                    fields["filename"] = _text(info.filename)
                pipe.hset(meta, mapping=fields)
                pipe.pexpire(meta, self._ttl)
            await pipe.execute()

    async def info(self, media_id: str) -> MediaInfo | None:
        with shared_store("media info"):
            fields = await self._client.hgetall(self._meta(media_id))
        if not fields:
            return None
        filename = fields.get(b"filename")
        return MediaInfo(
            media_id,
            int(fields[b"size"]),
            _str(fields[b"content_type"]),
            MediaKind(_str(fields[b"kind"])),
            None if filename is None else _str(filename),
        )

    async def read(self, media_id: str, start: int, end: int) -> AsyncGenerator[bytes, None]:
        with shared_store("media read"):
            size = await self._client.hget(self._meta(media_id), "size")
        if size is None:
            raise NotFound("File not found")
        end = min(end, int(size) - 1)
        position = start
        while position <= end:
            n, offset = divmod(position, CHUNK)
            last = min(end - n * CHUNK, CHUNK - 1)
            with shared_store("media read"):
                piece = _bytes(await self._client.getrange(self._chunk(media_id, n), offset, last))
            if len(piece) != last - offset + 1:
                raise NotFound("File not found")  # deleted (or expired) while being read
            yield piece
            position += len(piece)

    async def delete(self, media_id: str) -> None:
        meta = self._meta(media_id)
        with shared_store("media delete"):
            for _ in range(WATCH_ATTEMPTS - 1):
                with contextlib.suppress(WatchError):
                    await self._delete_once(media_id, meta)
                    return
            await self._delete_once(media_id, meta)

    async def _delete_once(self, media_id: str, meta: str) -> None:
        async with self._client.pipeline(transaction=True) as pipe:
            await pipe.watch(meta)
            stored = await pipe.hget(meta, "chunks")
            if stored is None:
                return
            pipe.multi()
            pipe.delete(meta, *(self._chunk(media_id, n) for n in range(int(stored))))
            await pipe.execute()

    async def close(self) -> None:
        """Close the client (its connections); the store is not used afterwards."""
        await self._client.aclose()


class _RedisWriter:
    """An upload being written: full chunks go to temporary keys as they fill up."""

    def __init__(self, store: RedisUploadStore, session_id: str, file_id: str) -> None:
        self._store = store
        self._session_id = session_id
        self._file_id = file_id
        self._tmp = f"{store._prefix}tmp:{secrets.token_hex(16)}:c:"
        self._version = self._tmp
        self._buffer = bytearray()
        self._chunks = 0
        self._done = False

    async def write(self, chunk: bytes) -> None:
        if self._done:
            raise RuntimeError("the upload is already committed or aborted")
        self._buffer += chunk
        while len(self._buffer) >= CHUNK:
            await self._flush(CHUNK, "upload write")

    async def _flush(self, size: int, operation: str) -> None:
        piece = bytes(self._buffer[:size])
        with shared_store(operation):
            await self._store._client.set(
                f"{self._tmp}{self._chunks}", piece, px=milliseconds(TMP_TTL)
            )
        del self._buffer[:size]
        self._chunks += 1

    async def commit(self, file: UploadedFile) -> None:
        if self._done:
            raise RuntimeError("the upload is already committed or aborted")
        if self._buffer:
            await self._flush(len(self._buffer), "upload commit")
        with shared_store("upload commit"):
            for _ in range(WATCH_ATTEMPTS - 1):
                with contextlib.suppress(WatchError):
                    await self._commit_once(file)
                    break
            else:
                await self._commit_once(file)
        self._done = True
        self._buffer = bytearray()

    async def _commit_once(self, file: UploadedFile) -> None:
        store = self._store
        meta = store._meta(self._session_id, self._file_id)
        temporary = [f"{self._tmp}{n}" for n in range(self._chunks)]
        async with store._client.pipeline(transaction=True) as pipe:
            await pipe.watch(meta, *temporary)
            old = await pipe.hmget(meta, ["chunks", "version"])
            if temporary and await pipe.exists(*temporary) != len(temporary):
                if old[1] == self._version.encode():
                    return  # an EXEC whose answer was lost on a broken connection
                self._done = True
                await self._discard()
                log.warning("%s: an upload expired before its commit", UNREACHABLE)
                raise StoreUnavailable(UNREACHABLE)
            pipe.multi()
            stale = [store._chunk(self._session_id, self._file_id, n)
                     for n in range(self._chunks, int(old[0] or 0))]  # fmt: skip
            pipe.delete(meta, *stale)
            for n, source in enumerate(temporary):
                target = store._chunk(self._session_id, self._file_id, n)
                pipe.rename(source, target)
                pipe.pexpire(target, store._ttl)
            fields: dict[FieldT, EncodableT] = {
                "name": _text(file.name),
                "content_type": _text(file.content_type),
                "size": file.size,
                "chunks": self._chunks,
                "version": self._version.encode(),
            }
            pipe.hset(meta, mapping=fields)
            pipe.pexpire(meta, store._ttl)
            files = store._files(self._session_id)
            pipe.sadd(files, _text(self._file_id))
            pipe.pexpire(files, store._ttl)
            await pipe.execute()

    async def abort(self) -> None:
        """Best effort: when Redis is unreachable, the chunks go with their expiry."""
        if self._done:
            return
        self._done = True
        self._buffer = bytearray()
        with contextlib.suppress(StoreUnavailable):
            await self._discard()

    async def _discard(self) -> None:
        if self._chunks:
            with shared_store("upload abort"):
                await self._store._client.delete(*(f"{self._tmp}{n}" for n in range(self._chunks)))


class RedisUploadStore:
    """Implements `UploadStore`: chunked files, a metadata hash each, a set per session."""

    def __init__(self, client: Redis, namespace: str = "hexlit", *, ttl: float = UPLOAD_TTL):
        self._client = client
        self._prefix = f"{namespace}:upload:"
        self._ttl = milliseconds(ttl)

    def _meta(self, session_id: str, file_id: str) -> str:
        return f"{self._prefix}{key_part(session_id)}:{key_part(file_id)}:meta"

    def _chunk(self, session_id: str, file_id: str, n: int) -> str:
        return f"{self._prefix}{key_part(session_id)}:{key_part(file_id)}:c:{n}"

    def _files(self, session_id: str) -> str:
        return f"{self._prefix}{key_part(session_id)}:files"

    async def writer(self, session_id: str, file_id: str) -> _RedisWriter:
        return _RedisWriter(self, session_id, file_id)

    async def get(self, session_id: str, file_id: str) -> tuple[UploadedFile, bytes] | None:
        meta = self._meta(session_id, file_id)
        with shared_store("upload get"):
            for _ in range(WATCH_ATTEMPTS):
                fields = await self._client.hgetall(meta)
                if not fields:
                    return None
                # The chunks and the version again, in one transaction: a commit that
                # replaced the file in between shows as a new version, and we read again.
                async with self._client.pipeline(transaction=True) as pipe:
                    pipe.hget(meta, "version")
                    for n in range(int(fields[b"chunks"])):
                        pipe.get(self._chunk(session_id, file_id, n))
                    version, *chunks = await pipe.execute()
                if version != fields[b"version"]:
                    continue
                if any(chunk is None for chunk in chunks):
                    return None  # expired in between
                file = UploadedFile(
                    session_id,
                    file_id,
                    _str(fields[b"name"]),
                    _str(fields[b"content_type"]),
                    int(fields[b"size"]),
                )
                return file, b"".join(chunks)
            raise WatchError("the file kept changing while being read")

    async def delete(self, session_id: str, file_id: str) -> None:
        with shared_store("upload delete"):
            for _ in range(WATCH_ATTEMPTS - 1):
                with contextlib.suppress(WatchError):
                    await self._delete_once(session_id, [file_id], whole_session=False)
                    return
            await self._delete_once(session_id, [file_id], whole_session=False)

    async def delete_session(self, session_id: str) -> None:
        with shared_store("upload delete_session"):
            for _ in range(WATCH_ATTEMPTS - 1):
                with contextlib.suppress(WatchError):
                    await self._delete_once(session_id, None, whole_session=True)
                    return
            await self._delete_once(session_id, None, whole_session=True)

    async def _delete_once(
        self, session_id: str, file_ids: list[str] | None, *, whole_session: bool
    ) -> None:
        files = self._files(session_id)
        async with self._client.pipeline(transaction=True) as pipe:
            if file_ids is None:
                await pipe.watch(files)
                file_ids = sorted(_str(member) for member in await pipe.smembers(files))
            metas = [self._meta(session_id, file_id) for file_id in file_ids]
            if metas:
                await pipe.watch(*metas)
            doomed: list[str] = [*metas]
            for file_id, meta in zip(file_ids, metas, strict=True):
                stored = await pipe.hget(meta, "chunks")
                doomed += [self._chunk(session_id, file_id, n) for n in range(int(stored or 0))]
            pipe.multi()
            if whole_session:
                doomed.append(files)
            elif file_ids:
                pipe.srem(files, *(_text(file_id) for file_id in file_ids))
            if doomed:
                pipe.delete(*doomed)
            await pipe.execute()

    async def close(self) -> None:
        """Close the client (its connections); the store is not used afterwards."""
        await self._client.aclose()
