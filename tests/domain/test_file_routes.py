"""Component and app static file rules, with an in-memory file tree."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hexlit.domain.file_routes import (
    MAX_APP_STATIC_BYTES,
    MAX_BUFFERED_BYTES,
    AppStaticService,
    ComponentService,
)
from hexlit.ports.assets import Asset
from hexlit.ports.errors import BadRequest, NotFound, RangeNotSatisfiable
from hexlit.ports.frontend import FileAnswer


class MemoryTree:
    """A `FileTree` over a dict {root: {path: bytes}}; counts lookups to prove none happen."""

    def __init__(self, files: dict[str, dict[str, bytes]], sizes: dict[str, int] | None = None):
        self.files = files
        self.sizes = sizes or {}
        self.lookups = 0
        self.whole_reads = 0

    def source(self, root: str) -> MemorySource:
        return MemorySource(self, root)


class MemorySource:
    """The `AssetSource` of one root of a `MemoryTree`; counts on the tree."""

    def __init__(self, tree: MemoryTree, root: str) -> None:
        self.tree = tree
        self.files = tree.files.get(root, {})

    async def stat(self, path: str) -> Asset | None:
        self.tree.lookups += 1
        data = self.files.get(path)
        if data is None:
            return None
        return Asset(
            path,
            self.tree.sizes.get(path, len(data)),
            "text/html" if path.endswith(".html") else "text/plain",
        )

    async def read(self, asset: Asset) -> bytes:
        self.tree.whole_reads += 1
        return self.files[asset.path]

    async def chunks(
        self, asset: Asset, start: int = 0, end: int | None = None
    ) -> AsyncGenerator[bytes, None]:
        data = self.files[asset.path][start : None if end is None else end + 1]
        for offset in range(0, len(data), 1000):
            yield data[offset : offset + 1000]


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


async def _drain(stream: AsyncGenerator[bytes, None]) -> bytes:
    return b"".join([chunk async for chunk in stream])


@pytest.mark.parametrize("service", ["component", "app static"])
def test_a_large_file_streams_and_a_small_one_is_read_whole(service: str) -> None:
    """Memory per request stays bounded: only files up to MAX_BUFFERED_BYTES are held."""
    large = bytes(range(256)) * (MAX_BUFFERED_BYTES // 256 + 1)
    small = b"s" * MAX_BUFFERED_BYTES
    tree = MemoryTree({"/components/echo": {"large": large, "small": small}})

    async def get(path: str, head: bool = False) -> FileAnswer:
        if service == "component":
            return await ComponentService(Registry(), tree).get("echo", path, head)
        return await AppStaticService("/components/echo", tree).get(path, head)

    streamed = asyncio.run(get("large"))
    assert streamed.body == b""
    assert streamed.stream is not None
    assert asyncio.run(_drain(streamed.stream)) == large
    assert tree.whole_reads == 0
    whole = asyncio.run(get("small"))
    assert (whole.body, whole.stream, tree.whole_reads) == (small, None, 1)
    head = asyncio.run(get("large", head=True))
    assert (head.body, head.stream, head.asset.size) == (b"", None, len(large))


def test_a_range_streams_just_those_bytes() -> None:
    data = bytes(range(256)) * 8
    tree = MemoryTree({"/app/static": {"f.bin": data}})
    answer = asyncio.run(AppStaticService("/app/static", tree).get("f.bin", False, "bytes=10-19"))
    assert (answer.content_range, answer.length, answer.body) == ("bytes 10-19/2048", 10, b"")
    assert answer.stream is not None
    assert asyncio.run(_drain(answer.stream)) == data[10:20]
    head = asyncio.run(AppStaticService("/app/static", tree).get("f.bin", True, "bytes=-5"))
    assert (head.content_range, head.length, head.stream) == ("bytes 2043-2047/2048", 5, None)
    with pytest.raises(RangeNotSatisfiable):
        asyncio.run(AppStaticService("/app/static", tree).get("f.bin", False, "bytes=4096-"))
