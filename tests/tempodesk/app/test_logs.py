"""JSON log lines carry the ticket number and the workflow id where they are known."""

from __future__ import annotations

import dataclasses
import io
import json
import logging

from temporalio.testing import ActivityEnvironment

from tempodesk.app.logs import ContextFilter, JsonFormatter


def _capture() -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(f"test-logs-{id(out)}")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, out


def test_a_record_with_a_ticket_number_names_its_workflow_too() -> None:
    logger, out = _capture()
    logger.info("projected %s", "it", extra={"ticket_number": "HD-2026-000007"})
    line = json.loads(out.getvalue())
    assert line["message"] == "projected it" and line["level"] == "INFO"
    assert line["ticket_number"] == "HD-2026-000007"
    assert line["workflow_id"] == "ticket-HD-2026-000007"


def test_a_module_logger_inside_an_activity_gets_the_activitys_workflow() -> None:
    logger, out = _capture()
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, workflow_id="ticket-HD-2026-000042")
    env.run(lambda: logger.warning("SMTP refused"))
    line = json.loads(out.getvalue())
    assert line["workflow_id"] == "ticket-HD-2026-000042"
    assert line["ticket_number"] == "HD-2026-000042"


def test_an_error_keeps_its_traceback_in_one_json_line() -> None:
    logger, out = _capture()
    try:
        raise ValueError("bad")
    except ValueError:
        logger.exception("failed")
    [text] = out.getvalue().splitlines()
    line = json.loads(text)
    assert "ValueError: bad" in line["error"] and "ticket_number" not in line
