"""The `SessionClient` Streamlit writes to: serialize, then push into hexlit's outbox."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.runtime_util import serialize_forward_msg
from streamlit.runtime.session_manager import (
    ClientContext,
    SessionClient,
    SessionClientDisconnectedError,
)

from hexlit.ports.errors import ClientGone
from hexlit.ports.runtime import ClientInfo, Outbox


class HandshakeContext(ClientContext):
    """`st.context` data, captured once from the WebSocket handshake."""

    def __init__(self, client: ClientInfo) -> None:
        self._headers = list(client.headers)
        self._cookies = dict(client.cookies)
        self._remote_ip = client.remote_ip

    @property
    def headers(self) -> Iterable[tuple[str, str]]:
        return self._headers

    @property
    def cookies(self) -> Mapping[str, str]:
        return self._cookies

    @property
    def remote_ip(self) -> str | None:
        return self._remote_ip


class OutboxClient(SessionClient):
    """One connection as Streamlit sees it. Never blocks: the outbox is bounded."""

    def __init__(
        self,
        outbox: Outbox,
        client: ClientInfo,
        on_message: Callable[[ForwardMsg], None] | None = None,
    ) -> None:
        """`on_message` sees every message after it is queued (snapshots watch for the
        end of a run); it runs on the event loop, where Streamlit writes."""
        self.outbox = outbox
        self._context = HandshakeContext(client)
        self._on_message = on_message

    def write_forward_msg(self, msg: ForwardMsg) -> None:
        try:
            self.outbox.push(serialize_forward_msg(msg))
        except ClientGone as gone:
            raise SessionClientDisconnectedError from gone
        if self._on_message is not None:
            self._on_message(msg)

    @property
    def client_context(self) -> ClientContext:
        return self._context
