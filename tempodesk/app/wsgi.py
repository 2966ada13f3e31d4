"""The WSGI entry point for production: ``gunicorn tempodesk.app.wsgi:app``.

Settings come from the ``TEMPODESK_*`` environment, as for every other Tempodesk process.
Each gunicorn worker imports this module after the fork (do not use ``--preload``), so each
gets its own database pool and its own Temporal client thread.
"""

from __future__ import annotations

from tempodesk.app import logs
from tempodesk.app.runtime import Runtime
from tempodesk.core.settings import get_settings
from web import create_app

settings = get_settings()
logs.configure(settings.log_format)
app = create_app(runtime=Runtime(settings))
