"""The knowledge base on the web: the public help centre (``/help/``, blueprint "help") and
its editors' pages in the desk (``/kb/``, blueprint "kb": articles for every agent;
categories, information pages and the look for admins), plus linking articles to tickets.

The rules live in ``tempodesk.knowledge``; importing the page modules registers their routes.
"""

from __future__ import annotations

from web.kb import editor as _editor  # noqa: F401
from web.kb import help_centre as _help_centre  # noqa: F401
from web.kb import site_admin as _site_admin  # noqa: F401
from web.kb import tickets as _tickets  # noqa: F401
from web.kb.common import help_bp, kb_bp

__all__ = ["help_bp", "kb_bp"]
