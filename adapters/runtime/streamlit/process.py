"""Ready the process the way `streamlit run` does, where an app could tell the difference.

Streamlit's own configuration is loaded from the same files and with the same explicit
options hexlit was given (so `st.get_option` answers as under `streamlit run`); the
script's folder goes first on `sys.path`, `sys.argv` becomes the script and its
arguments, MIME types and secrets are set up by Streamlit's own start-up function.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from streamlit import config as streamlit_config
from streamlit.web import bootstrap

HEXLIT_SECTION = "hexlit."


class _HideHexlitOptionWarnings(logging.Filter):
    """Streamlit warns about every option it does not know; `[hexlit]` ones are ours."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not any(
            isinstance(arg, str) and arg.startswith(HEXLIT_SECTION) for arg in record.args or ()
        )


def prepare_process(
    script_path: Path, options: Mapping[str, Any], args: Sequence[str] = ()
) -> None:
    """Load Streamlit's config with `options` (dotted names) winning, then set up the app.

    `args` become the script's `sys.argv[1:]`, as `streamlit run app.py -- args` does."""
    logging.getLogger("streamlit.config").addFilter(_HideHexlitOptionWarnings())
    script = str(script_path.resolve())
    streamlit_config._main_script_path = script
    # Values arrive typed (hexlit converts text with Streamlit's own types), and keyed
    # the way `streamlit run` hands its flags over.
    flags = {
        key.replace(".", "_"): value
        for key, value in options.items()
        if not key.startswith(HEXLIT_SECTION)
    }
    bootstrap.load_config_options(flag_options=flags)
    _usage_stats_off_unless_chosen()
    sys.path.insert(0, str(script_path.resolve().parent))
    sys.argv = [script, *args]
    bootstrap.prepare_streamlit_environment(script)


USAGE_STATS = "browser.gatherUsageStats"


def _usage_stats_off_unless_chosen() -> None:
    """hexlit's default for `browser.gatherUsageStats` is off (docs/configuration.md),
    where Streamlit's is on: unless a flag, a variable or a config file chose a value, the
    frontend is told (in NewSession's config) not to send usage statistics anywhere."""
    if not streamlit_config.is_manually_set(USAGE_STATS):
        streamlit_config.set_option(USAGE_STATS, False, "hexlit's default")


def option(key: str) -> Any:
    """A Streamlit config option's current value."""
    return streamlit_config.get_option(key)
