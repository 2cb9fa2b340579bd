"""Adapters: each implements an outbound port or drives an inbound one.

They import `hexlit.ports` and their own framework, never `hexlit.domain`, and never each
other: the Redis ones share only `redis/` (the client, the key encoding, the failure rule),
and neither web stack imports the other or its framework. import-linter checks each rule
(`[tool.importlinter]` in pyproject.toml).
"""
