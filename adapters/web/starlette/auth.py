"""`/auth/login`, `/oauth2callback`, `/auth/logout`: the `Auth` use case over HTTP."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from hexlit.adapters.web import responses
from hexlit.adapters.web.starlette.render import to_response
from hexlit.ports.auth import Auth

Endpoint = Callable[[Request], Awaitable[Response]]


def auth_endpoints(auth: Auth) -> tuple[Endpoint, Endpoint, Endpoint]:
    """The endpoints of login, the provider's callback and logout."""

    async def login(request: Request) -> Response:
        answer = await auth.login(
            request.query_params.get("provider"), request.headers.get("cookie")
        )
        return to_response(responses.auth(answer))

    async def callback(request: Request) -> Response:
        query = request.query_params
        answer = await auth.callback(
            query.get("code"),
            query.get("state"),
            query.get("error"),
            query.get("error_description"),
            request.headers.get("cookie"),
        )
        return to_response(responses.auth(answer))

    async def logout(request: Request) -> Response:
        return to_response(responses.auth(await auth.logout(request.headers.get("cookie"))))

    return login, callback, logout
