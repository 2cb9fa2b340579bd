"""The composition root: the only place that knows every concrete class.

`settings` reads configuration like Streamlit does, `container` wires ports to adapters
and domain services with dependency-injector, `cli` is `hexlit run`, and `embed` hands
the ASGI or Tornado application to users who compose hexlit into their own server.
"""
