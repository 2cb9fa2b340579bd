"""`/auth/login`, `/oauth2callback`, `/auth/logout`: the `Auth` use case over HTTP."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from hexlit.adapters.web import responses
from hexlit.adapters.web.starlette.render import to_response
from hexlit.ports.auth import Auth


def auth_routes(auth: Auth, base: str) -> list[BaseRoute]:
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

    return [
        Route(f"{base}/auth/login", login, methods=["GET"]),
        Route(f"{base}/oauth2callback", callback, methods=["GET"]),
        Route(f"{base}/auth/logout", logout, methods=["GET"]),
    ]
