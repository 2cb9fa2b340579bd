"""Uploads and session lifetimes: the upload rules of the core, against a small model.

`UploadService` (the upload routes) and `UploadedFilesService` (the runtime) share one
`MemoryUploadStore`; a fake `SessionDirectory` says which sessions are live. The model is
the set of live sessions and `{(session, file id): bytes}`, what the runtime must read.
The machine checks, after every step, over every (session, file id) ever used:

- nothing outlives its session: once `remove_session` ran (what `SessionService` calls
  when a session ends), neither `files()` nor the store holds anything of it;
- nothing crosses sessions: `files(s, ids)` returns only files uploaded to `s`, even when
  another session has a file with the same id;
- an upload to a session that is not live is refused (`BadRequest`) and stores nothing;
- an upload that fails (over the size limit, two file parts, no file, truncated body,
  bad XSRF) or is abandoned half-way stores nothing and leaves an earlier file with the
  same ids as it was;
- delete removes exactly that file; a later upload with the same ids replaces it.

Each machine runs its own event loop; no pytest plugin is involved.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)

from hexlit.adapters.formats.multipart import PythonMultipart
from hexlit.adapters.storage.memory import MemoryUploadStore
from hexlit.domain.origin_policy import OriginPolicy
from hexlit.domain.upload_service import (
    FRAMING_MARGIN,
    UploadedFilesService,
    UploadLimits,
    UploadService,
)
from hexlit.domain.xsrf import XsrfToken, encode_token
from hexlit.ports.errors import BadRequest, Forbidden, PayloadTooLarge
from hexlit.ports.uploads import UploadedFile, UploadRequest, UploadSink

from .fakes import SequentialIds

T = TypeVar("T")

MAX_BYTES = 64
BOUNDARY = "----B"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
TOKEN = encode_token(XsrfToken(bytes(range(16)), 1_700_000_000), b"\x01\x02\x03\x04")
OTHER_TOKEN = encode_token(XsrfToken(bytes(range(1, 17)), 1_700_000_000), b"\x01\x02\x03\x04")
FILE_IDS = ("f-1", "f-2", "f-3")
NEVER_STARTED = "s-never"
FILE_NAME = "f.bin"
FILE_TYPE = "application/octet-stream"

payloads = st.binary(min_size=0, max_size=MAX_BYTES)
too_big_payloads = st.binary(min_size=MAX_BYTES + 1, max_size=2 * MAX_BYTES)
chunk_sizes = st.lists(st.integers(1, 48), min_size=1, max_size=8)


# -- helpers -------------------------------------------------------------------------------


def part(data: bytes, name: str = "f", filename: str = FILE_NAME) -> bytes:
    return (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        f"Content-Type: {FILE_TYPE}\r\n"
        "\r\n"
    ).encode() + data


def body(*files: bytes) -> bytes:
    """A multipart body with these files as parts, closed by `--boundary--`."""
    parts = b"\r\n".join(part(data) for data in files)
    closing = f"--{BOUNDARY}--\r\n".encode()
    return parts + b"\r\n" + closing if files else closing


def split(payload: bytes, sizes: list[int]) -> list[bytes]:
    """`payload` in chunks whose sizes cycle through `sizes`."""
    out, pos, index = [], 0, 0
    while pos < len(payload):
        size = sizes[index % len(sizes)]
        out.append(payload[pos : pos + size])
        pos += size
        index += 1
    return out


def request(
    session_id: str,
    file_id: str,
    content_length: int | None = None,
    token: str = TOKEN,
) -> UploadRequest:
    return UploadRequest(
        session_id=session_id,
        file_id=file_id,
        content_length=None if content_length is None else str(content_length),
        content_type=CONTENT_TYPE,
        xsrf_header=token,
        cookie_header=f"_streamlit_xsrf={TOKEN}",
    )


def expected_file(session_id: str, file_id: str, data: bytes) -> tuple[UploadedFile, bytes]:
    return UploadedFile(session_id, file_id, FILE_NAME, FILE_TYPE, len(data)), data


class Directory:
    """A `SessionDirectory`: the live sessions are a set the test edits."""

    def __init__(self) -> None:
        self.active: set[str] = set()

    async def is_active(self, session_id: str) -> bool:
        return session_id in self.active


class World:
    """The two services over one store, as the composition root wires them."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.store = MemoryUploadStore()
        self.sessions = Directory()
        self.ids = SequentialIds("s")
        self.files = UploadedFilesService(self.store, SequentialIds("f"))
        self.uploads = UploadService(
            self.store,
            self.sessions,
            OriginPolicy(),
            UploadLimits(max_bytes=max_bytes),
            self.files,
            multipart=PythonMultipart(),
        )

    def start_session(self) -> str:
        session_id = self.ids.new_id()
        self.sessions.active.add(session_id)
        return session_id

    async def end_session(self, session_id: str) -> None:
        """What `SessionService` does when a session ends for good."""
        self.sessions.active.discard(session_id)
        await self.files.remove_session(session_id)

    async def upload(
        self, session_id: str, file_id: str, data: bytes, sizes: list[int] | None = None
    ) -> None:
        raw = body(data)
        sink = await self.uploads.begin(request(session_id, file_id, len(raw)))
        for chunk in split(raw, sizes or [len(raw)]):
            await sink.feed(chunk)
        await sink.finish()

    async def held(self, session_id: str) -> list[str]:
        """The file ids the store holds for the session, among every id the tests use."""
        return [fid for fid in FILE_IDS if await self.store.get(session_id, fid) is not None]


