"""Pure services that implement the inbound ports using the outbound ones.

Every rule of the web layer lives here, once. This package imports the standard library
and `hexlit.ports` only: no web framework, no I/O library, no ambient time or randomness.
"""
