"""Files served from folders the app names: custom components and the app's `static/`.

`ComponentRegistry` (driven; the runtime knows which components the app declared) and
the inbound `Components` and `AppStatic` use cases behind `/component/...` and
`/app/static/...`. Their files are read through `ports.assets.FileTree`.
"""

from __future__ import annotations

from typing import Protocol

from hexlit.ports.frontend import FileAnswer


class ComponentRegistry(Protocol):
    def component_path(self, name: str) -> str | None:
        """The folder of the v1 custom component `name`; None if unknown or URL-served."""
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
