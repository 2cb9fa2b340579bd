"""`/_stcore/agent/interact`, `/_stcore/agent/openapi.json`, `/_stcore/agent/mcp`."""

from __future__ import annotations

import asyncio

import tornado.web

from hexlit.adapters.web import responses
from hexlit.adapters.web.tornado.render import WebResponseHandler
from hexlit.ports.agent import Agent, AgentExchange, AgentRequest, AgentRoute
from hexlit.ports.cors import Cors

UNLIMITED_BODY = 1 << 62
"""The core caps the body as it streams in; Tornado's own cap would answer 400."""


@tornado.web.stream_request_body
class AgentHandler(WebResponseHandler):
    """Every method reaches the core, which answers the ones the route does not take; the
    body streams in through `data_received` once the core lets the request through."""

    def initialize(self, cors: Cors, agent: Agent, route: AgentRoute) -> None:  # type: ignore[override]
        super().initialize(cors)
        self._agent = agent
        self._route = route
        self._exchange: AgentExchange | None = None
        self._gone = asyncio.Event()

    def prepare(self) -> None:
        headers = tuple(self.request.headers.get_all())
        method = self.request.method or "GET"
        self._exchange = self._agent.begin(AgentRequest(self._route, method, headers))
        if self._exchange.refusal is not None:
            self.write_response(responses.agent(self._exchange.refusal))
            return
        self.request.connection.set_max_body_size(UNLIMITED_BODY)  # type: ignore[union-attr]

    def data_received(self, chunk: bytes) -> None:
        if self._exchange is None or self._finished:
            return
        refused = self._exchange.feed(chunk)
        if refused is not None:  # answer now; the rest of the body is not read
            self.write_response(responses.agent(refused))
            self.request.connection.close()  # type: ignore[union-attr]

    async def _answer(self) -> None:
        if self._exchange is None or self._finished:
            return
        answer = await self._exchange.finish(self._gone.wait())
        if not self._gone.is_set():
            self.write_response(responses.agent(answer))

    def on_connection_close(self) -> None:
        self._gone.set()

    get = head = post = put = patch = delete = options = _answer
