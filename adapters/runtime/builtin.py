"""A small, dependency-free app runtime, so hexlit runs and is tested without Streamlit.

It runs one of two tiny apps over the same opaque-frame boundary Streamlit uses:

- `counter`: keeps a count per session. Frames are UTF-8 text commands:
  `inc` adds one and answers `count N`; `flood N` answers with N frames at once (to
  exercise the bounded outbound queue); anything else is echoed back.
- `echo`: echoes every frame.

On every connect it sends `hello <session-id> resumed=<0|1> count=<N>`, so a client can
see that a resumed session kept its state. A frame that is not UTF-8 is malformed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from hexlit.ports.errors import ClientGone, MalformedFrame, RuntimeUnavailable
from hexlit.ports.metrics import MetricFamily
from hexlit.ports.runtime import Outbox, Readiness, SessionStart

APPS: Final = ("counter", "echo")
MAX_FLOOD: Final = 100_000


@dataclass(slots=True)
class _AppSession:
    outbox: Outbox | None
    count: int = 0


class BuiltinRuntime:
    """Implements `AppRuntime` for the built-in apps."""

    def __init__(self, app: str = "counter") -> None:
        if app not in APPS:
            raise ValueError(f"unknown built-in app {app!r}; choose one of {', '.join(APPS)}")
        self._app = app
        self._sessions: dict[str, _AppSession] = {}
        self._state = "initial"

    @property
    def session_count(self) -> int:
        """Sessions held, attached or not (for tests and metrics)."""
        return len(self._sessions)

    async def start(self) -> None:
        self._state = "running"

    async def stop(self) -> None:
        self._state = "stopped"
        self._sessions.clear()

    async def readiness(self) -> Readiness:
        if self._state == "running":
            return Readiness(True, "ok")
        if self._state == "initial":
            return Readiness(False, "runtime is not started")
        return Readiness(False, "runtime has stopped")

    async def script_health(self) -> Readiness:
        ready = await self.readiness()
        return Readiness(True, "ok") if ready.ready else Readiness(False, "error")

    async def connect(self, start: SessionStart, outbox: Outbox) -> str:
        self._require_running()
        session = self._sessions.get(start.session_id) if start.resume else None
        resumed = session is not None
        if session is None:
            session = _AppSession(outbox)
            self._sessions[start.session_id] = session
        session.outbox = outbox
        hello = f"hello {start.session_id} resumed={int(resumed)} count={session.count}"
        _send(session, hello.encode())
        return start.session_id

    async def deliver(self, session_id: str, frame: bytes, outbox: Outbox) -> None:
        self._require_running()
        session = self._sessions.get(session_id)
        if session is None or session.outbox is not outbox:
            return
        try:
            text = frame.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedFrame("frame is not UTF-8") from None
        if self._app == "counter" and text == "inc":
            session.count += 1
            _send(session, f"count {session.count}".encode())
        elif self._app == "counter" and text.startswith("flood "):
            await self._flood(session, text.removeprefix("flood "))
        else:
            _send(session, frame)

    async def disconnect(self, session_id: str, outbox: Outbox) -> None:
        session = self._sessions.get(session_id)
        if session is not None and session.outbox is outbox:
            session.outbox = None

    async def close_session(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    async def metric_families(self, names: Sequence[str] | None) -> list[MetricFamily]:
        """`MetricsSource`: one gauge, the sessions this runtime holds."""
        if names is not None and "builtin_sessions" not in names:
            return []
        samples = (f"builtin_sessions {len(self._sessions)}",)
        return [
            MetricFamily("builtin_sessions", "gauge", "Sessions the built-in app holds", samples)
        ]

    async def _flood(self, session: _AppSession, amount: str) -> None:
        count = min(int(amount), MAX_FLOOD) if amount.isdigit() else 0
        for index in range(count):
            if not _send(session, f"flood {index}".encode()):
                return
            if index % 1000 == 999:
                await asyncio.sleep(0)

    def _require_running(self) -> None:
        if self._state != "running":
            raise RuntimeUnavailable("runtime is not running")


def _send(session: _AppSession, frame: bytes) -> bool:
    """Push to the session's client; on `ClientGone` stop writing to it (as Streamlit does)."""
    if session.outbox is None:
        return False
    try:
        session.outbox.push(frame)
    except ClientGone:
        session.outbox = None
        return False
    return True
