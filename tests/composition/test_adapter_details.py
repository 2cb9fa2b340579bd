"""Two details that cost a lot when wrong, found by the rerun benchmark."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

from hexlit.adapters.web.settings import BindSettings
from hexlit.adapters.web.sockets import bind_socket


def test_accepted_sockets_send_small_frames_at_once() -> None:
    """Without TCP_NODELAY each rerun waits ~40 ms on the client's delayed ACK."""

    async def scenario() -> int:
        listener = bind_socket(BindSettings(host="127.0.0.1", port=0))
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(handle, sock=listener)
        async with server:
            _, writer = await asyncio.open_connection("127.0.0.1", listener.getsockname()[1])
            nodelay = await asyncio.wait_for(accepted, 10)
            writer.close()
            await writer.wait_closed()
        return nodelay

    assert asyncio.run(scenario()) != 0


def test_streamlit_options_from_flags_reach_streamlit_typed(tmp_path: Path) -> None:
    """`--runner.postScriptGC false` is the text "false" (true to Python) until hexlit
    types it with Streamlit's own type; Streamlit then gets False."""
    from streamlit import config

    from hexlit.adapters.runtime.streamlit.process import prepare_process
    from hexlit.composition.settings import load_config

    script = tmp_path / "app.py"
    script.write_text("import streamlit as st\n")
    flags = {"runner.postScriptGC": "false", "server.maxUploadSize": "7"}
    loaded = load_config(flags, {}, tmp_path, tmp_path)
    prepare_process(script, {key: loaded[key] for key in loaded.explicit})
    assert config.get_option("runner.postScriptGC") is False
    assert config.get_option("server.maxUploadSize") == 7
