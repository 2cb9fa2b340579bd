"""Adapters: each implements an outbound port or drives an inbound one.

They import `hexlit.ports` and their own framework, never `hexlit.domain`, and the two web
stacks never import each other; import-linter checks all three rules.
"""
