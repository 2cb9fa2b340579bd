"""`hexlit run APP [--web tornado|starlette] [--server.OPTION VALUE] [--hexlit.OPTION VALUE]`."""

from __future__ import annotations

import asyncio
import logging
import ssl
import sys
from collections.abc import Sequence
from pathlib import Path

from hexlit.composition.container import build_container
from hexlit.composition.serve import serve
from hexlit.composition.settings import ConfigError, load_config, parse_flags
from hexlit.composition.speedups import event_loop_factory

USAGE = """\
usage: hexlit run APP [--web tornado|starlette] [--server.OPTION VALUE] [--hexlit.OPTION VALUE]

APP is a Streamlit script (app.py) or a built-in app: builtin:counter, builtin:echo.
Options are Streamlit's (`--server.port 8502`, `--server.baseUrlPath /x`, ...), also read
from .streamlit/config.toml and STREAMLIT_SERVER_* variables; hexlit's own live in the
[hexlit] section (`--hexlit.web tornado`, HEXLIT_WEB=tornado).
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if args else 2
    if args[0] != "run":
        print(f"hexlit: unknown command {args[0]!r}\n\n{USAGE}", file=sys.stderr)
        return 2
    try:
        positionals, flags = parse_flags(args[1:])
        if len(positionals) != 1:
            raise ConfigError("give exactly one APP to run")
        app = positionals[0]
        script_dir = Path(app).resolve().parent if app.endswith((".py", ".pyw")) else None
        config = load_config(flags, script_dir=script_dir)
    except ConfigError as error:
        print(f"hexlit: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        container = build_container(config, app)
        loop_factory = event_loop_factory(str(container.config.hexlit.loop()))
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            return runner.run(serve(container, port_explicit="server.port" in config.explicit))
    except ConfigError as error:
        print(f"hexlit: {error}", file=sys.stderr)
        return 2
    except ssl.SSLError as error:
        print(f"hexlit: cannot use the TLS certificate and key: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"hexlit: cannot listen: {error.strerror or error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
