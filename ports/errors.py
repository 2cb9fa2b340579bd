"""Semantic errors the core raises and the web adapters translate.

The core never speaks HTTP status codes or WebSocket close codes. Each error names what
went wrong; `hexlit.adapters.web.status` holds the single table that turns each one into
the status code or close code both web stacks answer with.

Messages are safe to show to a client: they never echo a session id, a cookie or a path.
"""

from __future__ import annotations


class HexlitError(Exception):
    """Base of every semantic error that crosses a port."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BadRequest(HexlitError):
    """The request is malformed: a header, a parameter or a body cannot be understood."""


class NotFound(HexlitError):
    """The named thing does not exist (or no longer exists)."""


class Forbidden(HexlitError):
    """The request is understood but refused by a security rule."""


class OriginRejected(Forbidden):
    """A WebSocket handshake came from an origin the origin policy does not allow."""


class HostRejected(Forbidden):
    """The Host header is not in `server.allowedHosts`."""


class MethodNotAllowed(HexlitError):
    """The resource exists but does not support the request's method."""


class PayloadTooLarge(HexlitError):
    """A body or a frame is larger than the configured limit."""


class UnsupportedFrame(HexlitError):
    """A WebSocket frame of a kind the protocol does not carry (text instead of binary)."""


class MalformedFrame(HexlitError):
    """A binary frame the runtime could not decode."""


class StoreUnavailable(HexlitError):
    """A shared store (Redis) cannot be reached; the request may succeed when it is back."""


class RuntimeUnavailable(HexlitError):
    """The app runtime is not started yet, or is stopping; the client should retry."""


class ClientGone(HexlitError):
    """The client of a session is closed or cannot keep up; nothing more reaches it."""


class RangeNotSatisfiable(HexlitError):
    """A Range header that cannot be served for a resource of `size` bytes."""

    def __init__(self, reason: str, size: int) -> None:
        super().__init__(reason)
        self.size = size


class IdentityError(HexlitError):
    """A sign-in step at the identity provider failed (`IdentityProvider` raises it).

    `reason` is safe to show a user: no token, code or secret. The auth service turns it
    into a "Login failed" page, so it never reaches a web adapter.
    """
