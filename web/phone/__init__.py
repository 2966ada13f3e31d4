"""Telephony in the desk: calls on tickets and contacts, the screen pop, missed calls,
communication records, the Phone lab, and the cloud PBX's webhooks (``hooks_bp``)."""

from __future__ import annotations

from web.phone import calls as _calls  # noqa: F401
from web.phone import hooks as _hooks  # noqa: F401
from web.phone import lab as _lab  # noqa: F401
from web.phone import records as _records  # noqa: F401
from web.phone.common import bp, hooks_bp

__all__ = ["bp", "hooks_bp"]
