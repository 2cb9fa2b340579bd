"""Writing a framework-free `WebResponse` with Tornado: the base of every HTTP handler."""

from __future__ import annotations

from typing import Any

from tornado.web import RequestHandler

from hexlit.adapters.web import responses
from hexlit.ports.errors import HexlitError
from hexlit.ports.status import ServerStatus


class WebResponseHandler(RequestHandler):
    """Writes framework-free `WebResponse`s; the base of every plain HTTP handler here."""

    def write_response(self, answer: responses.WebResponse) -> None:
        self.clear_header("Content-Type")
        self.set_status(answer.status)
        for name, value in answer.headers:
            self.add_header(name, value)
        if self.request.method == "HEAD":
            self.set_header("Content-Length", str(answer.content_length))
            self.finish()
        elif answer.body:
            self.finish(answer.body)
        else:
            self.finish()

    def initialize(self, status: ServerStatus) -> None:
        self._status = status

    def compute_etag(self) -> None:
        return None  # probes are never cached; answer exactly as the Starlette stack does

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Tornado's own errors (404, 405), answered exactly as the Starlette stack does."""
        self.write_response(responses.framework_error(status_code))

    def allow_origin(self) -> str | None:
        return self._status.cors_allow_origin(self.request.headers.get("Origin"))


class NotFoundHandler(WebResponseHandler):
    """Every path no route matches: 404 for every method."""

    def prepare(self) -> None:
        self.write_response(responses.error(responses.NOT_FOUND))


class RefusedHandler(WebResponseHandler):
    """A request the core refused before routing (a bad Host): its error, any method."""

    def initialize(self, status: ServerStatus, refusal: HexlitError) -> None:  # type: ignore[override]
        super().initialize(status)
        self._refusal = refusal

    def prepare(self) -> None:
        self.write_response(responses.error(self._refusal))
