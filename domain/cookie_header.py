"""Reading cookies from a raw `Cookie` header, in the core, the same way for both stacks.

Frameworks turn cookies into a dict (the last duplicate wins) and unquote values; the
XSRF rule wants every value of a name as sent (duplicates happen with iframes and paths).
"""

from __future__ import annotations


def cookie_values(header: str | None, name: str) -> tuple[str, ...]:
    """Every value of cookie `name` in a `Cookie` header, in order, unmodified."""
    if not header:
        return ()
    values = []
    for pair in header.split(";"):
        key, sep, value = pair.strip().partition("=")
        if sep and key.strip() == name:
            values.append(value.strip())
    return tuple(values)
