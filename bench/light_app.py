"""The light page the rerun benchmark serves: a title, a counter in session state, a table."""

import streamlit as st

st.title("Light page")
st.session_state["runs"] = st.session_state.get("runs", 0) + 1
st.write(f"Runs: {st.session_state['runs']}")
st.button("Again")
st.table({"a": [1, 2, 3], "b": [4, 5, 6]})
