"""Streamlit's storage interfaces, implemented on hexlit's core.

Streamlit calls `MediaFileStorage` and `UploadedFileManager` synchronously, from script
threads (and sometimes from the event loop). The core is async and lives on the event
loop: from another thread a call is run there and waited for (bounded); on the loop
itself only fire-and-forget work (deletions) is possible, so that is all that is done
there. Media ids are computed synchronously, so `load_and_get_id` never needs the loop
to answer.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from streamlit.runtime.media_file_storage import (
    MediaFileKind,
    MediaFileStorage,
    MediaFileStorageError,
)
from streamlit.runtime.memory_media_file_storage import get_extension_for_mimetype
from streamlit.runtime.stats import CacheStat, StatsProvider
from streamlit.runtime.uploaded_file_manager import (
    UploadedFileManager,
    UploadedFileRec,
    UploadFileUrlInfo,
)

from hexlit.ports.media import MediaKind, MediaLibrary
from hexlit.ports.uploads import UploadedFiles

log = logging.getLogger("hexlit.runtime.streamlit")
T = TypeVar("T")
CALL_TIMEOUT = 120.0
MEDIA_ENDPOINT = "/media"


class _OnLoop:
    """Runs core coroutines on the server's loop from Streamlit's threads."""

    def __init__(self) -> None:
        """Make it on the loop's thread: it remembers which loop and thread that is."""
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._pending: set[Any] = set()

    def on_loop_thread(self) -> bool:
        return threading.get_ident() == self._thread

    def wait(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if self.on_loop_thread():
            coroutine.close()
            raise RuntimeError("cannot wait for the event loop on the event loop")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(CALL_TIMEOUT)

    def soon(self, coroutine: Coroutine[Any, Any, None]) -> None:
        """Run without waiting (from any thread); failures are logged."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Any) -> None:
        self._pending.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.warning("background storage call failed: %s", future.exception())


class MediaBridge(MediaFileStorage):
    """`MediaFileStorage` on hexlit's `MediaLibrary`."""

    def __init__(self, library: MediaLibrary) -> None:
        self._library = library
        self._loop = _OnLoop()
        self._extensions: dict[str, str] = {}

    def load_and_get_id(
        self,
        path_or_data: str | bytes,
        mimetype: str,
        kind: MediaFileKind,
        filename: str | None = None,
    ) -> str:
        data = _read(path_or_data)
        hexlit_kind = MediaKind(kind.value)
        media_id = self._library.media_id(data, mimetype, hexlit_kind, filename)
        self._extensions[media_id] = get_extension_for_mimetype(mimetype)
        add = self._library.add(data, mimetype, hexlit_kind, filename)
        if self._loop.on_loop_thread():
            self._loop.soon(_discard(add))  # stored before the URL can reach a browser
        else:
            self._loop.wait(add)
        return media_id

    def get_url(self, file_id: str) -> str:
        extension = self._extensions.get(file_id)
        if extension is None:
            raise MediaFileStorageError(
                f"Bad filename '{file_id}'. (No media file with id '{file_id}')"
            )
        return f"{MEDIA_ENDPOINT}/{file_id}{extension}"

    def delete_file(self, file_id: str) -> None:
        self._extensions.pop(file_id, None)
        self._loop.soon(self._library.remove(file_id))


class UploadBridge(UploadedFileManager, StatsProvider):
    """`UploadedFileManager` on hexlit's `UploadedFiles`."""

    def __init__(self, files: UploadedFiles) -> None:
        self._files = files
        self._loop = _OnLoop()

    def get_files(self, session_id: str, file_ids: Sequence[str]) -> list[UploadedFileRec]:
        found = self._loop.wait(self._files.files(session_id, list(file_ids)))
        return [UploadedFileRec(f.file_id, f.name, f.content_type, data) for f, data in found]

    def remove_session_files(self, session_id: str) -> None:
        self._loop.soon(self._files.remove_session(session_id))

    def remove_file(self, session_id: str, file_id: str) -> None:
        self._loop.soon(self._files.remove(session_id, file_id))

    def get_upload_urls(
        self, session_id: str, file_names: Sequence[str]
    ) -> list[UploadFileUrlInfo]:
        pairs = self._files.upload_urls(session_id, len(file_names))
        return [UploadFileUrlInfo(file_id, url, url) for file_id, url in pairs]

    @property
    def stats_families(self) -> Sequence[str]:
        return ()

    def get_stats(
        self, family_names: Sequence[str] | None = None
    ) -> Mapping[str, Sequence[CacheStat]]:
        return {}


def _read(path_or_data: str | bytes) -> bytes:
    if isinstance(path_or_data, bytes):
        return path_or_data
    try:
        return Path(path_or_data).read_bytes()
    except OSError as error:
        raise MediaFileStorageError(f"Error opening '{path_or_data}': {error}") from error


async def _discard(coroutine: Coroutine[Any, Any, Any]) -> None:
    await coroutine
