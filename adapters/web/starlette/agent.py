"""`/_stcore/agent/interact`, `/_stcore/agent/openapi.json`, `/_stcore/agent/mcp`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from hexlit.adapters.web import responses
from hexlit.adapters.web.starlette.render import to_response
from hexlit.ports.agent import Agent, AgentRequest, AgentRoute


def agent_endpoint(agent: Agent, route: AgentRoute) -> Callable[[Request], Awaitable[Response]]:
    """Every method reaches the core, which answers the ones the route does not take; the
    body is read only once the core lets the request through, and no further than its cap."""

    async def endpoint(request: Request) -> Response:
        exchange = agent.begin(AgentRequest(route, request.method, tuple(request.headers.items())))
        answer = exchange.refusal
        if answer is None:
            try:
                async for chunk in request.stream():
                    answer = exchange.feed(chunk)
                    if answer is not None:
                        break
            except ClientDisconnect:  # nobody is left to answer
                return Response(status_code=400)
        if answer is None:
            answer = await exchange.finish(_until_disconnected(request))
        return to_response(responses.agent(answer), request.method)

    return endpoint


async def _until_disconnected(request: Request) -> None:
    """Returns once the client has left: after the whole body, the next message the
    server delivers for this request is the disconnect."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
