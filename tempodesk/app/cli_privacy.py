"""`tempodesk gdpr ...`: export and forget a person, apply the retention rule now;
`tempodesk bulk send`: a non-essential template to the consenting contacts of a segment."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from tempodesk.core import audit
from tempodesk.core.db import make_engine, make_session_factory, transaction, upgrade
from tempodesk.core.settings import Settings, get_settings
from tempodesk.core.temporal import EngineUnavailable, TemporalFacade
from tempodesk.messaging import bulk as bulk_messages
from tempodesk.privacy.export import export_person
from tempodesk.privacy.forget import MODES, Forgotten, Mode, forget_everywhere
from tempodesk.privacy.retention import apply_retention
from tempodesk.privacy.subjects import digest, find_subject


@click.group()
def gdpr() -> None:
    """Personal data: export, forget, retention."""


@gdpr.command("export")
@click.argument("email")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
def gdpr_export(email: str, output: Path | None) -> None:
    """Write everything held about a person to a zip (JSON plus attachments and mail)."""
    settings = get_settings()
    upgrade(settings.db_url)
    with transaction(make_session_factory(make_engine(settings.db_url))) as session:
        data, subject = export_person(session, email, now=datetime.now(UTC))
        audit.record(
            session,
            "gdpr.export",
            actor=audit.os_actor(),
            actor_kind="cli",
            object_type="person",
            object_id=digest(email),
            after={"tickets": len(subject.tickets)},
        )
    target = output or Path(f"gdpr-{subject.email.replace('@', '_at_')}.zip")
    target.write_bytes(data)
    target.chmod(0o600)
    click.echo(
        f"{target}: contact {'found' if subject.contact else 'not found'}, "
        f"{len(subject.tickets)} tickets."
    )


@gdpr.command("forget")
@click.argument("email")
@click.option("--mode", type=click.Choice(MODES), required=True)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def gdpr_forget(email: str, mode: Mode, yes: bool) -> None:
    """Forget a person: delete or anonymise their tickets, delete their contact and mail."""
    settings = get_settings()
    upgrade(settings.db_url)
    sessions = make_session_factory(make_engine(settings.db_url))
    with sessions() as session:
        subject = find_subject(session, email)
    if not yes:
        click.confirm(f"{mode} {len(subject.tickets)} tickets of {subject.email}?", abort=True)
    done, deleted = forget_everywhere(
        sessions,
        email,
        mode,
        lambda ids: _delete_workflows(settings, ids),
        actor=audit.os_actor(),
        actor_kind="cli",
    )
    _report(done, deleted)


@gdpr.command("retention")
@click.option("--months", type=int, default=None, help="Default: TEMPODESK_RETENTION_MONTHS.")
@click.option("--mode", type=click.Choice(MODES), default=None)
def gdpr_retention(months: int | None, mode: Mode | None) -> None:
    """Apply the retention rule now (the schedule does it every day)."""
    settings = get_settings()
    months = settings.retention_months if months is None else months
    if months <= 0:
        raise click.UsageError("Give --months or set TEMPODESK_RETENTION_MONTHS.")
    chosen: Mode = mode or ("delete" if settings.retention_mode == "delete" else "anonymise")
    sessions = make_session_factory(make_engine(settings.db_url))
    total = 0
    while True:
        with transaction(sessions) as session:
            done = apply_retention(
                session,
                now=datetime.now(UTC),
                months=months,
                mode=chosen,
                actor=audit.os_actor(),
                actor_kind="cli",
            )
        if not done.tickets:
            break
        _delete_workflows(settings, done.workflow_ids)
        total += len(done.tickets)
    click.echo(f"Retention ({chosen}, {months} months): {total} tickets.")


def _delete_workflows(settings: Settings, workflow_ids: list[str]) -> int:
    if not workflow_ids:
        return 0
    temporal = TemporalFacade(settings, timeout=120)
    try:
        return temporal.delete_workflows(workflow_ids)
    except EngineUnavailable as exc:
        raise click.ClickException(f"Temporal: {exc}; nothing was forgotten.") from None
    finally:
        temporal.close()


def _report(done: Forgotten, deleted: int) -> None:
    click.echo(
        f"{done.mode}: {len(done.tickets)} tickets, "
        f"contact {'deleted' if done.contact else 'none'}, "
        f"{deleted} workflow runs deleted from Temporal."
    )


@click.group()
def bulk() -> None:
    """Bulk messages to contacts who accept non-essential mail."""


@bulk.command("send")
@click.option("--template", required=True, help="A template marked non-essential.")
@click.option("--organisation", default=None, help="Only this organisation's contacts.")
@click.option("--language", default=None, help="Only contacts speaking this language.")
@click.option("--author", default="cli", help="Recorded as who sent it.")
def bulk_send(template: str, organisation: str | None, language: str | None, author: str) -> None:
    """Send a template once to every consenting contact of a segment (by a workflow)."""
    settings = get_settings()
    upgrade(settings.db_url)
    sessions = make_session_factory(make_engine(settings.db_url))
    try:
        with transaction(sessions) as session:
            message = bulk_messages.create(
                session, template, bulk_messages.Segment(organisation, language), author
            )
            bulk_id = message.id
    except bulk_messages.BulkInvalid as exc:
        raise click.ClickException(str(exc)) from None
    temporal = TemporalFacade(settings, timeout=30)
    try:
        temporal.start_bulk(bulk_id)
    except EngineUnavailable as exc:
        raise click.ClickException(f"Temporal: {exc}; start it again: bulk {bulk_id}") from None
    finally:
        temporal.close()
    click.echo(f"Bulk message {bulk_id} is being sent (workflow bulk-{bulk_id}).")
