"""`hexlit run` as a user runs it: a real process, real sockets, real signals."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from hexlit.adapters.web.settings import BindSettings
from hexlit.composition.cli import resolve_target
from hexlit.composition.container import build_container
from hexlit.composition.serve import display_urls, start_server
from hexlit.composition.settings import load_config
from tests.support.net import free_port
from tests.support.stacks import WEB_STACKS

TIMEOUT = 20.0


@contextmanager
def hexlit(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[str]]:
    """`hexlit ARGS` in `cwd`, with no STREAMLIT_/HEXLIT_ variable but those in `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMLIT_", "HEXLIT_"))}
    env = {**clean, "HOME": str(cwd), **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "hexlit.composition", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(TIMEOUT)
        if process.stdout is not None:
            process.stdout.close()


def wait_for_url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        if "URL:" in line:
            return line.split("URL:")[1].strip()
    raise AssertionError(f"hexlit exited with {process.wait(TIMEOUT)} before printing its URL")


@pytest.mark.parametrize("stack", WEB_STACKS)
def test_run_serves_and_stops_cleanly_on_sigterm(stack: str, tmp_path: Path) -> None:
    port = free_port()
    with hexlit(
        "run", "builtin:counter", "--web", stack, "--server.address", "127.0.0.1",
        "--server.port", str(port), cwd=tmp_path,
    ) as process:  # fmt: skip
        url = wait_for_url(process)
        assert url == f"http://127.0.0.1:{port}"
        assert httpx.get(f"{url}/_stcore/health", timeout=TIMEOUT).text == "ok"
        with connect(f"ws://127.0.0.1:{port}/_stcore/stream", open_timeout=TIMEOUT) as ws:
            ws.recv(timeout=TIMEOUT)
            process.send_signal(signal.SIGTERM)
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=TIMEOUT)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1001
        assert process.wait(TIMEOUT) == 0


def test_config_file_in_the_working_directory_is_read(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "config.toml").write_text(
        f'[server]\nport = {port}\naddress = "127.0.0.1"\nbaseUrlPath = "/cfg"\n'
        '[hexlit]\nweb = "tornado"\n'
    )
    with hexlit("run", "builtin:echo", cwd=tmp_path) as process:
        url = wait_for_url(process)
        assert url == f"http://127.0.0.1:{port}/cfg"
        assert process.stdout is not None
        served_by = next(line for line in process.stdout if "Served by" in line)
        assert "Served by hexlit on tornado" in served_by
        assert httpx.get(f"{url}/_stcore/health", timeout=TIMEOUT).text == "ok"
        process.send_signal(signal.SIGINT)
        assert process.wait(TIMEOUT) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "builtin:counter", "--server.port", "x"], "server.port"),
        (["run", "builtin:counter", "--web", "flask"], "must be one of"),
        (["run"], "streamlit_app.py: no such file"),
        (["serve"], "No such command 'serve'"),
        (["run", "builtin:nope", "--server.port", "0"], "unknown built-in app"),
        (["run", "builtin:counter", "--server.port", "70000"], "must be 0 to 65535, not 70000"),
        (["run", "builtin:counter", "--browser.serverPort=-5"], "must be 0 to 65535, not -5"),
        (["run", "builtin:counter", "--hexlit.queueMaxFrames", "0"], "must be at least 1"),
        (
            ["run", "builtin:counter", "--server.folderWatchBlacklst", "x"],
            "Did you mean '--server.folderWatchBlacklist'?",
        ),
        (["run", "builtin:counter", "--server.cookieSecret", "s3cret"], "command-line flag"),
        (["run", "builtin:counter", "--server.maxCacheDataSize", "lots"], '"2gb"'),
        (["run", "builtin:counter", "--runner.fastReruns", "maybe"], "runner.fastReruns"),
        (["run", "https://example.invalid/app.py"], "local scripts only"),
        (["--log_level", "loud", "run", "builtin:counter"], "'loud' is not one of"),
    ],
)
def test_bad_command_lines_exit_2_with_a_reason(
    args: list[str], message: str, tmp_path: Path
) -> None:
    with hexlit(*args, cwd=tmp_path) as process:
        output, _ = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 2
    assert message in output
    assert "Traceback" not in output
    assert "s3cret" not in output


def test_an_explicit_busy_port_exits_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with hexlit(
            "run", "builtin:counter", "--server.address", "127.0.0.1", "--server.port", str(port),
            cwd=tmp_path,
        ) as process:  # fmt: skip
            output, _ = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 1
    assert "cannot listen" in output


@pytest.mark.parametrize("stack", WEB_STACKS)
def test_a_default_port_that_is_busy_moves_to_the_next(stack: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        overrides = {"server.address": "127.0.0.1", "server.port": busy, "hexlit.web": stack}
        container = build_container(load_config(environ={}, overrides=overrides), "builtin:counter")

        async def scenario() -> int:
            server = await start_server(container, port_explicit=False)
            try:
                port: int = server.port
                return port
            finally:
                await container.sessions().stop()
                await server.stop()

        chosen = asyncio.run(scenario())
    assert chosen > busy


def test_the_project_of_the_issue_starts(tmp_path: Path) -> None:
    """Options hexlit does not act on itself (file watching, the cache budget) are
    accepted, not refused: they are Streamlit's to use."""
    port = free_port()
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "config.toml").write_text(
        '[server]\nfolderWatchBlacklist = ["x"]\nmaxCacheDataSize = "2gb"\n'
        f'address = "127.0.0.1"\nport = {port}\n[theme]\nbase = "dark"\n'
    )
    with hexlit("run", "builtin:counter", "--", "a", "b", cwd=tmp_path) as process:
        url = wait_for_url(process)
        assert httpx.get(f"{url}/_stcore/health", timeout=TIMEOUT).text == "ok"
        process.send_signal(signal.SIGINT)
        assert process.wait(TIMEOUT) == 0


def test_run_help_lists_every_option_by_section(tmp_path: Path) -> None:
    with hexlit("run", "--help", cwd=tmp_path) as process:
        output, _ = process.communicate(timeout=TIMEOUT * 3)
    assert process.returncode == 0
    assert "Usage: hexlit run [OPTIONS] [TARGET] [ARGS]..." in output
    for heading in ("[server] options:", "[theme.light] options:", "[hexlit] options:"):
        assert heading in output
    sections = [line for line in output.splitlines() if line.endswith(" options:")]
    assert len(sections) == len(set(sections))  # each section once: grouped
    for flag in ("--server.folderWatchBlacklist", "--runner.fastReruns", "--hexlit.web", "--web"):
        assert f"  {flag} " in output
    assert "--server.cookieSecret" not in output  # hidden, as in Streamlit
    assert "STREAMLIT_THEME_BASE" in output


@pytest.mark.parametrize("args", [["version"], ["--version"]])
def test_version(args: list[str], tmp_path: Path) -> None:
    with hexlit(*args, cwd=tmp_path) as process:
        output, _ = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0
    assert output.strip() == "hexlit, version 0.1.0 (Streamlit 1.67.0)"


def test_config_show_gives_values_sources_and_hides_secrets(tmp_path: Path) -> None:
    (tmp_path / ".streamlit").mkdir()
    config_file = tmp_path / ".streamlit" / "config.toml"
    config_file.write_text('[server]\ncookieSecret = "s3cret"\n[theme]\nbase = "dark"\n')
    env = {"STREAMLIT_RUNNER_FAST_RERUNS": "false", "HEXLIT_REDIS_URL": "redis://:pw@r:6379/0"}
    with hexlit("config", "show", "--server.port", "9999", cwd=tmp_path, env=env) as process:
        output, _ = process.communicate(timeout=TIMEOUT * 3)
    assert process.returncode == 0
    lines = output.splitlines()
    assert "port = 9999  # --server.port" in lines
    assert f'cookieSecret = "********"  # {config_file}' in lines
    assert f'base = "dark"  # {config_file}' in lines
    assert "fastReruns = false  # environment (STREAMLIT_RUNNER_FAST_RERUNS)" in lines
    assert 'redis_url = "redis://:********@r:6379/0"  # environment (HEXLIT_REDIS_URL)' in lines
    assert "maxUploadSize = 200  # default" in lines
    assert "[theme.dark.sidebar]" in lines
    assert "s3cret" not in output
    assert ":pw@" not in output


def test_log_level_is_honoured(tmp_path: Path) -> None:
    """A warning at start shows at the default level, not with `--log_level error`."""
    port = free_port()
    common = ["builtin:counter", "--server.address", "127.0.0.1", "--server.headless", "false"]
    for args, warned in (
        (["run", *common, "--server.port", str(port)], True),
        (["--log_level", "error", "run", *common, "--server.port", str(port)], False),
        (["run", *common, "--server.port", str(port), "--logger.level", "error"], False),
    ):
        with hexlit(*args, cwd=tmp_path) as process:
            assert process.stdout is not None
            before_url = []
            for line in process.stdout:
                before_url.append(line)
                if "URL:" in line:
                    break
            process.send_signal(signal.SIGINT)
            assert process.wait(TIMEOUT) == 0
        shown = "".join(before_url)
        assert ("server.headless" in shown) is warned, shown
        assert shown.count("never opens a browser") == int(warned)


def test_a_folder_target_runs_its_streamlit_app(tmp_path: Path) -> None:
    (tmp_path / "streamlit_app.py").write_text("")
    assert resolve_target(str(tmp_path)) == str(tmp_path / "streamlit_app.py")
    assert resolve_target("builtin:echo") == "builtin:echo"
    assert resolve_target("app.py") == "app.py"


def test_no_target_runs_streamlit_app_py(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "streamlit_app.py").write_text("import streamlit as st\nst.write('hi')\n")
    args = ["run", "--server.address", "127.0.0.1", "--server.port", str(port)]
    with hexlit(*args, cwd=tmp_path) as process:
        url = wait_for_url(process)
        assert httpx.get(f"{url}/_stcore/health", timeout=TIMEOUT).text == "ok"
        process.send_signal(signal.SIGINT)
        assert process.wait(TIMEOUT) == 0


@pytest.mark.parametrize(
    ("bind", "explicit", "expected"),
    [
        (
            BindSettings(host="", port=8501),
            {},
            ["Local URL: http://localhost:8501/x", "Network URL: http://10.1.2.3:8501/x"],
        ),
        (BindSettings(host="::", port=8501), {}, ["Local URL: http://localhost:8501/x"]),
        (BindSettings(host="127.0.0.1", port=8501), {}, ["URL: http://127.0.0.1:8501/x"]),
        (BindSettings(host="::1", port=8501), {}, ["URL: http://[::1]:8501/x"]),
        (
            BindSettings(host="", port=8501, tls_cert="c.pem", tls_key="k.pem"),
            {"browser.serverAddress": "app.example.com", "browser.serverPort": 443},
            ["URL: https://app.example.com:443/x"],
        ),
        (BindSettings(unix_socket="/tmp/s.sock"), {}, ["Unix Socket: unix:///tmp/s.sock"]),
    ],
)
def test_banner_urls_follow_streamlit(
    bind: BindSettings, explicit: dict[str, object], expected: list[str]
) -> None:
    network = "10.1.2.3" if bind.host == "" else None
    assert display_urls(bind, 8501, "/x", explicit, lambda: network) == expected


def test_a_configuration_streamlit_refuses_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """Streamlit checks its config as a whole when it parses it (here: development mode
    with a port); hexlit asks it before serving, so this is not a traceback later."""
    (tmp_path / "app.py").write_text("import streamlit as st\n")
    args = ["run", "app.py", "--global.developmentMode", "true", "--server.port", "8611"]
    with hexlit(*args, cwd=tmp_path) as process:
        output, _ = process.communicate(timeout=TIMEOUT * 3)
    assert process.returncode == 2
    assert output.strip() == (
        "hexlit: Streamlit refuses this configuration: "
        "server.port does not work when global.developmentMode is true."
    )


def test_the_target_may_come_from_streamlit_run_target(tmp_path: Path) -> None:
    port = free_port()
    args = ["run", "--server.address", "127.0.0.1", "--server.port", str(port)]
    with hexlit(*args, cwd=tmp_path, env={"STREAMLIT_RUN_TARGET": "builtin:echo"}) as process:
        url = wait_for_url(process)
        assert httpx.get(f"{url}/_stcore/health", timeout=TIMEOUT).text == "ok"
        process.send_signal(signal.SIGINT)
        assert process.wait(TIMEOUT) == 0


def test_config_show_reads_the_app_folder_too(tmp_path: Path) -> None:
    (tmp_path / "app" / ".streamlit").mkdir(parents=True)
    (tmp_path / "app" / "app.py").write_text("")
    app_config = tmp_path / "app" / ".streamlit" / "config.toml"
    app_config.write_text("[runner]\nfastReruns = false\n")
    with hexlit("config", "show", "app", cwd=tmp_path) as process:
        output, _ = process.communicate(timeout=TIMEOUT * 3)
    assert process.returncode == 0
    assert f"fastReruns = false  # {app_config}" in output.splitlines()
