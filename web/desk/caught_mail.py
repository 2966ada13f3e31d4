"""The mail the dev mail catcher kept (``tempodesk dev``); 404 where no catcher runs."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template

from tempodesk.mail.sink import read_caught
from web import runtime
from web.desk.common import bp


@bp.route("/mail")
def caught_mail() -> Any:
    directory = runtime().settings.mail_sink_dir
    if directory is None:
        abort(404)
    return render_template("desk/mail.html", mails=read_caught(directory))
