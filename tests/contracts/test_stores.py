"""The `MediaStore` and `UploadStore` contracts, over every implementation."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from hexlit.adapters.storage.filesystem import FolderMediaStore, FolderUploadStore
from hexlit.adapters.storage.memory import MemoryMediaStore, MemoryUploadStore
from hexlit.ports.errors import NotFound
from hexlit.ports.media import MediaInfo, MediaKind, MediaStore
from hexlit.ports.uploads import UploadedFile, UploadStore

T = TypeVar("T")

MEDIA_STORES: dict[str, Callable[[Path], MediaStore]] = {
    "memory": lambda _: MemoryMediaStore(),
    "filesystem": FolderMediaStore,
}
UPLOAD_STORES: dict[str, Callable[[Path], UploadStore]] = {
    "memory": lambda _: MemoryUploadStore(),
    "filesystem": FolderUploadStore,
}
DATA = os.urandom(700_000)


def run(coroutine: Awaitable[T]) -> T:
    async def bounded() -> T:
        async with asyncio.timeout(30):
            return await coroutine

    return asyncio.run(bounded())


@pytest.fixture(params=sorted(MEDIA_STORES))
def media_store(request: pytest.FixtureRequest, tmp_path: Path) -> MediaStore:
    return MEDIA_STORES[request.param](tmp_path)


@pytest.fixture(params=sorted(UPLOAD_STORES))
def upload_store(request: pytest.FixtureRequest, tmp_path: Path) -> UploadStore:
    return UPLOAD_STORES[request.param](tmp_path)


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
