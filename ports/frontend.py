"""The `Frontend` use case: serve the web app's static build under the base path."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Protocol

from hexlit.ports.assets import Asset


@dataclass(frozen=True, slots=True)
class FileAnswer:
    """Serve `asset` with `body` (empty for HEAD) and this cache policy.

    `stream`, when set, is the body instead (then `body` is empty): a file too large to
    hold in memory, or a byte range, read as it is sent. The caller must consume or
    close it. `content_range` is set for a partial (206) answer of `length` bytes.
    """

    asset: Asset
    body: bytes
    cache_control: str
    stream: AsyncGenerator[bytes, None] | None = None
    content_range: str | None = None
    length: int | None = None


@dataclass(frozen=True, slots=True)
class Redirect:
    """Send the client elsewhere. `keep_method`: the client must repeat its method."""

    location: str
    keep_method: bool = False


class Frontend(Protocol):
    """Answers every request under the base path that no other route took."""

    async def get(self, path: str, method: str, query: str) -> FileAnswer | Redirect:
        """Resolve `path`: relative to the base path, `/...`, or `""` for the base itself.

        Raises `BadRequest` for unsafe paths, `MethodNotAllowed` for methods other
        than GET and HEAD, `NotFound` for reserved paths that do not exist.
        """
        ...
