"""Component and app static file rules, with an in-memory file tree."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hexlit.domain.file_routes import MAX_APP_STATIC_BYTES, AppStaticService, ComponentService
from hexlit.ports.assets import Asset
from hexlit.ports.errors import BadRequest, NotFound


class MemoryTree:
    """A `FileTree` over a dict {root: {path: bytes}}; counts lookups to prove none happen."""

    def __init__(self, files: dict[str, dict[str, bytes]], sizes: dict[str, int] | None = None):
        self.files = files
        self.sizes = sizes or {}
        self.lookups = 0

    async def stat(self, root: str, path: str) -> Asset | None:
        self.lookups += 1
        data = self.files.get(root, {}).get(path)
        if data is None:
            return None
        return Asset(
            path,
            self.sizes.get(path, len(data)),
            "text/html" if path.endswith(".html") else "text/plain",
        )

    async def read(self, root: str, asset: Asset) -> bytes:
        return self.files[root][asset.path]


class Registry:
    def component_path(self, name: str) -> str | None:
        return "/components/echo" if name == "echo" else None


TREE = {
    "/components/echo": {"index.html": b"<html>", "main.js": b"js"},
    "/app/static": {"a.txt": b"a", "big.bin": b"x"},
}


def components(tree: MemoryTree | None = None) -> ComponentService:
    return ComponentService(Registry(), tree or MemoryTree(TREE))


def test_component_files_and_cache_policy() -> None:
    html = asyncio.run(components().get("echo", "index.html", head=False))
    script = asyncio.run(components().get("echo", "main.js", head=True))
    assert (html.body, html.cache_control) == (b"<html>", "no-cache")
    assert (script.body, script.cache_control) == (b"", "public")


@pytest.mark.parametrize(
    ("name", "path", "error"),
    [
        ("nope", "index.html", NotFound),
        ("echo", "", NotFound),
        ("echo", "missing.js", NotFound),
        ("echo", "../x", BadRequest),
    ],
)
def test_component_errors(name: str, path: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        asyncio.run(components().get(name, path, head=False))


@given(st.text(max_size=30).map(lambda tail: "../" + tail))
def test_unsafe_paths_never_touch_the_file_tree(path: str) -> None:
    tree = MemoryTree(TREE)
    with pytest.raises(BadRequest):
        asyncio.run(AppStaticService("/app/static", tree).get(path, head=False))
    with pytest.raises(BadRequest):
        asyncio.run(ComponentService(Registry(), tree).get("echo", path, head=False))
    assert tree.lookups == 0


def test_app_static_rules() -> None:
    tree = MemoryTree(TREE, sizes={"big.bin": MAX_APP_STATIC_BYTES + 1})
    service = AppStaticService("/app/static", tree)
    assert asyncio.run(service.get("a.txt", head=False)).body == b"a"
    with pytest.raises(NotFound, match="too large"):
        asyncio.run(service.get("big.bin", head=False))
    with pytest.raises(NotFound):
        asyncio.run(service.get("", head=False))


def test_v2_component_paths_ending_in_a_slash_name_no_file() -> None:
    tree = MemoryTree({"/components/echo": {"dir/": b"", "main.js": b"js"}})
    bidi = ComponentService(Registry(), tree, bidi=True)
    with pytest.raises(NotFound):
        asyncio.run(bidi.get("echo", "dir/", head=False))
    assert asyncio.run(bidi.get("echo", "main.js", head=False)).body == b"js"
