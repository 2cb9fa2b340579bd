"""Configuration, read the way Streamlit reads it, into one plain mapping of dotted names.

Sources, later ones winning: built-in defaults, `~/.streamlit/config.toml`,
`./.streamlit/config.toml`, the app folder's `.streamlit/config.toml`, environment
variables (`STREAMLIT_SERVER_PORT=8502`, `HEXLIT_WEB=tornado`), command-line flags
(`--server.port 8502`, `--hexlit.web tornado`, or the shortcut `--web tornado`), and
options set in code (the embedding API). hexlit's own options live in `[hexlit]`.

Every option Streamlit defines is accepted: its names and types come from the installed
Streamlit (`adapters/runtime/streamlit/options.py`), so they are never copied here. The
`OPTIONS` table holds only what hexlit acts on itself, with hexlit's checks (types,
choices, ranges); everything else goes on to Streamlit's config unchanged. Only a name
neither knows is an error, and the message suggests the closest one.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import click

from hexlit.adapters.runtime.streamlit.options import StreamlitOption


class ConfigError(ValueError):
    """A configuration value or flag that cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Option:
    """An option hexlit acts on: its type, default and, for numbers, the allowed range."""

    kind: type | tuple[type, ...]
    default: Any
    low: float | None = None
    high: float | None = None
    help: str = ""
    """For `hexlit run --help`; an option Streamlit also has shows Streamlit's text."""


OPTIONS: Final[dict[str, Option]] = {
    "hexlit.tracing": Option(
        str, "off", help="OpenTelemetry traces: off, or otlp (needs the otel extra)."
    ),
    "hexlit.logFormat": Option(str, "text", help="Log lines: text for people, json for machines."),
    "server.port": Option(int, 8501, low=0, high=65535),
    "server.address": Option(str, None),
    "server.baseUrlPath": Option(str, ""),
    "server.enableCORS": Option(bool, True),
    "server.corsAllowedOrigins": Option(list, []),
    "server.allowedHosts": Option(list, []),
    "server.enableXsrfProtection": Option(bool, True),
    "server.xsrfCookieSameSite": Option(str, "lax"),
    "server.cookieSecret": Option(str, None),
    "server.maxUploadSize": Option(int, 200, low=1),
    "server.maxMessageSize": Option(int, 200, low=1),
    "server.maxWidgetStateSize": Option(int, 25, low=1),
    "server.enableWebsocketCompression": Option(bool, False),
    "server.websocketPingInterval": Option(int, None, low=1),
    "server.scriptHealthCheckEnabled": Option(bool, False),
    "server.disconnectedSessionTTL": Option(float, 120.0, low=0),
    "server.enableStaticServing": Option(bool, False),
    "server.sslCertFile": Option(str, None),
    "server.sslKeyFile": Option(str, None),
    "server.trustedUserHeaders": Option(dict, {}),
    "server.enableAgentApi": Option(bool, False),
    "browser.serverAddress": Option(str, "localhost"),
    "browser.serverPort": Option(int, None, low=0, high=65535),
    # Off unless chosen, where Streamlit's is on (adapters/runtime/streamlit/process.py).
    "browser.gatherUsageStats": Option(bool, False),
    "client.allowedOrigins": Option(list, []),
    "logger.level": Option(str, "info"),
    "hexlit.web": Option(str, "starlette", help="The web stack: starlette or tornado."),
    "hexlit.runtime": Option(
        str, "auto", help="The app runtime: builtin, streamlit, or auto (by the app's name)."
    ),
    "hexlit.queueMaxFrames": Option(
        int, 500, low=1, help="Outbound frames a client may fall behind by before it is closed."
    ),
    "hexlit.queueMaxBytes": Option(
        int, 64 * 1024 * 1024, low=1, help="Outbound bytes a client may fall behind by."
    ),
    "hexlit.maxDisconnectedSessions": Option(
        int, 128, low=0, help="Most disconnected sessions kept for a resume."
    ),
    "hexlit.store": Option(
        str, "memory", help="Where uploads and media live: memory, filesystem or redis."
    ),
    "hexlit.loop": Option(str, "auto", help="The event loop: auto, asyncio or uvloop."),
    "hexlit.http": Option(
        str, "auto", help="uvicorn's HTTP parser (Starlette stack): auto, h11 or httptools."
    ),
    "hexlit.storeDir": Option(str, "", help="Folder of the filesystem store."),
    "hexlit.redis_url": Option(
        str, "redis://127.0.0.1:6379/0", help="The Redis server of the redis store."
    ),
    # Session snapshots (domain/snapshot_rules.py): `auto` is on for the shared stores.
    "hexlit.sessionSnapshots": Option(
        str, "auto", help="Snapshot sessions so another process can resume them: auto, on, off."
    ),
    "hexlit.snapshotMaxBytes": Option(
        int, 1024 * 1024, low=1, help="The largest session snapshot kept, in bytes."
    ),
    # Worker processes on one host (composition/workers.py, ADR 0015): 2, 4, or auto.
    "hexlit.workers": Option(
        (int, str), 1, low=1, help="Worker processes: a number, or auto (one per usable core)."
    ),
    # Connection timeouts, the same on both stacks (docs/configuration.md).
    "hexlit.headerTimeoutSeconds": Option(
        float, 10.0, low=0, help="Seconds a client may take to send request headers."
    ),
    "hexlit.idleTimeoutSeconds": Option(
        float, 5.0, low=0, help="Seconds an idle keep-alive connection stays open."
    ),
    "hexlit.bodyTimeoutSeconds": Option(
        float, 60.0, low=0, help="Seconds a request body may stall."
    ),
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
    "logger.level": ("critical", "error", "warning", "info", "debug"),
}
LOWER_CASE: Final = frozenset({"logger.level"})
"""Options Streamlit reads in any case; hexlit keeps them in lower case."""

