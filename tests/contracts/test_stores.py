"""The `MediaStore` and `UploadStore` contracts, over every implementation.

The Redis stores run against a real `redis-server` (one for the module, started when a
Redis case first runs), each test under its own key namespace. A test's `run` calls share
one event loop, the one its Redis client is created in and closed in.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hexlit.adapters.redis.connection import UNREACHABLE, connect
from hexlit.adapters.storage.filesystem import FolderMediaStore, FolderUploadStore
from hexlit.adapters.storage.memory import MemoryMediaStore, MemoryUploadStore
from hexlit.adapters.storage.redis import CHUNK, RedisMediaStore, RedisUploadStore
from hexlit.ports.errors import NotFound, StoreUnavailable
from hexlit.ports.media import MediaInfo, MediaKind, MediaStore
from hexlit.ports.uploads import UploadedFile, UploadStore
from tests.contracts.event_loop import namespace, run, shared_redis_url
from tests.support.redis import RedisServer, keys_under, redis_client, redis_server

pytestmark = pytest.mark.usefixtures("one_loop")


MEDIA_STORES: dict[str, Callable[[Path], MediaStore]] = {
    "memory": lambda _: MemoryMediaStore(),
    "filesystem": FolderMediaStore,
    "redis": lambda tmp_path: RedisMediaStore(connect(shared_redis_url()), namespace(tmp_path)),
}
UPLOAD_STORES: dict[str, Callable[[Path], UploadStore]] = {
    "memory": lambda _: MemoryUploadStore(),
    "filesystem": FolderUploadStore,
    "redis": lambda tmp_path: RedisUploadStore(connect(shared_redis_url()), namespace(tmp_path)),
}
DATA = os.urandom(700_000)


@pytest.fixture(params=sorted(MEDIA_STORES))
def media_store(
    request: pytest.FixtureRequest, tmp_path: Path, one_loop: None
) -> Iterator[MediaStore]:
    if request.param == "redis":
        request.getfixturevalue("shared_redis")
    store = MEDIA_STORES[request.param](tmp_path)
    yield store
    if isinstance(store, RedisMediaStore):
        run(store.close())


@pytest.fixture(params=sorted(UPLOAD_STORES))
def upload_store(
    request: pytest.FixtureRequest, tmp_path: Path, one_loop: None
) -> Iterator[UploadStore]:
    if request.param == "redis":
        request.getfixturevalue("shared_redis")
    store = UPLOAD_STORES[request.param](tmp_path)
    yield store
    if isinstance(store, RedisUploadStore):
        run(store.close())


async def read_all(store: MediaStore, media_id: str, start: int, end: int) -> bytes:
    return b"".join([chunk async for chunk in store.read(media_id, start, end)])


def test_media_round_trip_with_ranges(media_store: MediaStore) -> None:
    info = MediaInfo("a" * 32, len(DATA), "video/mp4", MediaKind.DOWNLOADABLE, "clip é.mp4")

    async def scenario() -> tuple[Any, bytes, bytes, bytes]:
        await media_store.put(info, DATA)
        await media_store.put(info, b"ignored: the same id is stored once")
        whole = await read_all(media_store, info.media_id, 0, len(DATA) - 1)
        middle = await read_all(media_store, info.media_id, 1000, 299_999)
        last = await read_all(media_store, info.media_id, len(DATA) - 1, len(DATA) - 1)
        return await media_store.info(info.media_id), whole, middle, last

    stored, whole, middle, last = run(scenario())
    assert stored == info
    assert whole == DATA
    assert middle == DATA[1000:300_000]
    assert last == DATA[-1:]


def test_media_reads_come_in_bounded_chunks(media_store: MediaStore) -> None:
    info = MediaInfo("b" * 32, len(DATA), "application/octet-stream", MediaKind.MEDIA)

    async def scenario() -> list[int]:
        await media_store.put(info, DATA)
        return [len(chunk) async for chunk in media_store.read(info.media_id, 0, len(DATA) - 1)]

    sizes = run(scenario())
    assert sum(sizes) == len(DATA)
    assert max(sizes) <= 1024 * 1024


def test_deleted_and_unknown_media(media_store: MediaStore) -> None:
    info = MediaInfo("c" * 32, 3, "text/plain", MediaKind.MEDIA)

    async def scenario() -> Any:
        await media_store.put(info, b"abc")
        await media_store.delete(info.media_id)
        await media_store.delete(info.media_id)
        return await media_store.info(info.media_id)

    assert run(scenario()) is None
    with pytest.raises(NotFound):
        run(read_all(media_store, "c" * 32, 0, 2))


def test_upload_commit_get_delete(upload_store: UploadStore) -> None:
    file = UploadedFile("s-1", "f-1", "ünï.bin", "application/x-test", len(DATA))

    async def scenario() -> tuple[Any, Any, Any]:
        writer = await upload_store.writer("s-1", "f-1")
        for start in range(0, len(DATA), 65536):
            await writer.write(DATA[start : start + 65536])
        before_commit = await upload_store.get("s-1", "f-1")
        await writer.commit(file)
        await writer.abort()  # after commit: no effect
        stored = await upload_store.get("s-1", "f-1")
        await upload_store.delete("s-1", "f-1")
        return before_commit, stored, await upload_store.get("s-1", "f-1")

    before_commit, stored, after_delete = run(scenario())
    assert before_commit is None
    assert stored == (file, DATA)
    assert after_delete is None


def test_an_aborted_upload_leaves_nothing(upload_store: UploadStore, tmp_path: Path) -> None:
    async def scenario() -> Any:
        writer = await upload_store.writer("s-1", "f-1")
        await writer.write(b"half of it")
        await writer.abort()
        await writer.abort()
        return await upload_store.get("s-1", "f-1")

    assert run(scenario()) is None
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    if isinstance(upload_store, RedisUploadStore):
        assert run(keys_under(shared_redis_url(), namespace(tmp_path))) == []


def test_files_are_per_session_and_go_with_it(upload_store: UploadStore) -> None:
    async def put(session: str, file_id: str, data: bytes) -> None:
        writer = await upload_store.writer(session, file_id)
        await writer.write(data)
        await writer.commit(UploadedFile(session, file_id, "n", "t", len(data)))

    async def scenario() -> tuple[Any, Any, Any]:
        await put("s-1", "f", b"one")
        await put("s-2", "f", b"two")
        await upload_store.delete_session("s-1")
        return (
            await upload_store.get("s-1", "f"),
            await upload_store.get("s-2", "f"),
            await upload_store.get("s-3", "f"),
        )

    gone, kept, never = run(scenario())
    assert gone is None
    assert kept is not None
    assert kept[1] == b"two"
    assert never is None


def test_folder_stores_sweep_what_dead_processes_left(tmp_path: Path) -> None:
    leftover = tmp_path / "uploads" / "999999999-deadbeef"
    leftover.mkdir(parents=True)
    (leftover / "x.part").write_bytes(b"from a crashed server")
    live = tmp_path / "uploads" / f"{os.getpid()}-cafecafe"
    live.mkdir()
    FolderUploadStore(tmp_path)
    assert not leftover.exists()
    assert live.exists()  # a running process's folder is never touched


# Redis only: chunk layout, replacement, leftovers, concurrency, an outage.

BIG = os.urandom(5_000_000)


async def commit_upload(
    store: UploadStore, session: str, file_id: str, data: bytes, piece: int = 65536
) -> UploadedFile:
    file = UploadedFile(session, file_id, "n.bin", "application/octet-stream", len(data))
    writer = await store.writer(session, file_id)
    for start in range(0, len(data), piece):
        await writer.write(data[start : start + piece])
    await writer.commit(file)
    return file


def test_redis_media_ranges_across_chunk_boundaries(
    shared_redis: RedisServer, tmp_path: Path
) -> None:
    url, ns, media_id = shared_redis.url, namespace(tmp_path), "d" * 32
    info = MediaInfo(media_id, len(BIG), "video/mp4", MediaKind.MEDIA)
    last = len(BIG) - 1
    ranges = [
        (0, last), (0, CHUNK - 1), (CHUNK - 1, CHUNK), (CHUNK - 10, 3 * CHUNK + 10),
        (2 * CHUNK, 2 * CHUNK), (4 * CHUNK, last), (last, last), (123, 4567),
    ]  # fmt: skip

    async def scenario() -> tuple[dict[tuple[int, int], list[bytes]], list[str], list[int]]:
        store = RedisMediaStore(connect(url), ns)
        try:
            await store.put(info, BIG)
            pieces = {
                (start, end): [chunk async for chunk in store.read(media_id, start, end)]
                for start, end in ranges
            }
            keys = await keys_under(url, ns)
            async with redis_client(url) as client:
                ttls = [await client.pttl(key) for key in keys]
            return pieces, keys, ttls
        finally:
            await store.close()

    pieces, keys, ttls = run(scenario())
    for (start, end), chunks in pieces.items():
        assert b"".join(chunks) == BIG[start : end + 1], (start, end)
        # Exactly the chunks covering the range, one slice each, never the whole blob.
        assert len(chunks) == end // CHUNK - start // CHUNK + 1, (start, end)
        assert max(len(chunk) for chunk in chunks) <= CHUNK
    assert keys == sorted(
        [f"{ns}:media:{media_id}:meta", *(f"{ns}:media:{media_id}:c:{n}" for n in range(5))]
    )
    assert all(0 < ttl <= 24 * 3600 * 1000 for ttl in ttls)  # the safety expiry


def test_redis_replacing_an_upload_by_a_shorter_one_leaves_no_stale_chunks(
    shared_redis: RedisServer, tmp_path: Path
) -> None:
    url, ns = shared_redis.url, namespace(tmp_path)
    long, short = os.urandom(3 * CHUNK + 5), b"short"

    async def scenario() -> tuple[Any, list[str], Any, list[str], list[str]]:
        store = RedisUploadStore(connect(url), ns)
        try:
            await commit_upload(store, "s-1", "f-1", long)
            await commit_upload(store, "s-1", "f-1", short, piece=2)
            replaced = await store.get("s-1", "f-1")
            keys_after_replace = await keys_under(url, ns)
            await commit_upload(store, "s-1", "f-2", long)
            second = await store.get("s-1", "f-2")
            keys_two_files = await keys_under(url, ns)
            await store.delete_session("s-1")
            return replaced, keys_after_replace, second, keys_two_files, await keys_under(url, ns)
        finally:
            await store.close()

    replaced, keys_after_replace, second, keys_two_files, keys_at_end = run(scenario())
    assert replaced is not None
    assert replaced[1] == short
    assert replaced[0].size == len(short)
    prefix = f"{ns}:upload:s-1"
    assert keys_after_replace == [f"{prefix}:f-1:c:0", f"{prefix}:f-1:meta", f"{prefix}:files"]
    assert second is not None
    assert second[1] == long
    assert len(keys_two_files) == 3 + 4 + 1  # f-1 (1 chunk + meta), f-2 (4 + meta), the set
    assert keys_at_end == []


def test_redis_an_aborted_upload_after_full_chunks_leaves_no_key(
    shared_redis: RedisServer, tmp_path: Path
) -> None:
    url, ns = shared_redis.url, namespace(tmp_path)

    async def scenario() -> tuple[list[str], list[str], Any]:
        store = RedisUploadStore(connect(url), ns)
        try:
            writer = await store.writer("s-1", "f-1")
            for _ in range(5):
                await writer.write(os.urandom(CHUNK // 2))
            while_writing = await keys_under(url, ns)
            await writer.abort()
            return while_writing, await keys_under(url, ns), await store.get("s-1", "f-1")
        finally:
            await store.close()

    while_writing, after_abort, found = run(scenario())
    assert len(while_writing) == 2
    assert all(key.startswith(f"{ns}:upload:tmp:") for key in while_writing)
    assert after_abort == []
    assert found is None


def test_redis_concurrent_commits_leave_one_whole_file(
    shared_redis: RedisServer, tmp_path: Path
) -> None:
    url, ns = shared_redis.url, namespace(tmp_path)
    first, second = os.urandom(2 * CHUNK + 1), os.urandom(CHUNK // 3)

    async def scenario() -> tuple[Any, list[str]]:
        store = RedisUploadStore(connect(url), ns)
        try:
            await asyncio.gather(
                commit_upload(store, "s-1", "f-1", first, piece=CHUNK // 4),
                commit_upload(store, "s-1", "f-1", second, piece=CHUNK // 4),
            )
            return await store.get("s-1", "f-1"), await keys_under(url, ns)
        finally:
            await store.close()

    found, keys = run(scenario())
    assert found is not None
    assert found[1] in (first, second)
    assert found[0].size == len(found[1])
    chunks = [key for key in keys if ":c:" in key]
    assert len(chunks) == (len(found[1]) + CHUNK - 1) // CHUNK


def test_redis_outage_raises_store_unavailable_then_the_same_stores_recover(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ns = namespace(tmp_path)
    info = MediaInfo("e" * 32, 6, "text/plain", MediaKind.MEDIA, "secret-name.txt")
    later = MediaInfo("f" * 32, 5, "text/plain", MediaKind.MEDIA)
    with redis_server() as server:
        media = RedisMediaStore(connect(server.url), ns)
        uploads = RedisUploadStore(connect(server.url), ns)
        try:

            async def before() -> Any:
                await media.put(info, b"before")
                await commit_upload(uploads, "s-secret", "f-1", b"uploaded")
                pending = await uploads.writer("s-secret", "f-2")
                await pending.write(b"x")
                return pending

            pending = run(before())
            server.stop()
            caplog.clear()
            outage: dict[str, Callable[[], Awaitable[Any]]] = {
                "media put": lambda: media.put(later, b"later"),
                "media info": lambda: media.info(info.media_id),
                "media read": lambda: read_all(media, info.media_id, 0, 5),
                "media delete": lambda: media.delete(info.media_id),
                "upload commit": lambda: pending.commit(
                    UploadedFile("s-secret", "f-2", "n", "t", 1)
                ),
                "upload write": lambda: commit_upload(uploads, "s-secret", "f-3", BIG[:CHUNK]),
                "upload get": lambda: uploads.get("s-secret", "f-1"),
                "upload delete": lambda: uploads.delete("s-secret", "f-1"),
                "upload delete_session": lambda: uploads.delete_session("s-secret"),
            }
            for name, operation in outage.items():
                started = time.monotonic()
                with pytest.raises(StoreUnavailable) as raised:
                    run(operation())
                assert time.monotonic() - started < 3, name
                assert raised.value.reason == UNREACHABLE
            run(pending.abort())  # best effort: never raises, the expiry cleans up

            warnings = [record for record in caplog.records if record.name.startswith("hexlit.")]
            assert [record.levelno for record in warnings] == [logging.WARNING] * len(outage)
            for record, name in zip(warnings, outage, strict=True):
                message = record.getMessage()
                assert name in message
                assert "ConnectionError" in message
                assert "secret" not in message

            server.start()  # same port, empty (no persistence)

            async def after() -> tuple[Any, bytes, Any, Any]:
                await media.put(later, b"later")
                stored = await media.info(later.media_id)
                read = await read_all(media, later.media_id, 1, 3)
                await commit_upload(uploads, "s-1", "f-1", b"again")
                return stored, read, await uploads.get("s-1", "f-1"), await media.info("e" * 32)

            stored, read, uploaded, lost = run(after())
            assert stored == later
            assert read == b"ate"
            assert uploaded is not None
            assert uploaded[1] == b"again"
            assert lost is None  # what Redis held went with its restart
        finally:
            run(media.close())
            run(uploads.close())
