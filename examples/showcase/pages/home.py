"""Home: session state, widgets and reruns."""

from __future__ import annotations

import streamlit as st

st.title("hexlit showcase")

if "count" not in st.session_state:
    st.session_state["count"] = 0


def increment() -> None:
    st.session_state["count"] += 1


st.button("Increment", on_click=increment)
st.write(f"Count: {st.session_state['count']}")

name = st.text_input("Your name")
if name:
    st.write(f"Hello, {name}!")

level = st.slider("Level", min_value=0, max_value=10, value=5)
st.write(f"Level: {level}")