SECRETS: Final = frozenset({"server.cookieSecret"})
"""Options that are secrets: never on the command line, masked in `hexlit config show`.
Streamlit marks its own (`sensitive`); a test keeps this set in step with it."""


@dataclass(frozen=True, slots=True)
class Ignored:
    """An option Streamlit has that means nothing under hexlit, and why.

    `matches`: the value that describes what hexlit does anyway; setting it says nothing.
    """

    reason: str
    matches: Any


IGNORED: Final[dict[str, Ignored]] = {
    "server.headless": Ignored("hexlit never opens a browser: it always runs headless", True),
    "server.showEmailPrompt": Ignored("hexlit never asks for an email address", False),
    "logger.hideWelcomeMessage": Ignored("hexlit always prints where the app is served", False),
}

KIND_NAMES: Final[dict[Any, str]] = {
    int: "an integer",
    float: "a number",
    bool: "true or false",
    str: "a string",
    list: "a list of strings",
    dict: "a table (or a JSON object)",
    (int, str): "an integer or a word",
}
CLICK_TYPES: Final[dict[type, click.ParamType[Any]]] = {
    bool: click.BOOL,
    int: click.INT,
    float: click.FLOAT,
    str: click.STRING,
}
"""Text (flags, environment) becomes a typed value the way `streamlit run` converts it."""

SHORTCUTS: Final = {"web": "hexlit.web"}
DEFAULT_SOURCE: Final = "default"
THEME_SUBSECTIONS: Final = ("sidebar", "light", "dark")


@dataclass(frozen=True, slots=True)
class LoadedConfig:
    """Every option's value, where each set one came from, and start-up warnings."""

    values: Mapping[str, Any]
    explicit: frozenset[str]
    folders: tuple[Path, ...] = ()
    """Where `.streamlit/` files were looked for, in order (secrets.toml too)."""
    sources: Mapping[str, str] = field(default_factory=dict)
    """Option → where its value came from: a file, `--flag`, `environment (NAME)`, `code`."""
    warnings: tuple[str, ...] = ()
    """One line per option that is accepted but means nothing under hexlit."""

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def nested(self) -> dict[str, Any]:
        """`{"server": {"port": 8501, ...}, "hexlit": {...}}`, for the DI `Configuration`."""
        tree: dict[str, Any] = {}
        for key, value in self.values.items():
            section, _, name = key.partition(".")
            tree.setdefault(section, {})[name] = value
        return tree


@functools.cache
def streamlit_catalogue() -> Mapping[str, StreamlitOption]:
    """Every option of the installed Streamlit; empty when Streamlit is not installed.

    Loaded on first need only (importing Streamlit takes about 2 s), so a built-in app
    whose options are all in `OPTIONS` starts without it.
    """
    try:
        from hexlit.adapters.runtime.streamlit.options import streamlit_options

        return streamlit_options()
    except ImportError:
        return {}


def is_secret(key: str) -> bool:
    """hexlit's `SECRETS`, or an option Streamlit marks sensitive."""
    if key in SECRETS:
        return True
    spec = None if key in OPTIONS else streamlit_catalogue().get(key)
    return spec is not None and spec.sensitive


