"""The Streamlit facts behind session snapshots: how to read a session's state out of a
live `AppSession`, and how to put it back into a fresh one.

Every Streamlit internal used is named here, listed in docs/streamlit-differences.md,
and pinned by tests/contracts/test_streamlit_snapshots.py:

- `Runtime._session_mgr.get_session_info(id).session`: the `AppSession` of an id.
- `AppSession.session_state`: its `SessionState`; `AppSession._client_state`: the
  `ClientState` of the last run (`page_script_hash`, `query_string`).
- `SessionState.filtered_state`: the user-visible keys and values.
- `SessionState._key_id_mapper` (`key in mapper`): which user keys belong to widgets.
- `SessionState.get_widget_states()`: the widget values, as `WidgetState` protos.
- `SessionState.reset_state_value(key, value)`: sets a value the next run starts with,
  without `SessionState[key] = value`'s look-up of the run's context, which outside a
  run (a restore, on the event loop) logs a "missing ScriptRunContext" WARNING per key.
- `AppSession.request_rerun(ClientState)`: a server-side rerun with given widget states.
- The `new_session` `ForwardMsg`'s `page_script_hash`: the page the browser shows.
- The `script_finished` `ForwardMsg` (`FINISHED_SUCCESSFULLY`,
  `FINISHED_FRAGMENT_RUN_SUCCESSFULLY`): a run completed (wire protocol, public).

What is kept: user keys (`st.session_state.x = ...`) whose values pickle, each pickled
on its own so one bad value skips only its key; widget values (keyed or not) as the
widget states the frontend would send, without trigger values (a button press, a chat
submission), so a restore never presses a button again; the page and the query string.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from typing import Any, Final

from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.runtime import Runtime
from streamlit.runtime.app_session import AppSession

from hexlit.ports.runtime import CapturedState

TRIGGER_KINDS: Final = frozenset(
    {"trigger_value", "string_trigger_value", "json_trigger_value", "chat_input_value"}
)
FINISHED: Final = frozenset(
    {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}
)


def run_finished(message: ForwardMsg) -> bool:
    """Whether `message` tells the browser that a run (or a fragment run) completed."""
    return message.WhichOneof("type") == "script_finished" and message.script_finished in FINISHED


def page_shown(message: ForwardMsg) -> str | None:
    """The page a `new_session` message tells the browser it is on (else None); with
    `st.navigation` this is the page's hash, not the main script's that
    `AppSession._client_state` may hold."""
    if message.WhichOneof("type") != "new_session":
        return None
    return str(message.new_session.page_script_hash)


def app_session(runtime: Runtime, session_id: str) -> AppSession | None:
    info = runtime._session_mgr.get_session_info(session_id)
    return None if info is None else info.session


def read_state(session: AppSession) -> tuple[dict[str, Any], bytes, str, str]:
    """(user values, widget states, page, query string) of the session, read on the
    event loop; raises RuntimeError if a run changes them meanwhile (try later)."""
    state = session.session_state
    mapper = state._key_id_mapper
    values = {
        key: value
        for key, value in state.filtered_state.items()
        if isinstance(key, str) and key not in mapper
    }
    widgets = WidgetStates()
    for widget in state.get_widget_states():
        if widget.WhichOneof("value") not in TRIGGER_KINDS:
            widgets.widgets.append(widget)
    client_state = session._client_state
    return (
        values,
        widgets.SerializeToString(),
        client_state.page_script_hash,
        client_state.query_string,
    )


def pickle_values(
    values: Mapping[str, Any], widget_states: bytes, page: str, query: str
) -> CapturedState:
    """Pickle each value on its own (run off the event loop); unpicklable keys are skipped."""
    kept: dict[str, bytes] = {}
    skipped: list[str] = []
    for key, value in values.items():
        try:
            kept[key] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # pickling raises many kinds: TypeError, PicklingError, ...
            skipped.append(key)
    user_state = pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL)
    return CapturedState(user_state, widget_states, page, query, tuple(skipped))


def restore_state(session: AppSession, state: CapturedState) -> None:
    """Put the values back and rerun with the captured widget states.

    Only ever called with state from a snapshot whose seal verified (the core's rule):
    this is where pickled bytes are loaded.
    """
    values: dict[str, bytes] = pickle.loads(state.user_state)
    session_state = session.session_state
    for key, blob in values.items():
        session_state.reset_state_value(key, pickle.loads(blob))
    client_state = ClientState()
    client_state.query_string = state.query_string
    client_state.page_script_hash = state.page
    client_state.widget_states.ParseFromString(state.widget_states)
    session.request_rerun(client_state)
