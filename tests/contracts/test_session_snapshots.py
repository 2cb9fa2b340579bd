"""The `SessionSnapshots` contract, over the memory, folder and Redis stores.

Each case gets two handles on one store: `here` and `there`, two replicas (the same
object for memory, two `FolderSnapshots` on one folder, two Redis clients on one
namespace of a real `redis-server`). All of a test's calls run in one event loop, the
one its Redis clients are created and closed in.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hexlit.adapters.redis.connection import UNREACHABLE, connect
from hexlit.adapters.snapshots.filesystem import FolderSnapshots
from hexlit.adapters.snapshots.memory import MemorySnapshots
from hexlit.adapters.snapshots.redis import RedisSnapshots
from hexlit.ports.errors import StoreUnavailable
from hexlit.ports.snapshots import SealedSnapshot, SessionSnapshots
from tests.contracts.event_loop import namespace, run, shared_redis_url
from tests.support.redis import RedisServer, keys_under, redis_server

pytestmark = pytest.mark.usefixtures("one_loop")


@dataclass
class Replicas:
    here: SessionSnapshots
    there: SessionSnapshots


def _memory(_: Path) -> Replicas:
    store = MemorySnapshots()
    return Replicas(store, store)


def _folder(tmp_path: Path) -> Replicas:
    return Replicas(FolderSnapshots(tmp_path / "snaps"), FolderSnapshots(tmp_path / "snaps"))


def _redis(tmp_path: Path) -> Replicas:
    url, ns = shared_redis_url(), namespace(tmp_path)
    return Replicas(RedisSnapshots(connect(url), ns), RedisSnapshots(connect(url), ns))


STORES: dict[str, Callable[[Path], Replicas]] = {
    "memory": _memory,
    "filesystem": _folder,
    "redis": _redis,
}


@pytest.fixture(params=sorted(STORES))
def replicas(request: pytest.FixtureRequest, tmp_path: Path, one_loop: None) -> Iterator[Replicas]:
    if request.param == "redis":
        request.getfixturevalue("shared_redis")
    made = STORES[request.param](tmp_path)
    yield made
    for store in (made.here, made.there):
        if isinstance(store, RedisSnapshots):
            run(store.close())


def sealed(generation: int, data: bytes = b"", session_id: str = "s-1") -> SealedSnapshot:
    return SealedSnapshot(session_id, generation, data or f"state {generation}".encode())


def test_a_saved_snapshot_loads_on_every_replica(replicas: Replicas) -> None:
    big = os.urandom(1024 * 1024)

    async def scenario() -> tuple[bool, SealedSnapshot | None, SealedSnapshot | None]:
        saved = await replicas.here.save(sealed(1, big))
        return saved, await replicas.there.load("s-1"), await replicas.there.load("s-2")

    saved, loaded, unknown = run(scenario())
    assert saved
    assert loaded == sealed(1, big)
    assert unknown is None


def test_only_a_newer_generation_replaces_a_snapshot(replicas: Replicas) -> None:
    async def scenario() -> tuple[list[bool], SealedSnapshot | None]:
        answers = [
            await replicas.here.save(sealed(1)),
            await replicas.there.save(sealed(3)),
            await replicas.here.save(sealed(2)),  # a stale owner wakes up
            await replicas.here.save(sealed(3, b"same generation, other bytes")),
            await replicas.there.save(sealed(4)),
        ]
        return answers, await replicas.here.load("s-1")

    answers, stored = run(scenario())
    assert answers == [True, True, False, False, True]
    assert stored == sealed(4)


def test_of_racing_saves_of_one_generation_exactly_one_wins(replicas: Replicas) -> None:
    async def scenario() -> tuple[list[bool], SealedSnapshot | None]:
        attempts = [
            (replicas.here if n % 2 else replicas.there).save(sealed(7, f"writer {n}".encode()))
            for n in range(12)
        ]
        return list(await asyncio.gather(*attempts)), await replicas.here.load("s-1")

    answers, stored = run(scenario())
    assert answers.count(True) == 1
    assert stored is not None
    assert stored.data == f"writer {answers.index(True)}".encode()


def test_a_built_snapshot_is_saved_with_the_same_fencing(replicas: Replicas) -> None:
    """`save_built` runs the build off the event loop, then keeps its result as `save`
    does; a build that yields nothing saves nothing."""
    loop_thread = threading.get_ident()
    build_threads: list[int] = []

    def build(generation: int) -> Callable[[], SealedSnapshot | None]:
        def built() -> SealedSnapshot | None:
            build_threads.append(threading.get_ident())
            return sealed(generation, f"built {generation}".encode()) if generation else None

        return built

    async def scenario() -> tuple[list[bool | None], SealedSnapshot | None]:
        answers = [
            await replicas.here.save_built(build(2)),
            await replicas.there.save_built(build(0)),
            await replicas.there.save_built(build(2)),  # a stale owner: same generation
            await replicas.there.save_built(build(3)),
        ]
        return answers, await replicas.here.load("s-1")

    answers, stored = run(scenario())
    assert answers == [True, None, False, True]
    assert stored == sealed(3, b"built 3")
    assert len(build_threads) == 4
    assert loop_thread not in build_threads


def test_delete_spares_a_newer_owner_s_snapshot(replicas: Replicas) -> None:
    async def scenario() -> tuple[SealedSnapshot | None, SealedSnapshot | None, bool]:
        await replicas.here.save(sealed(5))
        await replicas.there.delete("s-1", 4)  # an owner that was taken over at 4
        kept = await replicas.here.load("s-1")
        await replicas.there.delete("s-1", 5)
        gone = await replicas.here.load("s-1")
        await replicas.there.delete("s-1", 9)  # nothing there: a no-op
        return kept, gone, await replicas.here.save(sealed(1))

    kept, gone, saved_again = run(scenario())
    assert kept == sealed(5)
    assert gone is None
    assert saved_again


def test_any_session_id_is_its_own_key(replicas: Replicas) -> None:
    ids = ["a", "weird id:é/1", "tmp", "../../etc/passwd", "x" * 64]

    async def scenario() -> list[SealedSnapshot | None]:
        for n, session_id in enumerate(ids, start=1):
            await replicas.here.save(sealed(n, session_id=session_id))
        return [await replicas.there.load(session_id) for session_id in ids]

    loaded = run(scenario())
    assert loaded == [sealed(n, session_id=s) for n, s in enumerate(ids, start=1)]


def test_folder_snapshots_survive_a_new_store_on_the_same_folder(tmp_path: Path) -> None:
    async def scenario() -> SealedSnapshot | None:
        await FolderSnapshots(tmp_path).save(sealed(2))
        return await FolderSnapshots(tmp_path).load("s-1")

    assert run(scenario()) == sealed(2)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [b"s-1".hex() + ".snap"]


def test_folder_snapshots_replaced_in_turn_leave_only_the_newest(tmp_path: Path) -> None:
    """Each save swaps the new file in and removes the previous one (or renames over it
    where the system cannot swap): one file per session, always the newest generation."""
    here, there = FolderSnapshots(tmp_path), FolderSnapshots(tmp_path)

    async def scenario() -> list[SealedSnapshot | None]:
        loaded = []
        for generation in range(1, 6):
            store = here if generation % 2 else there
            await store.save(sealed(generation, f"state {generation} ".encode() * generation))
            loaded.append(await there.load("s-1"))
        return loaded

    loaded = run(scenario())
    assert loaded == [sealed(g, f"state {g} ".encode() * g) for g in range(1, 6)]
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [b"s-1".hex() + ".snap"]


def test_redis_keys_live_under_the_namespace_with_an_expiry(
    shared_redis: RedisServer, tmp_path: Path
) -> None:
    ns = namespace(tmp_path)

    async def scenario() -> tuple[list[str], int]:
        store = RedisSnapshots(connect(shared_redis.url), ns, ttl=60)
        try:
            await store.save(sealed(1))
            ttl: int = await store._client.pttl(f"{ns}:snapshot:s-1")
        finally:
            await store.close()
        return await keys_under(shared_redis.url, ns), ttl

    keys, ttl = run(scenario())
    assert keys == [f"{ns}:snapshot:s-1"]
    assert 0 < ttl <= 60_000


def test_redis_down_is_store_unavailable(tmp_path: Path) -> None:
    with redis_server() as server:
        url = server.url
        server.stop()

        async def scenario() -> list[str]:
            store = RedisSnapshots(connect(url), "down")
            reasons = []
            try:
                for call in (store.save(sealed(1)), store.load("s-1"), store.delete("s-1", 1)):
                    try:
                        await call
                    except StoreUnavailable as error:
                        reasons.append(error.reason)
            finally:
                await store.close()
            return reasons

        assert run(scenario()) == [UNREACHABLE] * 3
