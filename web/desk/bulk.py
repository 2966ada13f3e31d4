"""Bulk actions: one action (or an assignment) on the tickets selected on a list, as one
Update per ticket through its workflow, never a write."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from tempodesk.tickets import bulk as ticket_bulk
from web import db, release_db, runtime
from web.desk.common import REQUEST_ID, bp, current_actor, require_act, safe_next
from web.i18n import gettext as _


@bp.route("/bulk", methods=["POST"])
def bulk() -> Any:
    """One action (or an assignment) on each selected ticket, each through its workflow."""
    actor = current_actor()
    require_act(actor)
    numbers = request.form.getlist("ticket")
    op = request.form.get("op", "")
    agent = request.form.get("agent", "").strip() if op == "assign" else ""
    action_id = request.form.get("action", "").strip() if op == "perform" else ""
    back = safe_next(url_for("desk.index"))
    if not numbers:
        flash(_("Select at least one ticket first."), "error")
        return redirect(back)
    offered = {a.id: a.label for a in ticket_bulk.bulk_actions(db(), actor)}
    if op == "assign" and not agent:
        flash(_("Choose the agent to assign the tickets to."), "error")
        return redirect(back)
    if op == "perform" and action_id not in offered:
        flash(_("Choose an action that can be performed on many tickets at once."), "error")
        return redirect(back)
    if op not in ("assign", "perform", "reroute"):
        abort(400)
    request_id = request.form.get("request_id", "")
    what = (
        _("Assign to %(agent)s", agent=agent)
        if op == "assign"
        else _("Route again")
        if op == "reroute"
        else offered[action_id]
    )
    release_db()  # never hold a pooled connection while waiting on workflows
    # The state each ticket had on the agent's list: a ticket that has moved since (a
    # customer wrote, a colleague acted) is refused, as on its own page.
    seen = {n: request.form.get(f"seen:{n}", "") for n in numbers}
    outcomes = ticket_bulk.run_bulk(
        runtime().actions,
        runtime().sessions,
        actor,
        numbers,
        action_id=action_id,
        agent=agent,
        seen_states=seen,
        reroute=op == "reroute",
        request_id=request_id if REQUEST_ID.match(request_id) else "",
    )
    return render_template("desk/bulk.html", what=what, outcomes=outcomes, back=back)