def run(coroutine: Awaitable[T]) -> T:
    async def main() -> T:
        return await coroutine

    return asyncio.run(main())


# -- plain tests -----------------------------------------------------------------------------


def test_an_upload_is_readable_by_its_session_only() -> None:
    world = World()
    a, b = world.start_session(), world.start_session()

    async def scenario() -> None:
        await world.upload(a, "f-1", b"hello", [2])
        assert await world.files.files(a, ["f-1"]) == [expected_file(a, "f-1", b"hello")]
        assert await world.files.files(b, ["f-1"]) == []
        await world.upload(b, "f-1", b"other")
        assert await world.files.files(a, ["f-1"]) == [expected_file(a, "f-1", b"hello")]
        assert await world.files.files(b, ["f-1"]) == [expected_file(b, "f-1", b"other")]

    run(scenario())


def test_files_go_with_their_session_and_only_theirs() -> None:
    world = World()
    a, b = world.start_session(), world.start_session()

    async def scenario() -> None:
        for fid in FILE_IDS:
            await world.upload(a, fid, fid.encode())
            await world.upload(b, fid, b"b" + fid.encode())
        await world.end_session(a)
        assert await world.files.files(a, FILE_IDS) == []
        assert await world.held(a) == []
        assert world.store.stored_bytes == sum(len(b"b" + fid.encode()) for fid in FILE_IDS)
        with pytest.raises(BadRequest):
            await world.uploads.begin(request(a, "f-1"))
        assert await world.held(a) == []
        assert len(await world.files.files(b, FILE_IDS)) == len(FILE_IDS)

    run(scenario())


def test_a_file_at_the_limit_passes_and_one_byte_more_is_refused() -> None:
    world = World()
    a = world.start_session()

    async def scenario() -> None:
        await world.upload(a, "f-1", b"x" * MAX_BYTES, [7])
        with pytest.raises(PayloadTooLarge):
            await world.upload(a, "f-1", b"y" * (MAX_BYTES + 1), [7])
        assert await world.files.files(a, ["f-1"]) == [expected_file(a, "f-1", b"x" * MAX_BYTES)]

    run(scenario())


def test_an_upload_in_flight_when_its_session_ends_leaves_nothing() -> None:
    world = World()
    a = world.start_session()
    payload = body(b"late")

    async def scenario() -> None:
        sink = await world.uploads.begin(request(a, "f-1", len(payload)))
        await sink.feed(payload[:10])
        await world.end_session(a)  # the tab closed and the session expired
        with contextlib.suppress(BadRequest):  # refusing the rest would be fine too
            await sink.feed(payload[10:])
            await sink.finish()
        assert await world.files.files(a, ["f-1"]) == []
        assert await world.held(a) == []

    run(scenario())


# -- the state machine -----------------------------------------------------------------------


@dataclass(eq=False)
class Pending:
    """An upload whose body has been partly fed; finished or aborted by a later step."""

    session_id: str
    file_id: str
    data: bytes
    sink: UploadSink
    rest: list[bytes]


FAILURES = (
    *("too_big", "body_too_big", "declared_too_big", "two_parts", "no_file", "truncated"),
    *("abandoned", "bad_xsrf", "inactive", "never_started", "bad_ids"),
)


