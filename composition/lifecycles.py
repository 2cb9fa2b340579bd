"""What holds something open, as dependency-injector resources (ADR 0022).

Each function here is a context manager the container wraps in a `providers.Resource`:
it builds one thing, yields it, and releases it when the container's
`shutdown_resources()` runs. The store functions are chosen by a `Selector` keyed by
`hexlit.store` inside the resource, so only the chosen store is ever built.

- The stores (media, uploads, the shared session directory, the snapshots) and the
  identity provider are plain (synchronous) resources: the web app is built before any
  event loop runs (`create_asgi_app`), so they are built, and hold their folder, on
  first use. A folder store removes its folder at the end; the SQLite directory closes.
- The session core and the Redis connections are released by awaiting (`stop()`,
  `aclose()`): asynchronous resources, which dependency-injector would make every
  dependent provider asynchronous for. So they are resources over objects the graph
  already holds (`sessions`, `redis_client`), and nothing depends on them.
- The session core names what it uses, so `shutdown_resources` stops it first and
  releases the stores and the Redis connections after.

`ResourcesLifecycle` is the `Lifecycle` the web stacks call at start and stop: `hexlit
run`, the tests' server and an embedded app all start and release through it. A release
that fails is logged and the others still run (`releasing`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path
from typing import Any, Final, Protocol

from hexlit.domain.session_service import SessionService
from hexlit.ports.identity import IdentityProvider
from hexlit.ports.media import MediaStore
from hexlit.ports.sessions import SessionDirectory
from hexlit.ports.snapshots import SessionSnapshots
from hexlit.ports.uploads import UploadStore

REDIS_NAMESPACE: Final = "hexlit"

log = logging.getLogger("hexlit")


@contextlib.contextmanager
def releasing(what: str) -> Iterator[None]:
    """Release `what` inside the block; a failure is logged and the shutdown goes on, so
    one broken release never leaves the others (a folder, the Redis connections) held."""
    try:
        yield
    except Exception as error:
        log.warning(
            "releasing %s failed (%s: %s); releasing the rest",
            what, type(error).__name__, str(error)[:200],
        )  # fmt: skip


class Resources(Protocol):
    """A dependency-injector container, as far as starting and stopping go."""

    def init_resources(self) -> Awaitable[None] | None: ...

    def shutdown_resources(self) -> Awaitable[None] | None: ...


async def init_resources(container: Resources) -> None:
    """Start every resource (the session core's start is awaited)."""
    started = container.init_resources()
    if started is not None:
        await started


async def shutdown_resources(container: Resources) -> None:
    """Release every resource still held, each once, the session core first; a no-op for
    what is already released."""
    released = container.shutdown_resources()
    if released is not None:
        await released


class ResourcesLifecycle:
    """Implements `Lifecycle`: the web stack's start and stop hooks (the ASGI lifespan,
    Tornado's `app.start()` and `app.stop()`) start and release the container's resources,
    whether `hexlit run`, the tests' server or a user's own server runs the app."""

    def __init__(self, container: Resources) -> None:
        self._container = container

    async def start(self) -> None:
        await init_resources(self._container)

    async def stop(self) -> None:
        await shutdown_resources(self._container)


# -- the session core and the Redis connections (asynchronous) ------------------------


@contextlib.asynccontextmanager
async def session_core(sessions: SessionService, *used: object) -> AsyncIterator[SessionService]:
    """The session core, running: the runtime, the expiry sweeper, the snapshot writer.

    used: the resources the core uses (stores, session directory, Redis connections):
    `shutdown_resources` releases them only once the core has stopped, since a stop
    still writes snapshots and withdraws sessions from the directory.
    """
    await sessions.start()
    try:
        yield sessions
    finally:
        with releasing("the session core"):
            await sessions.stop()


@contextlib.asynccontextmanager
async def redis_connections(client: Any) -> AsyncIterator[Any]:
    """The one Redis client's connections (`redis_client`), closed at the end."""
    try:
        yield client
    finally:
        with releasing("the Redis connections"):
            await client.aclose()


@contextlib.contextmanager
def nothing_held() -> Iterator[None]:
    """The choice that holds nothing (no Redis, no shared directory, no snapshots)."""
    yield None


# -- the stores (synchronous) ---------------------------------------------------------


@contextlib.contextmanager
def memory_media_store() -> Iterator[MediaStore]:
    from hexlit.adapters.storage.memory import MemoryMediaStore

    yield MemoryMediaStore()


@contextlib.contextmanager
def folder_media_store(root: Path, shared_folder: Path | None = None) -> Iterator[MediaStore]:
    """This process's folder under `root/media` (removed at the end), or a worker's
    `shared_folder` (kept: its supervisor removes it)."""
    from hexlit.adapters.storage.filesystem import FolderMediaStore

    store = FolderMediaStore(root, shared_folder)
    try:
        yield store
    finally:
        with releasing("the media folder"):
            store.close()


@contextlib.contextmanager
def redis_media_store(client: Any) -> Iterator[MediaStore]:
    """Holds nothing of its own: `redis_connections` closes the shared client."""
    from hexlit.adapters.storage.redis import RedisMediaStore

    yield RedisMediaStore(client, REDIS_NAMESPACE)


@contextlib.contextmanager
def memory_upload_store() -> Iterator[UploadStore]:
    from hexlit.adapters.storage.memory import MemoryUploadStore

    yield MemoryUploadStore()


@contextlib.contextmanager
def folder_upload_store(root: Path, shared_folder: Path | None = None) -> Iterator[UploadStore]:
    """As `folder_media_store`, under `root/uploads`."""
    from hexlit.adapters.storage.filesystem import FolderUploadStore

    store = FolderUploadStore(root, shared_folder)
    try:
        yield store
    finally:
        with releasing("the uploads folder"):
            store.close()


@contextlib.contextmanager
def redis_upload_store(client: Any) -> Iterator[UploadStore]:
    """Holds nothing of its own: `redis_connections` closes the shared client."""
    from hexlit.adapters.storage.redis import RedisUploadStore

    yield RedisUploadStore(client, REDIS_NAMESPACE)


@contextlib.contextmanager
def redis_session_directory(client: Any) -> Iterator[SessionDirectory]:
    """Holds nothing of its own: `redis_connections` closes the shared client."""
    from hexlit.adapters.sessions.redis_directory import RedisSessionDirectory

    yield RedisSessionDirectory(client, REDIS_NAMESPACE)


@contextlib.contextmanager
def sqlite_session_directory(path: Path) -> Iterator[SessionDirectory]:
    """The workers' directory (composition/workers.py), its connection closed at the end."""
    from hexlit.adapters.sessions.sqlite_directory import SqliteSessionDirectory

    directory = SqliteSessionDirectory(path)
    try:
        yield directory
    finally:
        with releasing("the session directory"):
            directory.close()


@contextlib.contextmanager
def memory_snapshots() -> Iterator[SessionSnapshots]:
    from hexlit.adapters.snapshots.memory import MemorySnapshots

    yield MemorySnapshots()


@contextlib.contextmanager
def folder_snapshots(root: Path) -> Iterator[SessionSnapshots]:
    """Kept at the end: snapshots outlive the process, so a restart resumes sessions."""
    from hexlit.adapters.snapshots.filesystem import FolderSnapshots

    yield FolderSnapshots(root / "snapshots")


@contextlib.contextmanager
def redis_snapshots(client: Any) -> Iterator[SessionSnapshots]:
    """Holds nothing of its own: `redis_connections` closes the shared client."""
    from hexlit.adapters.snapshots.redis import RedisSnapshots

    yield RedisSnapshots(client, REDIS_NAMESPACE)


@contextlib.contextmanager
def identity_provider() -> Iterator[IdentityProvider]:
    """Authlib on the first login; it holds nothing open between calls."""
    from hexlit.adapters.identity.on_first_use import IdentityProviderOnFirstUse

    yield IdentityProviderOnFirstUse()
