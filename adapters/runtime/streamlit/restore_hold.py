"""A restored session takes the browser's reruns only once its restore run is over.

Streamlit calls a widget's callback (`on_click`, `on_change`) only when the session holds
the widget's metadata, which a session gets by running the code that draws the widget
(`SessionState._call_callbacks` skips a changed widget without metadata). A restored
session is a fresh `AppSession`: it has drawn nothing yet. The browser, meanwhile, still
shows the old process's page and stays clickable, so its next click can reach the new
session while the restore run is in flight (or before it starts, when Streamlit merges
both requests into one run). The run then sees the click's trigger without the
callback, and the click is lost: observed in Chromium, the counter did not move.

So, from the restore until its run finishes, a `rerun_script` from the browser is held
and then handed to Streamlit in order, exactly as if the user had clicked a moment later.
Everything else (heartbeats, stop, uploads) passes at once: only reruns carry widget
triggers. A script whose first run never ends (a `while True` dashboard) must not
swallow input, so the hold also ends after `RESTORE_HOLD_LIMIT` seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.session_manager import SessionClient

RESTORE_HOLD_LIMIT: Final = 10.0
"""Seconds a restored session holds the browser's reruns at most (see the module doc)."""

Deliver = Callable[[str, BackMsg, SessionClient], None]


def restore_run_over(message: ForwardMsg) -> bool:
    """Whether `message` ends a run for good: any `script_finished` but the early stop
    for a rerun (`st.rerun()` in the script goes on with the next run)."""
    return (
        message.WhichOneof("type") == "script_finished"
        and message.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN
    )


@dataclass
class _Hold:
    timer: asyncio.TimerHandle
    held: list[tuple[BackMsg, SessionClient]] = field(default_factory=list)


class RestoreHold:
    """`begin` at a restore; `holds` for each BackMsg; `saw` for each ForwardMsg the
    session writes; `end` when the session closes. Runs on the event loop only."""

    def __init__(self, deliver: Deliver, limit: float = RESTORE_HOLD_LIMIT) -> None:
        """`deliver(session_id, message, client)` hands a held message to Streamlit."""
        self._deliver = deliver
        self._limit = limit
        self._holds: dict[str, _Hold] = {}

    def begin(self, session_id: str) -> None:
        self.end(session_id)
        timer = asyncio.get_running_loop().call_later(self._limit, self._release, session_id)
        self._holds[session_id] = _Hold(timer)

    def holds(self, session_id: str, message: BackMsg, client: SessionClient) -> bool:
        """Keep `message` for later if it is a rerun of a session still restoring."""
        hold = self._holds.get(session_id)
        if hold is None or message.WhichOneof("type") != "rerun_script":
            return False
        hold.held.append((message, client))
        return True

    def saw(self, session_id: str, message: ForwardMsg) -> None:
        """Release the held reruns once the restore run is over. Called from inside
        Streamlit's write of `message`, so the release waits for the next loop turn."""
        if session_id in self._holds and restore_run_over(message):
            asyncio.get_running_loop().call_soon(self._release, session_id)

    def end(self, session_id: str) -> None:
        """Forget a session's hold without delivering (the session is closing)."""
        hold = self._holds.pop(session_id, None)
        if hold is not None:
            hold.timer.cancel()

    def _release(self, session_id: str) -> None:
        hold = self._holds.pop(session_id, None)
        if hold is None:
            return
        hold.timer.cancel()
        for message, client in hold.held:
            self._deliver(session_id, message, client)