class UploadMachine(RuleBasedStateMachine):
    """Uploads, deletes and session ends in any order, checked against the model."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.world = World()
        self.started: list[str] = []
        self.ended: list[str] = []
        self.model: dict[tuple[str, str], bytes] = {}
        self.pending: list[Pending] = []

    def teardown(self) -> None:
        async def abort_all() -> None:
            for upload in self.pending:
                await upload.sink.abort()

        try:
            self.loop.run_until_complete(abort_all())
        finally:
            self.loop.close()

    def drive(self, step: Awaitable[T]) -> T:
        async def main() -> T:
            return await step

        return self.loop.run_until_complete(main())

    def live(self) -> list[str]:
        return [sid for sid in self.started if sid not in self.ended]

    def known(self) -> list[str]:
        return [*self.started, NEVER_STARTED]

    # -- sessions ---------------------------------------------------------------------------

    @precondition(lambda self: len(self.started) < 5)
    @rule()
    def start_session(self) -> None:
        sid = self.world.start_session()
        assert sid not in self.started
        self.started.append(sid)
        assert self.drive(self.world.held(sid)) == []

    @precondition(lambda self: self.endable())
    @rule(data=st.data())
    def end_session(self, data: st.DataObject) -> None:
        sid = data.draw(st.sampled_from(self.endable()), label="session")
        self.drive(self.world.end_session(sid))
        self.ended.append(sid)
        for key in [key for key in self.model if key[0] == sid]:
            del self.model[key]

    def endable(self) -> list[str]:
        """Live sessions with no upload in flight (ending one with an upload in flight is
        `test_an_upload_in_flight_when_its_session_ends_leaves_nothing`)."""
        busy = {upload.session_id for upload in self.pending}
        return [sid for sid in self.live() if sid not in busy]

    # -- uploads ----------------------------------------------------------------------------

    @precondition(lambda self: self.live())
    @rule(
        data=st.data(),
        file_id=st.sampled_from(FILE_IDS),
        payload=payloads,
        sizes=chunk_sizes,
        declare=st.booleans(),
    )
    def upload_ok(
        self,
        data: st.DataObject,
        file_id: str,
        payload: bytes,
        sizes: list[int],
        declare: bool,
    ) -> None:
        sid = data.draw(st.sampled_from(self.live()), label="session")
        raw = body(payload)

        async def step() -> None:
            sink = await self.world.uploads.begin(
                request(sid, file_id, len(raw) if declare else None)
            )
            for chunk in split(raw, sizes):
                await sink.feed(chunk)
            await sink.finish()

        self.drive(step())
        self.model[(sid, file_id)] = payload

    @precondition(lambda self: self.live() and len(self.pending) < 3)
    @rule(
        data=st.data(),
        file_id=st.sampled_from(FILE_IDS),
        payload=payloads,
        sizes=chunk_sizes,
    )
    def upload_begin(
        self, data: st.DataObject, file_id: str, payload: bytes, sizes: list[int]
    ) -> None:
        """Start an upload and feed part of its body; it finishes or aborts later."""
        sid = data.draw(st.sampled_from(self.live()), label="session")
        chunks = split(body(payload), sizes)
        cut = data.draw(st.integers(0, len(chunks) - 1), label="chunks fed now")

        async def step() -> UploadSink:
            sink = await self.world.uploads.begin(request(sid, file_id))
            for chunk in chunks[:cut]:
                await sink.feed(chunk)
            return sink

        sink = self.drive(step())
        self.pending.append(Pending(sid, file_id, payload, sink, chunks[cut:]))

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def upload_finish(self, data: st.DataObject) -> None:
        upload = data.draw(st.sampled_from(self.pending), label="upload")
        self.pending.remove(upload)

        async def step() -> None:
            for chunk in upload.rest:
                await upload.sink.feed(chunk)
            await upload.sink.finish()

        self.drive(step())
        self.model[(upload.session_id, upload.file_id)] = upload.data

    @precondition(lambda self: self.pending)
    @rule(data=st.data())
    def upload_abort(self, data: st.DataObject) -> None:
        """The client went away half-way: the earlier file, if any, stays as it was."""
        upload = data.draw(st.sampled_from(self.pending), label="upload")
        self.pending.remove(upload)
        self.drive(upload.sink.abort())
        self.drive(upload.sink.abort())  # idempotent

    @rule(
        data=st.data(),
        failure=st.sampled_from(FAILURES),
        file_id=st.sampled_from(FILE_IDS),
        payload=payloads,
        sizes=chunk_sizes,
    )
    def upload_fails(
        self,
        data: st.DataObject,
        failure: str,
        file_id: str,
        payload: bytes,
        sizes: list[int],
    ) -> None:
        """Every way an upload can fail stores nothing and replaces nothing."""
        live = self.live()
        if failure == "inactive" and self.ended:
            sid = data.draw(st.sampled_from(self.ended), label="ended session")
        elif failure in ("inactive", "never_started") or not live:
            sid, failure = NEVER_STARTED, "never_started"
        else:
            sid = data.draw(st.sampled_from(live), label="session")
        before = self.drive(self.world.held(sid))

        token = OTHER_TOKEN if failure == "bad_xsrf" else TOKEN
        declared: int | None = None
        ids = (sid, file_id) if failure != "bad_ids" else (sid, "../f-1")
        raw = body(payload)
        expected: type[Exception] = BadRequest
        if failure == "too_big":
            raw = body(data.draw(too_big_payloads, label="too big"))
            expected = PayloadTooLarge
        elif failure == "body_too_big":  # the file is fine, the padding is not
            raw = b"\r\n" * ((MAX_BYTES + FRAMING_MARGIN) // 2 + 1) + raw
            sizes = [256 * 1024]
            expected = PayloadTooLarge
        elif failure == "declared_too_big":
            declared = MAX_BYTES + FRAMING_MARGIN + 1
            expected = PayloadTooLarge
        elif failure == "two_parts":
            raw = body(payload, payload)
        elif failure == "no_file":
            raw = body()
        elif failure == "truncated":
            raw = raw[: data.draw(st.integers(0, len(raw) - 3), label="truncated at")]
        elif failure == "bad_xsrf":
            expected = Forbidden

        async def step() -> None:
            sink = await self.world.uploads.begin(request(*ids, declared, token))
            chunks = split(raw, sizes)
            for chunk in chunks:
                await sink.feed(chunk)
            await sink.finish()

        async def abandon() -> None:
            sink = await self.world.uploads.begin(request(*ids, declared, token))
            chunks = split(raw, sizes)
            for chunk in chunks[: data.draw(st.integers(0, len(chunks)), label="fed")]:
                await sink.feed(chunk)
            await sink.abort()
            await sink.abort()  # idempotent

        if failure == "abandoned":
            self.drive(abandon())
        else:
            with pytest.raises(expected):
                self.drive(step())
        assert self.drive(self.world.held(sid)) == before

    # -- deletes ----------------------------------------------------------------------------

    @rule(data=st.data(), file_id=st.sampled_from(FILE_IDS), web=st.booleans())
    def delete(self, data: st.DataObject, file_id: str, web: bool) -> None:
        """By the upload route (DELETE, XSRF-checked) or by the runtime."""
        sid = data.draw(st.sampled_from(self.known()), label="session")
        if web:
            self.drive(self.world.uploads.delete(request(sid, file_id)))
        else:
            self.drive(self.world.files.remove(sid, file_id))
        self.model.pop((sid, file_id), None)

    @precondition(lambda self: self.model)
    @rule(data=st.data())
    def delete_refused_without_xsrf(self, data: st.DataObject) -> None:
        sid, file_id = data.draw(st.sampled_from(sorted(self.model)), label="file")
        with pytest.raises(Forbidden):
            self.drive(self.world.uploads.delete(request(sid, file_id, token=OTHER_TOKEN)))

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def every_session_reads_exactly_its_own_files(self) -> None:
        async def check() -> None:
            for sid in self.known():
                for fid in FILE_IDS:
                    data = self.model.get((sid, fid))
                    want = [] if data is None else [expected_file(sid, fid, data)]
                    assert await self.world.files.files(sid, [fid]) == want, (sid, fid)
                    stored = await self.world.store.get(sid, fid)
                    assert (stored is None) == (data is None), (sid, fid)
                # Several ids at once: in order, unknown ones skipped.
                asked = [*reversed(FILE_IDS), "f-unknown"]
                got = await self.world.files.files(sid, asked)
                assert [file.file_id for file, _ in got] == [
                    fid for fid in asked if (sid, fid) in self.model
                ]
                assert all(file.session_id == sid for file, _ in got)

        self.drive(check())

    @invariant()
    def nothing_outlives_its_session(self) -> None:
        assert all(sid not in self.ended for sid, _ in self.model)
        for sid in self.ended:
            assert self.drive(self.world.held(sid)) == []
        assert self.world.store.stored_bytes == sum(len(data) for data in self.model.values())


UploadMachine.TestCase.settings = settings(max_examples=50, stateful_step_count=30, deadline=None)
test_upload_state_machine = UploadMachine.TestCase
