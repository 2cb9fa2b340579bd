"""What the workers of one host share through folders: the stores' folder, which one
worker's stop must not remove, and the session directory (any worker answers for all).
Also `hexlit.workers` itself."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

import pytest

from hexlit.adapters.sessions.sqlite_directory import SqliteSessionDirectory
from hexlit.adapters.storage.filesystem import FolderMediaStore, FolderUploadStore, process_folder
from hexlit.composition.settings import ConfigError, load_config
from hexlit.composition.workers import shared_store_kind, worker_count
from hexlit.ports.errors import StoreUnavailable
from hexlit.ports.media import MediaInfo, MediaKind
from hexlit.ports.uploads import UploadedFile

NOWHERE = Path("/nonexistent-hexlit-test-home")


def test_one_worker_stopping_leaves_its_siblings_files(tmp_path: Path) -> None:
    media_folder = process_folder(tmp_path / "media")  # the supervisor's
    uploads_folder = process_folder(tmp_path / "uploads")
    info = MediaInfo("m" * 32, 3, "text/plain", MediaKind.MEDIA)
    file = UploadedFile("s-1", "f-1", "a.txt", "text/plain", 3)

    async def scenario() -> tuple[MediaInfo | None, object]:
        media = [FolderMediaStore(tmp_path, shared_folder=media_folder) for _ in range(2)]
        uploads = [FolderUploadStore(tmp_path, shared_folder=uploads_folder) for _ in range(2)]
        await media[0].put(info, b"abc")
        writer = await uploads[0].writer("s-1", "f-1")
        await writer.write(b"xyz")
        await writer.commit(file)
        media[0].close()  # one worker stops
        uploads[0].close()
        return await media[1].info(info.media_id), await uploads[1].get("s-1", "f-1")

    seen_media, seen_upload = asyncio.run(scenario())
    assert seen_media == info
    assert seen_upload == (file, b"xyz")


def test_the_session_directory_answers_for_every_worker(tmp_path: Path) -> None:
    one = SqliteSessionDirectory(tmp_path / "d.sqlite3", owner="1")
    two = SqliteSessionDirectory(tmp_path / "d.sqlite3", owner="2")

    async def scenario() -> list[bool]:
        seen = [await two.is_active("s-1")]
        await one.attached("s-1")
        seen.append(await two.is_active("s-1"))
        await two.attached("s-1")  # the session moved to worker two
        await one.detached("s-1")  # worker one's late goodbye leaves it be
        seen.append(await one.is_active("s-1"))
        await two.detached("s-1")
        seen.append(await one.is_active("s-1"))
        return seen

    assert asyncio.run(scenario()) == [False, True, True, False]


def test_a_session_no_worker_refreshes_drops_out_after_the_ttl(tmp_path: Path) -> None:
    directory = SqliteSessionDirectory(tmp_path / "d.sqlite3", ttl=60, owner="1")

    async def scenario() -> list[bool]:
        await directory.attached("kept")
        await directory.attached("stale")
        with sqlite3.connect(tmp_path / "d.sqlite3") as db:  # both last renewed 61 s ago
            db.execute("UPDATE live SET renewed = renewed - 61")
        await directory.refresh(["kept", "back"])  # "back" was lost: it comes back
        return [await directory.is_active(name) for name in ("kept", "stale", "back")]

    assert asyncio.run(scenario()) == [True, False, True]


def test_a_refresh_keeps_the_owner_a_sibling_took_over(tmp_path: Path) -> None:
    one = SqliteSessionDirectory(tmp_path / "d.sqlite3", owner="1")
    two = SqliteSessionDirectory(tmp_path / "d.sqlite3", owner="2")

    async def scenario() -> bool:
        await one.attached("s-1")
        await two.attached("s-1")
        await one.refresh(["s-1"])  # worker one has not heard yet
        await one.detached("s-1")
        return await two.is_active("s-1")

    assert asyncio.run(scenario()) is True


def test_an_unreadable_directory_is_a_store_outage(tmp_path: Path) -> None:
    directory = SqliteSessionDirectory(tmp_path / "d.sqlite3", owner="1")
    directory.close()
    with pytest.raises(StoreUnavailable, match="session lookup failed"):
        asyncio.run(directory.is_active("s-1"))


@pytest.mark.parametrize(
    ("given", "count"),
    [(1, 1), ("3", 3), (4, 4), ("auto", len(os.sched_getaffinity(0)))],
)
def test_workers_is_a_number_or_auto(given: object, count: int) -> None:
    loaded = load_config(environ={}, cwd=NOWHERE, home=NOWHERE, overrides={"hexlit.workers": given})
    assert worker_count(loaded["hexlit.workers"]) == count


def test_workers_from_the_environment() -> None:
    loaded = load_config(environ={"HEXLIT_WORKERS": "auto"}, cwd=NOWHERE, home=NOWHERE)
    assert loaded["hexlit.workers"] == "auto"


@pytest.mark.parametrize("given", [0, "0", "many", 2.5])
def test_other_worker_counts_are_refused(given: object) -> None:
    def count() -> int:
        overrides = {"hexlit.workers": given}
        loaded = load_config(environ={}, cwd=NOWHERE, home=NOWHERE, overrides=overrides)
        return worker_count(loaded["hexlit.workers"])

    with pytest.raises(ConfigError, match=r"hexlit\.workers"):
        count()


def test_workers_share_the_filesystem_store_unless_memory_was_chosen() -> None:
    default = load_config(environ={}, cwd=NOWHERE, home=NOWHERE)
    assert shared_store_kind(default, 2) == "filesystem"
    redis = load_config(environ={}, cwd=NOWHERE, home=NOWHERE, overrides={"hexlit.store": "redis"})
    assert shared_store_kind(redis, 2) == "redis"
    memory = load_config(
        environ={}, cwd=NOWHERE, home=NOWHERE, overrides={"hexlit.store": "memory"}
    )
    with pytest.raises(ConfigError, match="cannot be shared by 2 workers"):
        shared_store_kind(memory, 2)
