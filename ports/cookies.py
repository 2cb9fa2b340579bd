"""A cookie the core wants set: the rule decides it, the web adapters write it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Cookie:
    """One `Set-Cookie`. `value` is written raw (no quoting, no percent-encoding)."""

    name: str
    value: str
    path: str = "/"
    same_site: str | None = "Lax"
    secure: bool = False
    http_only: bool = False
    max_age: int | None = None
