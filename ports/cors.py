"""The `Cors` use case: which origin may read an answer from another origin.

Its own port, not part of `ServerStatus`: the rule is shared by the probes, the host
config, the metrics, the media and the component files alike (uploads answer their own
CORS, `Uploads.cors`, because they also decide about credentials).
"""

from __future__ import annotations

from typing import Protocol


class Cors(Protocol):
    """The `Access-Control-Allow-Origin` answer, after `server.enableCORS` and
    `server.corsAllowedOrigins`."""

    def cors_allow_origin(self, origin: str | None) -> str | None:
        """The `Access-Control-Allow-Origin` value for a request from `origin`, or None."""
        ...
