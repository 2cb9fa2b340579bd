"""Configuration, read the way Streamlit reads it, into one plain nested mapping.

Sources, later ones winning: built-in defaults, `~/.streamlit/config.toml`,
`./.streamlit/config.toml`, the app folder's `.streamlit/config.toml`, environment
variables (`STREAMLIT_SERVER_PORT=8502`, `HEXLIT_WEB=tornado`), command-line flags
(`--server.port 8502`, `--hexlit.web tornado`, or the shortcut `--web tornado`).
hexlit's own options live in the `[hexlit]` section.

Every known option has a type; a value that does not fit is a `ConfigError` naming the
option and its source. Options of other sections Streamlit knows (theme, runner, ...)
are kept as they are; unknown `server.*` and `hexlit.*` options are errors.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final


class ConfigError(ValueError):
    """A configuration value or flag that cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Option:
    kind: type | tuple[type, ...]
    default: Any


OPTIONS: Final[dict[str, Option]] = {
    "hexlit.tracing": Option(
        str, "off", help="OpenTelemetry traces: off, or otlp (needs the otel extra)."
    ),
    "hexlit.logFormat": Option(str, "text", help="Log lines: text for people, json for machines."),
    "server.port": Option(int, 8501),
    "server.address": Option(str, None),
    "server.baseUrlPath": Option(str, ""),
    "server.headless": Option(bool, True),
    "server.enableCORS": Option(bool, True),
    "server.corsAllowedOrigins": Option(list, []),
    "server.allowedHosts": Option(list, []),
    "server.enableXsrfProtection": Option(bool, True),
    "server.xsrfCookieSameSite": Option(str, "lax"),
    "server.cookieSecret": Option(str, None),
    "server.maxUploadSize": Option(int, 200),
    "server.maxMessageSize": Option(int, 200),
    "server.maxWidgetStateSize": Option(int, 25),
    "server.enableWebsocketCompression": Option(bool, False),
    "server.websocketPingInterval": Option(int, None),
    "server.scriptHealthCheckEnabled": Option(bool, False),
    "server.disconnectedSessionTTL": Option(float, 120.0),
    "server.enableStaticServing": Option(bool, False),
    "server.sslCertFile": Option(str, None),
    "server.sslKeyFile": Option(str, None),
    "server.trustedUserHeaders": Option(dict, {}),
    "server.runOnSave": Option(bool, False),
    "server.fileWatcherType": Option(str, "auto"),
    "browser.serverAddress": Option(str, "localhost"),
    "browser.serverPort": Option(int, None),
    "browser.gatherUsageStats": Option(bool, False),
    "client.allowedOrigins": Option(list, []),
    "global.developmentMode": Option(bool, False),
    "hexlit.web": Option(str, "starlette"),
    "hexlit.runtime": Option(str, "auto"),
    "hexlit.queueMaxFrames": Option(int, 500),
    "hexlit.queueMaxBytes": Option(int, 64 * 1024 * 1024),
    "hexlit.maxDisconnectedSessions": Option(int, 128),
    "hexlit.store": Option(str, "memory"),
    "hexlit.loop": Option(str, "auto"),
    "hexlit.http": Option(str, "auto"),
    "hexlit.storeDir": Option(str, ""),
    "hexlit.redis_url": Option(str, "redis://127.0.0.1:6379/0"),
    # Connection timeouts, the same on both stacks (docs/configuration.md).
    "hexlit.headerTimeoutSeconds": Option(float, 10.0),
    "hexlit.idleTimeoutSeconds": Option(float, 5.0),
    "hexlit.bodyTimeoutSeconds": Option(float, 60.0),
    # Session snapshots (docs/adr/, "sessions that outlive their process").
    "hexlit.sessionSnapshots": Option(str, "auto"),
    "hexlit.snapshotMaxBytes": Option(int, 1024 * 1024),
}

CHOICES: Final[dict[str, tuple[str, ...]]] = {
    "hexlit.tracing": ("off", "otlp"),
    "hexlit.logFormat": ("text", "json"),
    "hexlit.web": ("starlette", "tornado"),
    "hexlit.runtime": ("auto", "builtin", "streamlit"),
    "hexlit.store": ("memory", "filesystem", "redis"),
    "hexlit.loop": ("auto", "asyncio", "uvloop"),
    "hexlit.http": ("auto", "h11", "httptools"),
    "hexlit.sessionSnapshots": ("auto", "on", "off"),
    "server.xsrfCookieSameSite": ("lax", "strict", "none"),
}

