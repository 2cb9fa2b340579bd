"""App runtimes behind the `AppRuntime` port: a built-in one, and (later) Streamlit's."""
