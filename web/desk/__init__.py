"""The agent desk: ticket lists, the ticket page with its action buttons, caught mail.

One blueprint ("desk"), its pages in one module each; importing them registers their routes
on ``bp``, which lives in ``web.desk.common`` so that the pages never import this package.
"""

from __future__ import annotations

from web.desk import bulk as _bulk  # noqa: F401
from web.desk import caught_mail as _caught_mail  # noqa: F401
from web.desk import caught_sms as _caught_sms  # noqa: F401
from web.desk import filters as _filters  # noqa: F401
from web.desk import lists as _lists  # noqa: F401
from web.desk import profile as _profile  # noqa: F401
from web.desk import relations as _relations  # noqa: F401
from web.desk import reports as _reports  # noqa: F401
from web.desk import sla as _sla  # noqa: F401
from web.desk import states as _states  # noqa: F401
from web.desk import ticket as _ticket  # noqa: F401
from web.desk import totp as _totp  # noqa: F401
from web.desk.common import bp

__all__ = ["bp"]
