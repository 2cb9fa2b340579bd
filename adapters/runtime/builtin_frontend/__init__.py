"""A tiny frontend for the built-in apps: a page that talks to `/_stcore/stream`.

It lets a person use the built-in runtime from a browser, and gives the conformance
suite a frontend build to serve without Streamlit installed.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent / "site"
