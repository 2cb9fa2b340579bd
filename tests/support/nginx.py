"""A real nginx in front of hexlit replicas, on a loopback port, for the replica tests.

`nginx_proxy([port_a, port_b])` writes a config into a temporary folder (pid file, logs and
every temp path inside it), runs `nginx -c CONF -p DIR -e ERROR_LOG` as one foreground
process (`daemon off; master_process off;`), waits until its port accepts, and stops it by
PID (SIGTERM, bounded wait, then SIGKILL). Output goes to files, never to pipes.

Routing (the same config is explained in docs/deploy.md):

- every plain HTTP request (health, host-config, frontend, media, uploads, login callback)
  goes round-robin to all replicas: none of them needs affinity;
- `/_stcore/stream` (the WebSocket, under any base path) goes to a second upstream.
  By default (`sticky_websocket=True`) it hashes the client address
  (`hash $remote_addr consistent`), so a browser's reconnects return to the replica
  holding its live app session; all test traffic comes from 127.0.0.1, so every
  WebSocket through this proxy lands on the same replica. That is an optimisation, not
  a requirement: `sticky_websocket=False` makes the WebSocket round-robin too, the
  configuration docs/deploy.md shows, where a reconnect that lands on the other
  replica restores the session from its snapshot (ADR 0011).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.net import free_port
from tests.support.processes import stop_process

NGINX = os.environ.get("HEXLIT_TEST_NGINX", "/usr/sbin/nginx")
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


@dataclass
class NginxProxy:
    """A running nginx: `url` is `http://127.0.0.1:PORT`, `folder` holds its config and logs."""

    port: int
    folder: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def logs(self) -> str:
        """The error log and the access log, for an assertion message."""
        parts = []
        for name in ("error.log", "access.log", "stdout.log"):
            path = self.folder / name
            if path.exists():
                parts.append(f"--- {name}\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(parts)


def nginx_config(folder: Path, port: int, upstreams: list[int], sticky_websocket: bool) -> str:
    """The whole nginx.conf: one process, everything under `folder`, loopback only."""
    servers = "".join(f"        server 127.0.0.1:{upstream};\n" for upstream in upstreams)
    stream_balance = "        hash $remote_addr consistent;\n" if sticky_websocket else ""
    temp = {name: folder / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    return f"""\
daemon off;
master_process off;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} info;

events {{
    worker_connections 1024;
}}

http {{
    access_log {folder / "access.log"};
    client_body_temp_path {temp["client_body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};

    # Plain HTTP: any replica will do (media, uploads and sessions are shared via Redis).
    upstream hexlit {{
{servers}        keepalive 16;
    }}

    # The WebSocket: round-robin, or hashed on the client address so reconnects come
    # back to the replica holding the live session (optional: snapshots restore it
    # anywhere).
    upstream hexlit_stream {{
{stream_balance}{servers}    }}

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}

    server {{
        listen 127.0.0.1:{port};

        # hexlit enforces server.maxUploadSize itself (from Content-Length and while
        # streaming); nginx neither caps nor buffers uploads.
        client_max_body_size 0;
        proxy_request_buffering off;

        # Which replica answered (for the tests and for debugging; drop it in production).
        add_header X-Upstream $upstream_addr always;

        # proxy_set_header is inherited only by a location that sets none itself, so
        # each location lists all of its headers.
        location ~ /_stcore/stream$ {{
            proxy_pass http://hexlit_stream;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_read_timeout 1d;
            proxy_send_timeout 1d;
            proxy_buffering off;
        }}

        location / {{
            proxy_pass http://hexlit;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


@contextmanager
def nginx_proxy(
    upstreams: list[int], sticky_websocket: bool = True, port: int | None = None
) -> Iterator[NginxProxy]:
    """Run nginx in front of `127.0.0.1:PORT` for each upstream, on `port` (127.0.0.1) or
    a free one: pass `port` when the replicas must know the public URL before it runs."""
    if not upstreams:
        raise ValueError("nginx_proxy needs at least one upstream port")
    with tempfile.TemporaryDirectory(prefix="hexlit-nginx-") as name:
        folder = Path(name)
        port = port or free_port()
        config = folder / "nginx.conf"
        config.write_text(nginx_config(folder, port, upstreams, sticky_websocket))
        command = [NGINX, "-c", str(config), "-p", str(folder), "-e", str(folder / "error.log")]
        with open(folder / "stdout.log", "wb") as output:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT
            )
        proxy = NginxProxy(port, folder, process)
        try:
            _wait_until_listening(proxy)
            yield proxy
        finally:
            stop_process(process, STOP_TIMEOUT)


def _wait_until_listening(proxy: NginxProxy) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proxy.process.poll() is not None:
            raise AssertionError(
                f"nginx exited with {proxy.process.returncode} at start\n{proxy.logs()}"
            )
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", proxy.port), 0.5):
            return
        time.sleep(0.05)
    raise AssertionError(
        f"nginx did not listen on {proxy.port} in {START_TIMEOUT}s\n{proxy.logs()}"
    )