KIND_NAMES: Final[dict[Any, str]] = {
    int: "an integer",
    float: "a number",
    bool: "true or false",
    str: "a string",
    list: "a list of strings",
    dict: "a table (or a JSON object)",
}
CHECKED_SECTIONS: Final = ("server", "hexlit")
SHORTCUTS: Final = {"web": "hexlit.web"}


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    """Every option's value, and which options were set explicitly (not defaulted)."""

    values: Mapping[str, Any]
    explicit: frozenset[str]
    folders: tuple[Path, ...] = ()
    """Where `.streamlit/` files were looked for, in order (secrets.toml too)."""

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def nested(self) -> dict[str, Any]:
        """`{"server": {"port": 8501, ...}, "hexlit": {...}}`, for the DI `Configuration`."""
        tree: dict[str, Any] = {}
        for key, value in self.values.items():
            section, _, name = key.partition(".")
            tree.setdefault(section, {})[name] = value
        return tree


def load_config(
    flags: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    home: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    script_dir: Path | None = None,
) -> LoadedConfig:
    """Merge every source into a `LoadedConfig`; raise `ConfigError` on a bad value.

    `overrides` are typed values set in code (the embedding API); they win over flags.
    `script_dir`: the app script's folder; its `.streamlit/config.toml` comes after the
    working directory's, as in Streamlit.
    """
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    home = Path.home() if home is None else home
    values: dict[str, Any] = {key: option.default for key, option in OPTIONS.items()}
    explicit: set[str] = set()

    def put(key: str, value: Any, source: str) -> None:
        values[key] = _coerce(key, value, source)
        explicit.add(key)

    folders = [home, cwd] + ([script_dir] if script_dir and script_dir != cwd else [])
    for path in [folder / ".streamlit" / "config.toml" for folder in folders]:
        for key, value in _read_toml(path).items():
            put(key, value, str(path))
    for key, value in _from_environ(environ).items():
        put(key, value, "the environment")
    for raw_key, value in (flags or {}).items():
        key = SHORTCUTS.get(raw_key, raw_key)
        put(key, value, f"--{raw_key}")
    for key, value in (overrides or {}).items():
        put(key, value, "code")
    return LoadedConfig(values, frozenset(explicit), tuple(folders))


def parse_flags(args: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """Split `args` into positionals and `--section.option value` flags.

    Accepts `--key value` and `--key=value`; `--web` is the shortcut for `--hexlit.web`.
    """
    positionals: list[str] = []
    flags: dict[str, str] = {}
    index = 0
    while index < len(args):
        arg = args[index]
        if not arg.startswith("--"):
            positionals.append(arg)
            index += 1
            continue
        key, sep, value = arg[2:].partition("=")
        if not sep:
            if index + 1 >= len(args):
                raise ConfigError(f"--{key} needs a value")
            value = args[index + 1]
            index += 1
        if "." not in key and key not in SHORTCUTS:
            raise ConfigError(f"unknown flag --{key}; options look like --server.port 8502")
        flags[key] = value
        index += 1
    return positionals, flags


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    found: dict[str, Any] = {}
    for section, table in document.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: `{section}` must be a [section] of options")
        for name, value in table.items():
            found[f"{section}.{name}"] = value
    return found


def _from_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """`STREAMLIT_SERVER_BASE_URL_PATH` → `server.baseUrlPath`, `HEXLIT_WEB` → `hexlit.web`."""
    by_env_name = {_env_name(key): key for key in OPTIONS}
    return {by_env_name[name]: value for name, value in environ.items() if name in by_env_name}


def _env_name(key: str) -> str:
    section, _, name = key.partition(".")
    snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).upper()
    prefix = "HEXLIT_" if section == "hexlit" else f"STREAMLIT_{section.upper()}_"
    return prefix + snake


def _coerce(key: str, value: Any, source: str) -> Any:
    section = key.partition(".")[0]
    option = OPTIONS.get(key)
    if option is None:
        if section in CHECKED_SECTIONS:
            raise ConfigError(f"unknown option {key} (from {source})")
        return value
    try:
        result = _convert(option.kind, value)
    except (ValueError, TypeError):
        kind = KIND_NAMES.get(option.kind, str(option.kind))
        raise ConfigError(f"{key} (from {source}) must be {kind}, not {value!r}") from None
    choices = CHOICES.get(key)
    if choices is not None and result not in choices:
        raise ConfigError(
            f"{key} (from {source}) must be one of {', '.join(choices)}, not {result!r}"
        )
    return result


def _convert(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on"):
            return True
        if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", "off"):
            return False
        raise ValueError(value)
    if kind is int:
        if isinstance(value, bool):
            raise TypeError(value)
        return int(value)
    if kind is float:
        if isinstance(value, bool):
            raise TypeError(value)
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise TypeError(value)
        return value
    if kind is list:
        if isinstance(value, str):
            stripped = value.strip()
            if stripped.startswith("["):
                value = json.loads(stripped)
            else:
                value = [part.strip() for part in stripped.split(",") if part.strip()]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise TypeError(value)
        return list(value)
    if kind is dict:
        if isinstance(value, str):
            value = json.loads(value)
        if not isinstance(value, dict):
            raise TypeError(value)
        return dict(value)
    raise TypeError(kind)
