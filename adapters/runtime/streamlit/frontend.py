"""Where the Streamlit frontend build lives: `streamlit/static` in the installed package."""

from __future__ import annotations

from pathlib import Path

import streamlit


def frontend_root() -> Path:
    """The folder holding index.html and the hashed bundles of the installed streamlit."""
    return Path(streamlit.__file__).resolve().parent / "static"
