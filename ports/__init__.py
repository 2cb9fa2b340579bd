"""The boundary of the hexagon.

Inbound ports are the use cases the web adapters call (`Sessions`, `ServerStatus`,
`Lifecycle`); outbound ports are what the core needs from the world (`AppRuntime`,
`ClientConnection`, `Clock`, `IdSource`). This package imports the standard library only,
so every layer may depend on it and it depends on nothing.
"""
