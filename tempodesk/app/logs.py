"""Logging for every Tempodesk process: text lines, or JSON objects (``TEMPODESK_LOG_FORMAT
=json``), each record carrying the ticket number and workflow id where they are known.

Where they come from: an explicit ``extra={"ticket_number": ..., "workflow_id": ...}``; inside
an activity, the activity's workflow (``temporalio.activity.info()``), so the module loggers
of activities and of the code they call need nothing; in a workflow, the SDK's
``temporal_workflow`` extra of ``workflow.logger``; in a web request, the ``<number>`` of the
URL. A ticket's workflow id is ``ticket-<number>`` (``tempodesk.core.ids``), so either gives
the other.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from temporalio import activity

TICKET_PREFIX = "ticket-"
NOISY = ("alembic", "mail.log")


class ContextFilter(logging.Filter):
    """Adds ``workflow_id`` and ``ticket_number`` to a record where it can tell them."""

    def filter(self, record: logging.LogRecord) -> bool:
        workflow_id = getattr(record, "workflow_id", None)
        number = getattr(record, "ticket_number", None)
        if workflow_id is None:
            workflow_id = _from_temporal(record)
        if number is None:
            number = _from_request()
        if number is None and workflow_id and workflow_id.startswith(TICKET_PREFIX):
            number = workflow_id.removeprefix(TICKET_PREFIX)
        if workflow_id is None and number:
            workflow_id = TICKET_PREFIX + number
        record.workflow_id = workflow_id
        record.ticket_number = number
        return True


def _from_temporal(record: logging.LogRecord) -> str | None:
    for name in ("temporal_workflow", "temporal_activity"):
        extra = getattr(record, name, None)
        if isinstance(extra, dict) and extra.get("workflow_id"):
            return str(extra["workflow_id"])
    if activity.in_activity():
        return activity.info().workflow_id
    return None


def _from_request() -> str | None:
    try:
        from flask import has_request_context, request
    except ImportError:  # pragma: no cover - Flask is a dependency
        return None
    if has_request_context() and request.view_args:
        number = request.view_args.get("number")
        return str(number) if number else None
    return None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: at, level, logger, message, ticket_number, workflow_id, and
    the exception's text when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ("ticket_number", "workflow_id"):
            value = getattr(record, name, None)
            if value:
                data[name] = value
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        number = getattr(record, "ticket_number", None)
        return f"{line} [{number}]" if number else line


def configure(log_format: str = "text", level: int = logging.INFO) -> None:
    """The root logger's one handler (stderr), in the chosen format, with the context. Like
    ``logging.basicConfig``, it leaves a root logger that has handlers already alone (a test
    runner's, an embedding application's)."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
