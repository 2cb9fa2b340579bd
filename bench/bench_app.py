"""The app the file benchmarks serve: one 100 MB download button (media of 100 MB)."""

import os

import streamlit as st

SIZE = int(os.environ.get("BENCH_MEDIA_BYTES", str(100 * 1024 * 1024)))


@st.cache_resource
def payload() -> bytes:
    return bytes(range(256)) * (SIZE // 256)


st.download_button("Download", data=payload(), file_name="big.bin")
st.file_uploader("Upload")
