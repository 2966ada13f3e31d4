"""The SMS the dev stand-in gateway caught (``tempodesk dev``); 404 where none runs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import abort, render_template

from tempodesk.telephony.sms_standin import read_caught
from tempodesk.telephony.sms_text import segments
from web import runtime
from web.desk.common import bp


@bp.route("/sms")
def caught_sms() -> Any:
    directory = runtime().settings.sms_sink_dir
    if directory is None:
        abort(404)
    caught = [
        (sms, segments(sms.body), datetime.fromtimestamp(sms.received, UTC))
        for sms in read_caught(directory)
    ]
    return render_template("desk/sms.html", caught=caught)
