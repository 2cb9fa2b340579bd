"""The web stacks every suite runs on.

Read from the product's own choices for `hexlit.web`, so a new stack joins the
conformance, hostile, e2e, replica, workers and process suites by its line in
`composition/settings.py` alone (docs/extending.md, "How to add a third web stack").
"""

from __future__ import annotations

from typing import Final

from hexlit.composition.settings import CHOICES

WEB_STACKS: Final[tuple[str, ...]] = CHOICES["hexlit.web"]
