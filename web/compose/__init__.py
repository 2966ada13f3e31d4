"""The composer of the ticket page, and new tickets entered by agents.

One blueprint ("compose", under /desk), its pages in one module each; importing them
registers their routes on ``bp``, which lives in ``web.compose.common`` so that the pages never
import this package.
"""

from __future__ import annotations

from web.compose import composer as _composer  # noqa: F401
from web.compose import new_ticket as _new_ticket  # noqa: F401
from web.compose.common import bp

__all__ = ["bp"]
