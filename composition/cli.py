"""hexlit's command line, Streamlit's habits: `hexlit run [TARGET] [ARGS]...`,
`hexlit config show`, `hexlit version`, built with click as `streamlit` is.

Every option is a `--section.option` flag (`--server.port 8502`, `--theme.base dark`,
`--hexlit.web tornado`, or the shortcut `--web tornado`). The flags are taken as text and
handed to `settings.load_config`, the one place values are typed and checked, so a bad
value reads the same whether it came from a flag, a variable or a file.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import importlib.metadata
import json
import logging
import ssl
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from hexlit.composition.builders import BUILTIN_PREFIX
from hexlit.composition.logs import configure_logging
from hexlit.composition.settings import (
    OPTIONS,
    SECRETS,
    SHORTCUTS,
    ConfigError,
    LoadedConfig,
    effective_options,
    env_name,
    load_config,
    masked,
    streamlit_catalogue,
)

log = logging.getLogger("hexlit")

LOG_LEVELS = ("error", "warning", "info", "debug")
DEFAULT_TARGET = "streamlit_app.py"
HELP_FLAGS = ("-h", "--help")
LOG_LEVEL_HELP = "Same as --logger.level: hexlit's log level, and Streamlit's."
METAVARS = {bool: "BOOLEAN", int: "INTEGER", float: "FLOAT", dict: "JSON"}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (2: configuration, 1: cannot serve)."""
    args = list(sys.argv[1:] if argv is None else argv)
    cli = build_cli(with_streamlit_options=_needs_streamlit_options(args))
    try:
        result = cli.main(args, prog_name="hexlit", standalone_mode=False)
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.Abort:
        return 1
    return result if isinstance(result, int) else 0


class ConfigFlag(click.Option):
    """A `--section.option` flag; `config_key` is the option's dotted name."""

    def __init__(self, config_key: str, **kwargs: Any) -> None:
        super().__init__([f"--{config_key}", _param_name(config_key)], **kwargs)
        self.config_key = config_key


class SectionedCommand(click.Command):
    """`--help` lists the options by section, one heading each; a mistyped flag is
    answered with the one closest name."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as error:
            names = [name for param in self.params for name in param.opts]
            best = difflib.get_close_matches(error.option_name, names, n=1)
            raise click.NoSuchOption(error.option_name, possibilities=best, ctx=ctx) from None

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        sections: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            key = getattr(param, "config_key", "")
            heading = f"[{key.rpartition('.')[0]}] options" if key else "Options"
            sections.setdefault(heading, []).append(record)
        for heading, rows in sections.items():
            with formatter.section(heading):
                formatter.write_dl(rows)


def build_cli(with_streamlit_options: bool = True) -> click.Group:
    """The `hexlit` command group; its flags are hexlit's options, then Streamlit's."""
    flags = _config_flags(with_streamlit_options)

    @click.group(context_settings={"help_option_names": list(HELP_FLAGS)})
    @click.option("--log_level", type=click.Choice(LOG_LEVELS), help=LOG_LEVEL_HELP)
    @click.version_option(_versions(), "--version", message="%(version)s")
    def cli(log_level: str | None) -> None:
        """hexlit serves Streamlit apps: `hexlit run your_script.py`."""

    @cli.command("run", cls=SectionedCommand, params=[*flags, *_run_params()])
    @click.pass_context
    def run_command(ctx: click.Context, /, target: str, args: tuple[str, ...], **raw: Any) -> int:
        """Run a Streamlit script (or a built-in app: builtin:counter, builtin:echo).

        If omitted, the target script is "streamlit_app.py" (or $STREAMLIT_RUN_TARGET).
        A folder means the "streamlit_app.py" inside it.

        To pass command-line arguments to the script, add " -- " before them:

            $ hexlit run my_app.py -- --my_arg1=123 my_arg2
        """
        return run(target, args, _flag_values(ctx, raw))

    @cli.command("version")
    def version_command() -> None:
        """Print hexlit's version number (and the Streamlit it serves with)."""
        click.echo(_versions())

    @cli.command("help")
    @click.pass_context
    def help_command(ctx: click.Context) -> None:
        """Print this help message."""
        assert ctx.parent is not None
        click.echo(cli.get_help(ctx.parent))

    @cli.group("config")
    def config_group() -> None:
        """Show hexlit's configuration."""

    @config_group.command("show", cls=SectionedCommand, params=flags)
    @click.argument("target", required=False)
    @click.pass_context
    def config_show(ctx: click.Context, /, target: str | None, **raw: Any) -> int:
        """Show every option, its effective value, and where the value came from.

        TARGET (optional): the app, whose folder's .streamlit/config.toml is read too.
        """
        try:
            config = load_config(_flag_values(ctx, raw), script_dir=_script_dir(target))
        except ConfigError as error:
            click.echo(f"hexlit: {error}", err=True)
            return 2
        click.echo(show_config(config), nl=False)
        return 0

    return cli


