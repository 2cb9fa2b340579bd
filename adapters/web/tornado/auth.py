"""`/auth/login`, `/oauth2callback`, `/auth/logout`: the `Auth` use case over HTTP."""

from __future__ import annotations

from hexlit.adapters.web import responses
from hexlit.adapters.web.tornado.render import WebResponseHandler
from hexlit.ports.auth import Auth
from hexlit.ports.cors import Cors


class AuthHandler(WebResponseHandler):
    """One class for the three routes; `action` says which."""

    def initialize(self, cors: Cors, auth: Auth, action: str) -> None:  # type: ignore[override]
        super().initialize(cors)
        self._auth = auth
        self._action = action

    def _arg(self, name: str) -> str | None:
        value = self.get_query_argument(name, None)
        return value if isinstance(value, str) else None

    async def get(self) -> None:
        cookie_header = self.request.headers.get("Cookie")
        if self._action == "login":
            answer = await self._auth.login(self._arg("provider"), cookie_header)
        elif self._action == "callback":
            answer = await self._auth.callback(
                self._arg("code"),
                self._arg("state"),
                self._arg("error"),
                self._arg("error_description"),
                cookie_header,
            )
        else:
            answer = await self._auth.logout(cookie_header)
        self.write_response(responses.auth(answer))

    head = get
