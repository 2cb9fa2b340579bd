"""`AppRuntime` on the real `streamlit.runtime.Runtime` (the 1.67 line).

Frames are serialized protobuf: inbound ones are parsed into `BackMsg`s here (a frame
that does not parse is `MalformedFrame`), outbound `ForwardMsg`s are serialized by
`OutboxClient`. Session ids are hexlit's: a fresh session is created with
`session_id_override`, a resume passes `existing_session_id`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime import Runtime, RuntimeConfig, RuntimeState
from streamlit.runtime.memory_session_storage import MemorySessionStorage
from streamlit.runtime.runtime import RuntimeStoppedError
from streamlit.runtime.secrets import secrets_singleton
from streamlit.runtime.session_manager import SessionClient
from streamlit.web.cache_storage_manager_config import create_default_cache_storage_manager

from hexlit.adapters.runtime.streamlit.bridges import MediaBridge, UploadBridge
from hexlit.adapters.runtime.streamlit.client import OutboxClient
from hexlit.adapters.runtime.streamlit.process import option, prepare_process
from hexlit.adapters.runtime.streamlit.restore_hold import RestoreHold
from hexlit.adapters.runtime.streamlit.snapshots import (
    app_session,
    page_shown,
    pickle_values,
    read_state,
    restore_state,
    run_finished,
)
from hexlit.ports.errors import ClientGone, MalformedFrame, RuntimeUnavailable
from hexlit.ports.media import MediaLibrary
from hexlit.ports.metrics import MetricFamily
from hexlit.ports.runtime import CapturedState, Outbox, Readiness, SessionStart
from hexlit.ports.uploads import UploadedFiles

if TYPE_CHECKING:
    from hexlit.adapters.runtime.streamlit.agent import StreamlitAgent

log = logging.getLogger("hexlit.runtime.streamlit")

DEBUG_MESSAGES = ("debug_disconnect_websocket", "debug_shutdown_runtime")
SCRIPT_THREAD = "ScriptRunner.scriptThread"
SCRIPT_THREAD_GRACE = 5.0

_NOT_READY = {
    RuntimeState.INITIAL: "runtime is not started",
    RuntimeState.STOPPING: "runtime is shutting down",
    RuntimeState.STOPPED: "runtime has stopped",
}


class StreamlitRuntime:
    """Implements `AppRuntime` for a Streamlit script.

    options: hexlit's explicitly set options (dotted names), handed to Streamlit's config.
    keep_disconnected: seconds Streamlit keeps a disconnected session; hexlit's own
        reconnect window governs, so this is set longer than it.
    args: the script's command-line arguments (its `sys.argv[1:]`).
    """

    def __init__(
        self,
        script_path: Path,
        options: Mapping[str, Any],
        keep_disconnected: float,
        media: MediaLibrary,
        uploads: UploadedFiles,
        args: Sequence[str] = (),
        on_script_error: Callable[[Exception], bool | None] | None = None,
        secrets: Mapping[str, Any] | None = None,
    ) -> None:
        self._on_script_error = on_script_error
        self._programmatic_secrets = secrets
        self._media = media
        self._args = tuple(args)
        self._uploads = uploads
        self._script = script_path
        self._options = dict(options)
        self._keep_disconnected = keep_disconnected
        self._runtime: Runtime | None = None
        self._clients: dict[int, OutboxClient] = {}
        self._sessions: set[str] = set()
        self._run_listeners: list[Callable[[str], None]] = []
        self._pages: dict[str, str] = {}
        self._agent: StreamlitAgent | None = None
        self._restore_hold = RestoreHold(self._deliver_held)

    async def start(self) -> None:
        prepare_process(self._script, self._options, self._args)
        if self._programmatic_secrets:  # an st.App's `secrets=`, over the files' (Streamlit)
            secrets_singleton.merge_programmatic_secrets(self._programmatic_secrets)
        self._runtime = Runtime(
            RuntimeConfig(
                script_path=str(self._script.resolve()),
                media_file_storage=MediaBridge(self._media),
                uploaded_file_manager=UploadBridge(self._uploads),
                cache_storage_manager=create_default_cache_storage_manager(),
                session_storage=MemorySessionStorage(ttl_seconds=int(self._keep_disconnected)),
                on_script_error=self._on_script_error,
            )
        )
        await self._runtime.start()

    async def stop(self) -> None:
        runtime, self._runtime = self._runtime, None
        if runtime is None:
            return
        if self._agent is not None:
            self._agent.close()
        # Disconnected sessions wait in Streamlit's storage, where stopping would leave
        # them (and each one's script event loop) unclosed: end them all first.
        for session_id in list(self._sessions):
            runtime.close_session(session_id)
        self._sessions.clear()
        runtime.stop()
        await runtime.stopped
        self._clients.clear()
        # Script threads finish their teardown through `Runtime.instance()`: let them.
        await asyncio.to_thread(_join_script_threads, SCRIPT_THREAD_GRACE)
        Runtime._instance = None  # a process may serve another app after this one

    async def readiness(self) -> Readiness:
        if self._runtime is None:
            return Readiness(False, _NOT_READY[RuntimeState.INITIAL])
        ready, message = await self._runtime.is_ready_for_browser_connection
        return Readiness(ready, message if ready else _NOT_READY.get(self._runtime.state, message))

    async def script_health(self) -> Readiness:
        runtime = self._running()
        ok, message = await runtime.does_script_run_without_error()
        return Readiness(ok, message)

    async def connect(self, start: SessionStart, outbox: Outbox) -> str:
        return await self._connect(start, outbox, self._watch_runs(start.session_id))

    async def _connect(
        self, start: SessionStart, outbox: Outbox, watch: Callable[[ForwardMsg], None] | None
    ) -> str:
        runtime = self._running()
        client = OutboxClient(outbox, start.client, watch)
        user_info = {
            key: dict(value) if isinstance(value, Mapping) else value
            for key, value in start.user_info.items()
        }
        try:
            if start.resume:
                session_id = runtime.connect_session(
                    client, user_info, existing_session_id=start.session_id
                )
            else:
                session_id = runtime.connect_session(
                    client, user_info, session_id_override=start.session_id
                )
        except RuntimeStoppedError as stopped:
            raise RuntimeUnavailable("runtime is shutting down") from stopped
        self._clients[id(outbox)] = client
        self._sessions.add(session_id)
        return session_id

    async def deliver(self, session_id: str, frame: bytes, outbox: Outbox) -> None:
        runtime = self._running()
        client = self._clients.get(id(outbox))
        if client is None or client.outbox is not outbox:
            return
        message = BackMsg()
        try:
            message.ParseFromString(frame)
        except Exception as error:  # protobuf raises DecodeError and friends
            raise MalformedFrame("not a BackMsg") from error
        kind = message.WhichOneof("type")
        if kind in DEBUG_MESSAGES:
            self._debug(kind, runtime)
            return
        if self._restore_hold.holds(session_id, message, client):
            return
        try:
            runtime.handle_backmsg(session_id, message, client=client)
        except RuntimeStoppedError as stopped:
            raise RuntimeUnavailable("runtime is shutting down") from stopped

    async def disconnect(self, session_id: str, outbox: Outbox) -> None:
        client = self._clients.pop(id(outbox), None)
        if client is not None and self._runtime is not None:
            self._runtime.disconnect_session(session_id, client=client)

    async def close_session(self, session_id: str) -> None:
        self._restore_hold.end(session_id)
        self._sessions.discard(session_id)
        self._pages.pop(session_id, None)
        if self._runtime is not None:
            self._runtime.close_session(session_id)

    # -- SessionStateAccess (snapshots; the Streamlit facts are in snapshots.py) --------

    def when_run_completes(self, listener: Callable[[str], None]) -> None:
        self._run_listeners.append(listener)

    def _watch_runs(self, session_id: str) -> Callable[[ForwardMsg], None] | None:
        if not self._run_listeners:
            return None

        def watch(message: ForwardMsg) -> None:
            page = page_shown(message)
            if page is not None:
                self._pages[session_id] = page
            if run_finished(message):
                for listener in self._run_listeners:
                    listener(session_id)

        return watch

    async def capture(self, session_id: str) -> CapturedState | None:
        encode = self.read(session_id)
        return None if encode is None else await asyncio.to_thread(encode)

    def read(self, session_id: str) -> Callable[[], CapturedState] | None:
        if self._runtime is None or session_id not in self._sessions:
            return None
        session = app_session(self._runtime, session_id)
        if session is None:
            return None
        try:
            values, widgets, page, query = read_state(session)
        except (RuntimeError, KeyError):
            return None  # a run changed the state while it was read: the next one will do
        page = self._pages.get(session_id, page)  # the page the browser was told it is on
        return functools.partial(pickle_values, values, widgets, page, query)

    async def restore(self, start: SessionStart, state: CapturedState, outbox: Outbox) -> str:
        """A fresh session under the same id, its state put back and rerun; the browser's
        reruns wait for that run (restore_hold.py says why)."""
        fresh = SessionStart(start.session_id, False, start.client, start.user_info)
        watch_runs = self._watch_runs(start.session_id)

        def watch(message: ForwardMsg) -> None:
            self._restore_hold.saw(start.session_id, message)
            if watch_runs is not None:
                watch_runs(message)

        session_id = await self._connect(fresh, outbox, watch)
        session = app_session(self._running(), session_id)
        if session is not None:
            self._restore_hold.begin(session_id)
            restore_state(session, state)
        return session_id

    def _deliver_held(self, session_id: str, message: BackMsg, client: SessionClient) -> None:
        """A rerun the restore held back, now for Streamlit; dropped if its connection
        has gone (Streamlit checks the client) or the runtime is stopping."""
        if self._runtime is None:
            return
        try:
            self._runtime.handle_backmsg(session_id, message, client=client)
        except RuntimeStoppedError:
            log.debug("a held rerun of a restored session dropped: the runtime is stopping")

    async def metric_families(self, names: Sequence[str] | None) -> list[MetricFamily]:
        """`MetricsSource`: Streamlit's own stats (caches, session events, ...).

        Gathering walks caches and session state, so it runs off the event loop.
        """
        if self._runtime is None:
            return []
        stats_manager = self._runtime.stats_mgr
        wanted = list(names) if names is not None else None
        by_family = await asyncio.to_thread(stats_manager.get_stats, family_names=wanted)
        families = []
        for stats in by_family.values():
            if stats:
                first = stats[0]
                samples = tuple(stat.to_metric_str() for stat in stats)
                families.append(
                    MetricFamily(first.family_name, first.type, first.help, samples, first.unit)
                )
        return families

    def component_path(self, name: str) -> str | None:
        """`ComponentRegistry`: the folder of a v1 component the app declared."""
        if self._runtime is None:
            return None
        path: str | None = self._runtime.component_registry.get_component_path(name)
        return path

    @property
    def agent(self) -> StreamlitAgent:
        """`AgentRuntime`: Streamlit's agent sessions over this runtime, once it runs."""
        if self._agent is None:  # imported here: Streamlit keeps it out of `import streamlit`
            from hexlit.adapters.runtime.streamlit.agent import StreamlitAgent

            self._agent = StreamlitAgent(self._running)
        return self._agent

    @property
    def bidi_registry(self) -> _BidiRegistry:
        """`ComponentRegistry` for v2 ("bidi") components, found in installed packages."""
        return _BidiRegistry(self)

    def _debug(self, kind: str | None, runtime: Runtime) -> None:
        """The frontend's e2e hooks, honoured only in development or e2e-test mode."""
        if not (option("global.developmentMode") or option("global.e2eTest")):
            log.warning("ignored %s: only allowed in development or e2e-test mode", kind)
            return
        if kind == "debug_shutdown_runtime":
            runtime.stop()
            return
        raise ClientGone("client asked to drop its connection")

    def _running(self) -> Runtime:
        if self._runtime is None or self._runtime.state in _NOT_READY:
            raise RuntimeUnavailable("runtime is not running")
        return self._runtime


def _join_script_threads(timeout: float) -> None:
    """Wait, at most `timeout` seconds in all, for running app scripts to end."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread.name == SCRIPT_THREAD:
            thread.join(max(0.0, deadline - time.monotonic()))


class _BidiRegistry:
    """The v2 component registry of a `StreamlitRuntime` (empty until it starts)."""

    def __init__(self, owner: StreamlitRuntime) -> None:
        self._owner = owner

    def component_path(self, name: str) -> str | None:
        runtime = self._owner._runtime
        if runtime is None or runtime.bidi_component_registry.get(name) is None:
            return None
        path: str | None = runtime.bidi_component_registry.get_component_path(name)
        return path
