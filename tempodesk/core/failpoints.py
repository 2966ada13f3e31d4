"""Failpoints: crash the process at an exact spot, for the reliability tests only.

``TEMPODESK_FAILPOINT=<name>`` makes ``hit(<name>)`` end the process at once (as SIGKILL
would: no cleanup, no goodbye), so a test can prove that a crash in that window loses and
doubles nothing. Unset in production; the check is one dictionary lookup.
"""

from __future__ import annotations

import os

ENV = "TEMPODESK_FAILPOINT"


def hit(name: str) -> None:
    if os.environ.get(ENV) == name:
        os._exit(137)
