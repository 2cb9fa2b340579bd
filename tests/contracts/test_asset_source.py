"""The `AssetSource` contract, over every implementation: files in, nothing out.

A `FileTree` is a factory of sources (one per folder the app names), so what it gives
for a root is held to the same contract as a folder source made directly.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from hexlit.adapters.assets.filesystem import FolderAssets, FolderTree
from hexlit.ports.assets import AssetSource
from hexlit.ports.errors import NotFound

SOURCES: dict[str, Callable[[Path], AssetSource]] = {
    "folder": FolderAssets,
    "folder tree": lambda root: FolderTree().source(str(root)),
}


@pytest.fixture(params=sorted(SOURCES))
def tree(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[AssetSource, Path]:
    root = tmp_path / "root"
    (root / "static" / "js").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html>")
    (root / "static" / "js" / "main.abc.js").write_text("console.log(1)")
    (root / "data.unknownext").write_bytes(b"\x00\x01")
    (tmp_path / "secret.txt").write_text("outside")
    os.symlink(tmp_path / "secret.txt", root / "escape.txt")
    os.symlink(root / "index.html", root / "inside-link.html")
    return SOURCES[request.param](root), root


def stat(source: AssetSource, path: str) -> object:
    return asyncio.run(source.stat(path))


def test_files_have_size_and_web_content_types(tree: tuple[AssetSource, Path]) -> None:
    source, _ = tree
    page = asyncio.run(source.stat("index.html"))
    script = asyncio.run(source.stat("static/js/main.abc.js"))
    unknown = asyncio.run(source.stat("data.unknownext"))
    assert page is not None
    assert script is not None
    assert unknown is not None
    assert (page.size, page.content_type) == (15, "text/html")
    assert script.content_type == "application/javascript"
    assert unknown.content_type == "application/octet-stream"
    assert asyncio.run(source.read(script)) == b"console.log(1)"


@pytest.mark.parametrize("path", ["missing.html", "static", "static/js", "", "."])
def test_missing_files_and_directories_are_none(tree: tuple[AssetSource, Path], path: str) -> None:
    assert stat(tree[0], path) is None


@pytest.mark.parametrize("path", ["escape.txt", "../secret.txt", "static/../../secret.txt"])
def test_nothing_outside_the_root_is_served(tree: tuple[AssetSource, Path], path: str) -> None:
    assert stat(tree[0], path) is None


def test_symlinks_inside_the_root_are_followed(tree: tuple[AssetSource, Path]) -> None:
    asset = asyncio.run(tree[0].stat("inside-link.html"))
    assert asset is not None
    assert asset.content_type == "text/html"


def test_a_file_that_vanished_is_not_found(tree: tuple[AssetSource, Path]) -> None:
    source, root = tree
    asset = asyncio.run(source.stat("index.html"))
    assert asset is not None
    (root / "index.html").unlink()
    with pytest.raises(NotFound):
        asyncio.run(source.read(asset))


def test_chunks_stream_a_range_and_the_whole_file(tree: tuple[AssetSource, Path]) -> None:
    source, root = tree
    (root / "big.bin").write_bytes(bytes(range(256)) * 4096)  # 1 MiB: several chunks

    async def scenario() -> tuple[bytes, bytes, int]:
        asset = await source.stat("big.bin")
        assert asset is not None
        pieces = [chunk async for chunk in source.chunks(asset)]
        middle = b"".join([chunk async for chunk in source.chunks(asset, 1000, 300_999)])
        return b"".join(pieces), middle, len(pieces)

    whole, middle, count = asyncio.run(scenario())
    assert whole == (root / "big.bin").read_bytes()
    assert middle == whole[1000:301_000]
    assert count > 1


def test_chunks_of_a_file_that_vanished_are_not_found(tree: tuple[AssetSource, Path]) -> None:
    source, root = tree
    asset = asyncio.run(source.stat("index.html"))
    assert asset is not None
    (root / "index.html").unlink()

    async def drain() -> None:
        async for _ in source.chunks(asset):
            pass

    with pytest.raises(NotFound):
        asyncio.run(drain())


def test_a_caching_folder_serves_from_memory_within_its_bound(tmp_path: Path) -> None:
    root = tmp_path / "build"
    root.mkdir()
    (root / "a.js").write_bytes(b"a" * 100)
    (root / "b.js").write_bytes(b"b" * 100)
    source = FolderAssets(root, cache_bytes=150)

    async def scenario() -> tuple[bytes, bytes, bytes]:
        a = await source.stat("a.js")
        b = await source.stat("b.js")
        assert a is not None
        assert b is not None
        first = await source.read(a)
        (root / "a.js").write_bytes(b"changed")  # an immutable build never does this
        cached = await source.read(a)
        await source.read(b)  # 200 bytes > 150: a.js is evicted
        (root / "a.js").write_bytes(b"x" * 100)
        return first, cached, await source.read(a)

    first, cached, reread = asyncio.run(scenario())
    assert first == cached == b"a" * 100
    assert reread == b"x" * 100


def test_concurrent_misses_of_one_file_are_cached_once(tmp_path: Path) -> None:
    """Found by the asset benchmark: 32 clients missing at once counted the file 32 times,
    emptied the cache, and every later request read the disk again."""
    root = tmp_path / "build"
    root.mkdir()
    (root / "big.js").write_bytes(b"j" * 100)
    source = FolderAssets(root, cache_bytes=250)

    async def scenario() -> bytes:
        asset = await source.stat("big.js")
        assert asset is not None
        await asyncio.gather(*(source.read(asset) for _ in range(32)))
        (root / "big.js").write_bytes(b"changed")  # a cached file is not read again
        return await source.read(asset)

    assert asyncio.run(scenario()) == b"j" * 100
