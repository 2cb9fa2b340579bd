"""Components: a v1 custom component served from a local folder, and a static file."""

from __future__ import annotations

import streamlit as st
from hexlit_echo import hexlit_echo

st.header("Components")

value = hexlit_echo("Send to Python", key="echo")
st.write(f"Component value: {value}")

st.subheader("Static files")
st.markdown("[static file](app/static/hello.txt)")