def run(
    target: str, script_args: Sequence[str], flags: Mapping[str, Any], worker: Any = None
) -> int:
    """`hexlit run`: load the configuration, then serve until a stop signal.

    With `hexlit.workers` above 1 this process supervises the workers instead; a worker
    (`worker`: its `WorkerSpec`) runs this too, and serves (composition/workers.py).
    """
    from hexlit.composition.container import build_container
    from hexlit.composition.serve import serve
    from hexlit.composition.speedups import event_loop_factory
    from hexlit.composition.workers import run_worker, supervise, worker_count

    try:
        app = resolve_target(target)
        config = load_config(flags, script_dir=_script_dir(app))
        _check_with_streamlit(app, config)
    except ConfigError as error:
        click.echo(f"hexlit: {error}", err=True)
        return 2
    configure_logging(str(config["logger.level"]), str(config["hexlit.logFormat"]))
    for warning in config.warnings if worker is None else ():
        log.warning("%s", warning)
    try:
        workers = worker_count(config["hexlit.workers"])
        if workers > 1 and worker is None:
            return supervise(config, app, script_args, dict(flags), workers)
        container = build_container(config, app, tuple(script_args))
        if worker is not None:
            return run_worker(container, worker)
        loop_factory = event_loop_factory(str(container.config.hexlit.loop()))
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            return runner.run(serve(container, port_explicit="server.port" in config.explicit))
    except ConfigError as error:
        click.echo(f"hexlit: {error}", err=True)
        return 2
    except ssl.SSLError as error:
        click.echo(f"hexlit: cannot use the TLS certificate and key: {error}", err=True)
        return 1
    except OSError as error:
        click.echo(f"hexlit: cannot listen: {error.strerror or error}", err=True)
        return 1


def resolve_target(target: str) -> str:
    """What `streamlit run TARGET` would run: a folder means its `streamlit_app.py`."""
    if target.startswith(BUILTIN_PREFIX):
        return target
    if target.startswith(("http://", "https://")):
        raise ConfigError(f"{target}: hexlit runs local scripts only; download it first")
    path = Path(target)
    if path.is_dir():
        path /= DEFAULT_TARGET
    return str(path)


def _check_with_streamlit(app: str, config: LoadedConfig) -> None:
    """Streamlit's own start-up checks of its config, made before serving a script."""
    if app.startswith(BUILTIN_PREFIX) or config["hexlit.runtime"] == "builtin":
        return
    if not Path(app).is_file():
        return  # said at build time, with the other script checks
    from hexlit.adapters.runtime.streamlit.options import config_refusal

    try:
        refusal = config_refusal(Path(app), {key: config[key] for key in config.explicit})
    except ImportError:
        return  # said at build time: Streamlit is needed
    if refusal:
        raise ConfigError(f"Streamlit refuses this configuration: {refusal}")


