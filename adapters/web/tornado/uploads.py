"""`PUT/DELETE/OPTIONS {base}/_stcore/upload_file/{session}/{file}`: streamed uploads."""

from __future__ import annotations

import asyncio

import tornado.web

from hexlit.adapters.web import requests, responses
from hexlit.adapters.web.tornado.render import WebResponseHandler
from hexlit.ports.cors import Cors
from hexlit.ports.errors import HexlitError
from hexlit.ports.uploads import UploadCors, UploadRequest, Uploads, UploadSink

UNLIMITED_BODY = 1 << 62
"""The upload rules bound the body, chunk by chunk; Tornado's own cap would answer 400."""


@tornado.web.stream_request_body
class UploadHandler(WebResponseHandler):
    """The body streams in through `data_received`; the use case sees every chunk."""

    def initialize(self, cors: Cors, uploads: Uploads) -> None:  # type: ignore[override]
        super().initialize(cors)
        self._uploads = uploads
        self._sink: UploadSink | None = None
        self._failure: HexlitError | None = None
        self._cors = UploadCors(None, False)

    def upload_request(self, session_id: str, file_id: str) -> UploadRequest:
        return requests.upload_request(session_id, file_id, self.request.headers)

    async def prepare(self) -> None:
        headers = self.request.headers
        self._cors = self._uploads.cors(headers.get("Origin"), headers.get("Host"))
        if self.request.method != "PUT":
            return
        self.request.connection.set_max_body_size(UNLIMITED_BODY)  # type: ignore[union-attr]
        try:
            self._sink = await self._uploads.begin(self.upload_request(**self.path_kwargs))
        except HexlitError as failure:
            self.write_response(responses.upload_failed(failure, self._cors))

    async def data_received(self, chunk: bytes) -> None:
        if self._sink is None or self._failure is not None:
            return
        try:
            await self._sink.feed(chunk)
        except HexlitError as failure:  # answer now; the rest of the body is not read
            self._failure = failure
            self.write_response(responses.upload_failed(failure, self._cors))
            self.request.connection.close()  # type: ignore[union-attr]

    async def put(self, session_id: str, file_id: str) -> None:
        if self._sink is None or self._failure is not None:
            return
        try:
            await self._sink.finish()
        except HexlitError as failure:
            self.write_response(responses.upload_failed(failure, self._cors))
            return
        self.write_response(responses.upload_done(self._cors))

    async def delete(self, session_id: str, file_id: str) -> None:
        try:
            await self._uploads.delete(self.upload_request(session_id, file_id))
        except HexlitError as failure:
            self.write_response(responses.upload_failed(failure, self._cors))
            return
        self.write_response(responses.upload_done(self._cors))

    def options(self, session_id: str, file_id: str) -> None:
        self.write_response(responses.upload_done(self._cors))

    def on_connection_close(self) -> None:
        if self._sink is not None:
            self._aborting = asyncio.ensure_future(self._sink.abort())
