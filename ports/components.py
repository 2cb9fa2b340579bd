"""Files served from folders the app names: custom components and the app's `static/`.

`ComponentRegistry` (driven; the runtime knows which components the app declared),
`FileTree` (driven; reads files under a root, never outside it), and the inbound
`Components` and `AppStatic` use cases behind `/component/...` and `/app/static/...`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Protocol

from hexlit.ports.assets import Asset
from hexlit.ports.frontend import FileAnswer


class ComponentRegistry(Protocol):
    def component_path(self, name: str) -> str | None:
        """The folder of the v1 custom component `name`; None if unknown or URL-served."""
        ...


class FileTree(Protocol):
    """Files under any root folder; symlinks and `..` never lead outside the root."""

    async def stat(self, root: str, path: str) -> Asset | None: ...

    async def read(self, root: str, asset: Asset) -> bytes:
        """Raises `NotFound` if the file vanished."""
        ...

    def chunks(
        self, root: str, asset: Asset, start: int = 0, end: int | None = None
    ) -> AsyncGenerator[bytes, None]:
        """The file's bytes `start..end` in pieces, as `AssetSource.chunks`."""
        ...


class Components(Protocol):
    async def get(
        self, name: str, path: str, head: bool, range_header: str | None = None
    ) -> FileAnswer:
        """Raises `NotFound` (unknown component or file), `BadRequest` (unsafe path),
        `RangeNotSatisfiable`."""
        ...


class AppStatic(Protocol):
    async def get(self, path: str, head: bool, range_header: str | None = None) -> FileAnswer:
        """Raises `NotFound` (missing, a folder, or too large), `BadRequest` (unsafe),
        `RangeNotSatisfiable`."""
        ...