def show_config(config: LoadedConfig) -> str:
    """Every option as TOML, by section, each with where its value came from."""
    lines = ["# hexlit config show: every option's value, and where it came from.\n"]
    section = None
    for key, value, source in effective_options(config):
        where, _, name = key.rpartition(".")
        if where != section:
            section = where
            lines.append(f"\n[{section}]\n")
        shown = masked(key, value)
        if shown is None:
            lines.append(f"# {name} is unset  # {source}\n")
        else:
            lines.append(f"{name} = {_toml(shown)}  # {source}\n")
    return "".join(lines)


def _config_flags(with_streamlit_options: bool) -> list[click.Parameter]:
    """A flag per option: Streamlit's in its order (by section), then hexlit's own."""
    catalogue = streamlit_catalogue() if with_streamlit_options else {}
    flags: list[click.Parameter] = []
    for key, spec in catalogue.items():
        option = OPTIONS.get(key)
        kind = option.kind if option else spec.kind
        flags.append(_flag(key, spec.description, kind, spec.multiple, spec.sensitive))
    for key, option in OPTIONS.items():
        if key not in catalogue:
            multiple = option.kind is list
            flags.append(_flag(key, option.help, option.kind, multiple, key in SECRETS))
    flags.append(click.Option(["--web"], help="Same as --hexlit.web: starlette or tornado."))
    return flags


def _flag(key: str, text: str, kind: Any, multiple: bool, secret: bool) -> ConfigFlag:
    return ConfigFlag(
        key,
        help=f"{text}  [env var: {env_name(key)}]".strip(),
        metavar=METAVARS.get(kind, "TEXT"),
        multiple=multiple,
        hidden=secret,  # as in Streamlit; load_config refuses it with the reason
    )


def _run_params() -> list[click.Parameter]:
    return [
        click.Option(["--log_level"], type=click.Choice(LOG_LEVELS), help=LOG_LEVEL_HELP),
        click.Argument(["target"], default=DEFAULT_TARGET, envvar="STREAMLIT_RUN_TARGET"),
        click.Argument(["args"], nargs=-1),
    ]


def _flag_values(ctx: click.Context, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Flags given on the command line, by option name (`--log_level` is `logger.level`)."""
    by_param = {
        param.name: param.config_key
        for param in ctx.command.params
        if isinstance(param, ConfigFlag)
    }
    flags: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None or value == ():
            continue
        if name in by_param:
            flags[by_param[name]] = value
        elif name in SHORTCUTS:
            flags[name] = value
    log_level = raw.get("log_level") or (ctx.parent.params.get("log_level") if ctx.parent else None)
    if log_level and "logger.level" not in flags:
        flags["logger.level"] = log_level
    return flags


def _needs_streamlit_options(args: Sequence[str]) -> bool:
    """Whether the command line may name an option outside hexlit's table.

    Importing Streamlit for its list takes about 2 s; a built-in app run with hexlit's
    own flags does not need it. Anything else (help, `config show`, a script) does.
    """
    words = list(args[: args.index("--")] if "--" in args else args)
    if words[:1] in (["version"], ["--version"]):
        return False
    if any(word in (*HELP_FLAGS, "help", "config") for word in words):
        return True
    if not any(word.startswith(BUILTIN_PREFIX) for word in words):
        return True
    names = [word[2:].partition("=")[0] for word in words if word.startswith("--")]
    return any(name not in OPTIONS and name not in SHORTCUTS for name in names)


def _param_name(key: str) -> str:
    return "opt_" + key.replace(".", "__")


def _script_dir(app: str | None) -> Path | None:
    if app is None or app.startswith(BUILTIN_PREFIX):
        return None
    path = Path(resolve_target(app))
    return path.resolve().parent


def _versions() -> str:
    text = f"hexlit, version {importlib.metadata.version('hexlit')}"
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        text += f" (Streamlit {importlib.metadata.version('streamlit')})"
    return text


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value))


if __name__ == "__main__":
    sys.exit(main())