def load_config(
    flags: Mapping[str, str | Sequence[str]] | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    home: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    script_dir: Path | None = None,
) -> LoadedConfig:
    """Merge every source into a `LoadedConfig`; raise `ConfigError` on a bad value.

    `flags`: `{"server.port": "8502"}` as given on the command line (text; a list for an
    option given several times). `overrides` are typed values set in code (the embedding
    API); they win over flags. `script_dir`: the app script's folder; its
    `.streamlit/config.toml` comes after the working directory's, as in Streamlit.
    """
    environ = os.environ if environ is None else environ
    cwd = Path.cwd() if cwd is None else cwd
    home = Path.home() if home is None else home
    values: dict[str, Any] = {key: option.default for key, option in OPTIONS.items()}
    sources: dict[str, str] = {}
    warnings: list[str] = []

    def put(key: str, value: Any, source: str, text: bool) -> None:
        values[key] = _coerce(key, value, source, text)
        sources[key] = source

    folders = [home, cwd] + ([script_dir] if script_dir and script_dir != cwd else [])
    for path in [folder / ".streamlit" / "config.toml" for folder in folders]:
        for key, value in _read_toml(path):
            value, note = _maybe_read_env_variable(value, environ)
            if note:
                warnings.append(f"{key} ({path}): {note}")
            put(key, value, str(path), text=False)
    for name, key in _environment_options(environ):
        put(key, environ[name], f"environment ({name})", text=True)
    for raw_key, value in (flags or {}).items():
        key = SHORTCUTS.get(raw_key, raw_key)
        if is_secret(key):
            raise ConfigError(
                f"{key} cannot be set by a command-line flag, where other users of the "
                f"machine can read it; set it in .streamlit/config.toml or "
                f"{env_name(key)}"
            )
        put(key, value, f"--{raw_key}", text=True)
    for key, value in (overrides or {}).items():
        put(key, value, "code", text=False)
    warnings.extend(_ignored_warnings(values, sources))
    return LoadedConfig(values, frozenset(sources), tuple(folders), sources, tuple(warnings))


def effective_options(config: LoadedConfig) -> Iterator[tuple[str, Any, str]]:
    """Every option, hexlit's then Streamlit's: (name, value, where it came from).

    For `hexlit config show`: Streamlit's computed defaults are computed here, which
    makes Streamlit parse its own config."""
    catalogue = streamlit_catalogue()
    for key in [*OPTIONS, *(key for key in catalogue if key not in OPTIONS)]:
        if key in config.sources:
            yield key, config[key], config.sources[key]
        elif key in OPTIONS:
            yield key, OPTIONS[key].default, DEFAULT_SOURCE
        elif catalogue[key].computed:
            from hexlit.adapters.runtime.streamlit.options import computed_default

            yield key, computed_default(key), DEFAULT_SOURCE
        else:
            yield key, catalogue[key].default, DEFAULT_SOURCE


def masked(key: str, value: Any) -> Any:
    """A value fit to print: secrets hidden, a password inside a URL too."""
    if value is None:
        return None
    if is_secret(key):
        return "********"
    if isinstance(value, str):
        return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1********@", value)
    return value


def _read_toml(path: Path) -> Iterator[tuple[str, Any]]:
    if not path.is_file():
        return
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None
    for section, table in document.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: `{section}` must be a [section] of options")
        yield from _flatten(section, table)


