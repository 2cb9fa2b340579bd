"""The real Streamlit `Runtime` behind hexlit's `AppRuntime` port.

Nothing outside this package imports streamlit: `runtime.StreamlitRuntime` drives
`streamlit.runtime.Runtime`, `client.OutboxClient` is the `SessionClient` the Runtime
writes to, `process.prepare_process` readies the process the way `streamlit run` does,
and `frontend.frontend_root` finds the frontend build inside the installed package.
"""
