"""The request parts the core decides on, taken from any framework's headers once."""

from __future__ import annotations

from collections.abc import Mapping

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
