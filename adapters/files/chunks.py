"""A byte range of a file on disk, streamed in bounded pieces, each read in a thread."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import IO, Final

from hexlit.ports.errors import NotFound

CHUNK: Final = 256 * 1024
"""What is read from disk at a time: the most a streamed file holds in memory."""


async def file_chunks(
    path: Path, start: int, last: int, missing: str
) -> AsyncGenerator[bytes, None]:
    """Bytes `start..last` (inclusive) of the file at `path`, at most `CHUNK` at a time.

    Raises `NotFound(missing)` when first iterated if the file cannot be opened (it
    vanished after its size was read). Stops early if the file became shorter than `last`:
    the answer's length is already promised, so the transport ends the response short.
    """
    try:
        handle: IO[bytes] = await asyncio.to_thread(path.open, "rb")
    except OSError:
        raise NotFound(missing) from None
    try:
        await asyncio.to_thread(handle.seek, start)
        remaining = last - start + 1
        while remaining > 0:
            chunk = await asyncio.to_thread(handle.read, min(CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk
    finally:
        # Not in a thread: closing a file opened for reading does not block, and this
        # also runs when the generator is finalised with no loop left to await on.
        handle.close()
