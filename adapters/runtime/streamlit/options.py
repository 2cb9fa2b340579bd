"""Streamlit's own option catalogue, read from the installed package.

hexlit accepts every option Streamlit defines (`streamlit.config._config_options_template`),
so the list is never copied: a new Streamlit option is known the day it is installed.
Importing this module is cheap; `streamlit_options()` imports Streamlit (about 2 s), so
the composition root calls it only when an option outside hexlit's own table shows up.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class StreamlitOption:
    """One option as Streamlit declares it.

    kind: `str`, `int`, `float` or `bool`, the type Streamlit's CLI converts a flag to.
    multiple: a list of strings (given several times on the command line).
    sensitive: Streamlit refuses it as a command-line flag (a secret).
    default: the declared default; None for a computed one (`computed_default`).
    """

    key: str
    kind: type
    multiple: bool
    sensitive: bool
    default: Any
    computed: bool
    description: str
    env_var: str
    hidden: bool


def streamlit_options() -> dict[str, StreamlitOption]:
    """Every option of the installed Streamlit, in its declaration order (by section).

    Raises ImportError when Streamlit is not installed.
    """
    from streamlit import config

    found: dict[str, StreamlitOption] = {}
    for key, option in config._config_options_template.items():
        found[key] = StreamlitOption(
            key=key,
            kind=option.type,
            multiple=bool(option.multiple),
            sensitive=bool(option.sensitive),
            default=None if _is_computed(option) else option.default_val,
            computed=_is_computed(option),
            description=" ".join((option.description or "").split()),
            env_var=option.env_var,
            hidden=option.visibility == "hidden",
        )
    return found


def check_value(key: str, value: Any) -> str | None:
    """Streamlit's own start-up check of a value, as a reason when it fails.

    Streamlit checks these when its config is parsed (`config._check_conflicts`) and
    stops with a traceback; hexlit asks first, so the error is one line at start.
    """
    if key == "server.maxCacheDataSize":
        from streamlit.byte_util import config_max_cache_data_size_to_bytes
        from streamlit.errors import StreamlitAPIException

        try:
            config_max_cache_data_size_to_bytes(value)
        except StreamlitAPIException as error:
            return " ".join(str(error).split())
    return None


def config_refusal(script_path: Path, options: Mapping[str, Any]) -> str | None:
    """Why Streamlit would refuse to start `script_path` with these options, or None.

    Streamlit checks its whole config when it parses it (`config._check_conflicts`:
    `global.developmentMode` with `server.port`, reserved metrics labels, ...) and
    raises; inside a running server that is a traceback. hexlit asks before serving,
    with Streamlit's own code; the parse is repeated at start (`prepare_process`), so
    its warnings are held back here to be given once.
    """
    from streamlit import config
    from streamlit.web import bootstrap

    config._main_script_path = str(script_path.resolve())
    flags = {
        key.replace(".", "_"): value
        for key, value in options.items()
        if not key.startswith("hexlit.")
    }
    logging.disable(logging.WARNING)
    try:
        bootstrap.load_config_options(flag_options=flags)
    except (RuntimeError, ValueError) as error:
        return " ".join(str(error).split())
    finally:
        logging.disable(logging.NOTSET)
    return None


def computed_default(key: str) -> Any:
    """The value Streamlit computes for an option nobody set (`server.headless` depends
    on a display, `logger.level` on development mode, ...); None for a secret.

    Computing one makes Streamlit parse its config files and set up its loggers, so this
    is for `hexlit config show` only, never on the way to serving.
    """
    from streamlit import config

    option = config._config_options_template[key]
    if option.sensitive:
        return None
    try:
        return option.value
    except Exception:  # a default that needs a running app
        return None


def _is_computed(option: Any) -> bool:
    """Declared with a function (`@_create_option`) rather than a constant default."""
    function = getattr(option, "_get_val_func", None)
    return function is not None and function.__name__ != "<lambda>"
