"""Identifiers, as the core sees them: a port, so tests get deterministic ids."""

from __future__ import annotations

from typing import Protocol


class IdSource(Protocol):
    """Makes unguessable identifiers (sessions, uploads) and random bytes (tokens)."""

    def new_id(self) -> str:
        """A fresh id: unique for the life of the process, safe in URLs and headers.

        Ids match `[A-Za-z0-9-]{1,64}`; the session core rejects offered ids that do not.
        """
        ...

    def random_bytes(self, size: int) -> bytes:
        """`size` bytes from a cryptographically secure source (tokens, masks)."""
        ...