def _flatten(section: str, table: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """`[theme.light.sidebar]` tables nest, as in Streamlit; any other table is a value."""
    for name, value in table.items():
        if section.startswith("theme") and name in THEME_SUBSECTIONS and isinstance(value, dict):
            yield from _flatten(f"{section}.{name}", value)
        else:
            yield f"{section}.{name}", value


def _maybe_read_env_variable(value: Any, environ: Mapping[str, str]) -> tuple[Any, str]:
    """Streamlit's `"env:NAME"` values in config.toml: the variable's value, a number
    when it reads as one. A missing variable keeps the text, as in Streamlit."""
    if not (isinstance(value, str) and value.startswith("env:")):
        return value, ""
    name = value.removeprefix("env:")
    if name not in environ:
        return value, f"no environment variable called {name}"
    text = environ[name]
    for number in (int, float):
        try:
            return number(text), ""
        except ValueError:
            pass
    return text, ""


def _environment_options(environ: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """(variable, option) for every variable that names an option.

    `STREAMLIT_SERVER_BASE_URL_PATH` → `server.baseUrlPath`, `HEXLIT_WEB` → `hexlit.web`.
    Other `STREAMLIT_*` names (`STREAMLIT_RUN_TARGET`, ...) are not options: skipped, as
    Streamlit skips them.
    """
    own = {env_name(key): key for key in OPTIONS}
    others: dict[str, str] | None = None
    for name in sorted(environ):
        if name in own:
            yield name, own[name]
        elif name.startswith("STREAMLIT_"):
            if others is None:
                others = {spec.env_var: key for key, spec in streamlit_catalogue().items()}
            if name in others:
                yield name, others[name]


def env_name(key: str) -> str:
    section, _, name = key.partition(".")
    snake = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).upper()
    if section == "hexlit":
        return "HEXLIT_" + snake
    return f"STREAMLIT_{section.replace('.', '_').upper()}_{snake}"


def _ignored_warnings(values: Mapping[str, Any], sources: Mapping[str, str]) -> Iterator[str]:
    for key, ignored in IGNORED.items():
        if key in sources and values[key] != ignored.matches:
            yield f"{key} (from {sources[key]}) has no effect: {ignored.reason}"


def _coerce(key: str, value: Any, source: str, text: bool) -> Any:
    option = OPTIONS.get(key)
    if option is not None:
        return _checked(key, option, value, source)
    spec = None if key.startswith("hexlit.") else streamlit_catalogue().get(key)
    if spec is None:
        if not key.startswith("hexlit.") and not streamlit_catalogue():
            return value  # no Streamlit to check against, and none to read it either
        raise ConfigError(f"unknown option {key} (from {source}){_closest(key)}")
    result = _streamlit_typed(spec, value, source) if text else value
    from hexlit.adapters.runtime.streamlit.options import check_value

    reason = check_value(key, result)
    if reason:
        raise ConfigError(f"{key} (from {source}): {reason}")
    return result


def _closest(key: str) -> str:
    known = [*OPTIONS, *streamlit_catalogue()]
    match = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    return f"; did you mean {match[0]}?" if match else ""


def _streamlit_typed(spec: StreamlitOption, value: Any, source: str) -> Any:
    """Text as the type Streamlit declares, converted the way its command line does."""
    try:
        if spec.multiple:
            return _as_list(value)
        if not isinstance(value, str):
            return value
        return CLICK_TYPES.get(spec.kind, click.STRING).convert(value, None, None)
    except (ValueError, TypeError, click.BadParameter):
        kind = KIND_NAMES[list] if spec.multiple else KIND_NAMES.get(spec.kind, "a value")
        raise ConfigError(f"{spec.key} (from {source}) must be {kind}, not {value!r}") from None


def _checked(key: str, option: Option, value: Any, source: str) -> Any:
    try:
        result = _convert(option.kind, value)
    except (ValueError, TypeError, click.BadParameter):
        kind = KIND_NAMES.get(option.kind, str(option.kind))
        shown = "********" if key in SECRETS else repr(value)
        raise ConfigError(f"{key} (from {source}) must be {kind}, not {shown}") from None
    if key in LOWER_CASE and isinstance(result, str):
        result = result.lower()
    choices = CHOICES.get(key)
    if choices is not None and result not in choices:
        raise ConfigError(
            f"{key} (from {source}) must be one of {', '.join(choices)}, not {result!r}"
        )
    if isinstance(result, (int, float)) and not isinstance(result, bool):
        low, high = option.low, option.high
        if (low is not None and result < low) or (high is not None and result > high):
            span = f"{low:g} to {high:g}" if high is not None else f"at least {low:g}"
            raise ConfigError(f"{key} (from {source}) must be {span}, not {result!r}")
    return result


def _convert(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(kind, tuple):  # the first kind that takes the value: 2, "2" or "auto"
        for each in kind:
            try:
                return _convert(each, value)
            except (ValueError, TypeError, click.BadParameter):
                continue
        raise TypeError(value)
    if kind in (bool, int, float) and isinstance(value, str):
        return CLICK_TYPES[kind].convert(value, None, None)
    if kind is bool:
        if not isinstance(value, bool):
            raise TypeError(value)
        return value
    if kind in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(value)
        if kind is int and value != int(value):
            raise ValueError(value)
        return kind(value)
    if kind is str:
        if not isinstance(value, str):
            raise TypeError(value)
        return value
    if kind is list:
        items = _as_list(value)
        if not all(isinstance(item, str) for item in items):
            raise TypeError(value)
        return items
    if kind is dict:
        if isinstance(value, str):
            value = json.loads(value)
        if not isinstance(value, dict):
            raise TypeError(value)
        return dict(value)
    raise TypeError(kind)


def _as_list(value: Any) -> list[Any]:
    """A list option from any source: a TOML list, or text (JSON list, or items separated
    by commas or spaces, as Streamlit splits a variable); a flag given several times."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            parsed = json.loads(stripped)
            if not isinstance(parsed, list):
                raise TypeError(value)
            return parsed
        return [part for part in re.split(r"[,\s]+", stripped) if part]
    if isinstance(value, (list, tuple)):
        items: list[Any] = []
        for item in value:
            items.extend(_as_list(item) if isinstance(item, str) else [item])
        return items
    raise TypeError(value)
