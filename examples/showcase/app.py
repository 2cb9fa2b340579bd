"""hexlit showcase: a plain Streamlit multipage app.

It runs unchanged under `streamlit run app.py` and under `hexlit run app.py`, and it is
the app the browser end-to-end tests in tests/e2e drive.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="hexlit showcase", layout="centered")

navigation = st.navigation(
    [
        st.Page("pages/home.py", title="Home", url_path="home", default=True),
        st.Page("pages/files.py", title="Files", url_path="files"),
        st.Page("pages/components.py", title="Components", url_path="components"),
        st.Page("pages/account.py", title="Account", url_path="account"),
    ]
)
navigation.run()
