"""The request parts the core decides on, taken from any framework's headers once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from hexlit.ports.runtime import ClientInfo
from hexlit.ports.sessions import Handshake
from hexlit.ports.uploads import UploadRequest


def upload_request(session_id: str, file_id: str, headers: Mapping[str, str]) -> UploadRequest:
    """`PUT/DELETE .../upload_file/{session_id}/{file_id}`; `headers` is case-insensitive
    (Starlette's `Headers` and Tornado's `HTTPHeaders` both are)."""
    return UploadRequest(
        session_id=session_id,
        file_id=file_id,
        content_length=headers.get("content-length"),
        content_type=headers.get("content-type"),
        xsrf_header=headers.get("x-xsrftoken"),
        cookie_header=headers.get("cookie"),
        origin=headers.get("origin"),
        host=headers.get("host"),
    )


def handshake(headers: Iterable[tuple[str, str]], remote_ip: str | None) -> Handshake:
    """The upgrade request of `/_stcore/stream`, from its headers as received (name, value
    pairs in any case; a repeated header once per line). A repeated header is read as its
    values joined by commas (RFC 9110 §5.3), so two Origins are one origin the policy
    refuses, never the first one trusted. The cookies come from the raw `Cookie` header,
    as for every HTTP route: neither framework's cookie parser decides."""
    received = tuple(headers)

    def joined(name: str, separator: str = ",") -> str | None:
        values = [value for key, value in received if key.lower() == name]
        return separator.join(values) if values else None

    return Handshake(
        origin=joined("origin"),
        host=joined("host"),
        subprotocols=joined("sec-websocket-protocol"),
        client=ClientInfo(received, cookie_pairs(joined("cookie", "; ")), remote_ip),
    )


def cookie_pairs(header: str | None) -> tuple[tuple[str, str], ...]:
    """The cookies of a raw `Cookie` header, one per name (the last of a repeated name wins,
    as it did with both frameworks' parsers), surrounding quotes removed. A malformed pair
    is skipped, never the whole header (Tornado's `SimpleCookie` dropped the rest)."""
    found: dict[str, str] = {}
    for pair in (header or "").split(";"):
        name, sep, value = pair.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            continue
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        found[name] = value
    return tuple(found.items())
