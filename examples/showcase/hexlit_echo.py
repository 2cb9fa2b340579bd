"""The `hexlit_echo` v1 custom component, served from the local `component/` folder.

Declared in an importable module (Streamlit adds the entry script's folder to sys.path):
`declare_component` names a component after its caller's module, and a page script run
by `st.navigation` has none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit.components.v1 as components

COMPONENT_DIR = Path(__file__).resolve().parent / "component"

_component = components.declare_component("hexlit_echo", path=str(COMPONENT_DIR))


def hexlit_echo(label: str, *, key: str | None = None, default: Any = None) -> Any:
    """Show a button labelled `label`; return what the component last sent (`clicked N`)."""
    return _component(label=label, key=key, default=default)
