"""Admin pages that move open tickets to a newer process version, and their reports.

The plan (which tickets, which state map) is checked and stored by
``tempodesk.tickets.migration``; a ProcessMigrationWorkflow then sends each ticket one
validated Update and records what happened, which the report page shows while it runs.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tempodesk.core.models import ProcessMigration
from tempodesk.tickets import migration as process_migration
from tempodesk.tickets import processes
from tempodesk.tickets.migration import MigrationInvalid
from web import audit, db, release_db, runtime
from web.admin import bp
from web.i18n import gettext as _

STATUSES = ("pending", "migrated", "rejected")


@bp.route("/processes/<name>/migrate", methods=["GET", "POST"])
def migrate(name: str) -> Any:
    session = db()
    versions = [v.version for v in processes.versions(session, name)]
    if not versions:
        abort(404)
    source = request.form if request.method == "POST" else request.args
    raw = source.get("version", "")
    target = int(raw) if raw.isdigit() and int(raw) in versions else versions[0]
    needed = process_migration.states_to_map(session, name, target)
    errors: list[str] = []
    state_map: dict[str, str] = {}
    if request.method == "POST":
        # Only the states that need a decision are read from the form.
        for state in needed:
            chosen = request.form.get(f"map-{state}", "").strip()
            if chosen:
                state_map[state] = chosen
            else:
                errors.append(
                    _(
                        "Choose a state of version %(version)s for '%(state)s'.",
                        version=target,
                        state=state,
                    )
                )
        if not errors:
            try:
                migration = process_migration.plan(
                    session, name, target, state_map, current_user.username
                )
            except MigrationInvalid as exc:
                session.rollback()
                errors = exc.errors
            else:
                _audit(name, migration, state_map)
                session.commit()
                migration_id = migration.id
                release_db()
                runtime().temporal.start_migration(migration_id)
                flash(_("Migration %(id)s started.", id=migration_id), "success")
                return redirect(url_for("admin.migration_report", migration_id=migration_id))
    definition = processes.definition(session, name, target)
    tickets = process_migration.candidates(session, name, target)
    return (
        render_template(
            "admin/migrations/plan.html",
            name=name,
            label=definition.label,
            versions=versions,
            target=target,
            groups=sorted(Counter((t.process_version, t.state) for t in tickets).items()),
            total=len(tickets),
            needed=needed,
            choices=[s for s in definition.states if not s.final],
            state_map=state_map,
            errors=errors,
        ),
        422 if errors else 200,
    )


def _audit(name: str, migration: ProcessMigration, state_map: dict[str, str]) -> None:
    db().flush()  # the migration's id
    after = {"migration": migration.id, "version": migration.to_version, "map": state_map}
    audit.record("process.migrate", object_type="process", object_id=name, after=after)


@bp.route("/migrations")
def migrations_list() -> Any:
    migrations = db().scalars(
        select(ProcessMigration)
        .options(selectinload(ProcessMigration.items))
        .order_by(ProcessMigration.id.desc())
    )
    return render_template(
        "admin/migrations/list.html",
        migrations=[(m, _counts(m)) for m in migrations],
    )


@bp.route("/migrations/<int:migration_id>")
def migration_report(migration_id: int) -> Any:
    migration = process_migration.report(db(), migration_id)
    if migration is None:
        abort(404)
    return render_template(
        "admin/migrations/report.html", migration=migration, counts=_counts(migration)
    )


@bp.route("/migrations/<int:migration_id>/resume", methods=["POST"])
def migration_resume(migration_id: int) -> Any:
    """Start the migration's workflow again (if starting it failed); tickets done are kept."""
    migration = process_migration.report(db(), migration_id)
    if migration is None:
        abort(404)
    if migration.status == "running":
        release_db()
        runtime().temporal.start_migration(migration_id)
        flash(_("The migration is running."), "success")
    return redirect(url_for("admin.migration_report", migration_id=migration_id))


def _counts(migration: ProcessMigration) -> dict[str, int]:
    counts = Counter(item.status for item in migration.items)
    return {status: counts.get(status, 0) for status in STATUSES}
