"""Account: st.login when .streamlit/secrets.toml has an [auth] section."""

from __future__ import annotations

import streamlit as st

st.header("Account")


def auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all, or one that does not parse
        return False


if not auth_configured():
    st.info("Login is configured through .streamlit/secrets.toml [auth]")
elif st.user.is_logged_in:
    st.write(f"Logged in as {st.user.get('name') or st.user.get('email') or st.user.get('sub')}")
    st.json(st.user.to_dict())
    st.button("Log out", on_click=st.logout)
else:
    st.button("Log in", on_click=st.login)
