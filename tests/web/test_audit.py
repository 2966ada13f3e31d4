"""The audit log: each kind of admin change, every sign-in and token creation, with who,
when, from where and what before and after (secrets never); viewed and exported by admins."""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any

from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select

from tempodesk.app.cli import main
from tempodesk.core import audit
from tempodesk.core.audit import CHANGED
from tempodesk.core.db import transaction
from tempodesk.core.models import AuditEntry
from tempodesk.knowledge import site
from tests.helpers import Stack, csrf_token
from tests.web.portal_helpers import create, portal_client, unique_email
from tests.web.test_admin_mail import _fields as mailbox_fields
from tests.web.test_portal_password import PASSWORD, password_login, set_password


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def _post(client: FlaskClient, url: str, data: dict[str, Any], page: str = "") -> Any:
    token = csrf_token(client.get(page or url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def _entries(stack: Stack, object_id: str, action: str = "") -> list[AuditEntry]:
    with stack.sessions() as session:
        query = select(AuditEntry).where(AuditEntry.object_id == object_id)
        if action:
            query = query.where(AuditEntry.action == action)
        return list(session.scalars(query.order_by(AuditEntry.id)))


def _one(stack: Stack, object_id: str, action: str) -> AuditEntry:
    found = _entries(stack, object_id, action)
    assert len(found) == 1, [e.action for e in _entries(stack, object_id)]
    return found[0]


def test_user_and_group_changes_are_audited_with_before_and_after(stack: Stack) -> None:
    admin = stack.login("admin")
    username = _unique("aud")
    user = {"display_name": "Audited", "email": f"{username}@example.com", "language": "en"}
    assert _post(admin, "/admin/users/new", {"username": username, "password": "x" * 12, **user})
    created = _one(stack, username, "user.create")
    assert created.actor == "admin" and created.actor_kind == "agent"
    assert created.address == "127.0.0.1" and created.before is None
    assert created.after is not None and created.after["display_name"] == "Audited"
    assert created.after["password"] == CHANGED and "password_hash" not in created.after
    changed = {**user, "display_name": "Renamed", "is_active": "on", "password": "y" * 12}
    assert _post(admin, f"/admin/users/{username}", changed).status_code == 302
    update = _one(stack, username, "user.update")
    assert update.before is not None and update.after is not None
    assert (update.before["display_name"], update.after["display_name"]) == ("Audited", "Renamed")
    assert "x" * 12 not in json.dumps([update.before, update.after, created.after])

    group = _unique("G")
    _post(admin, "/admin/groups", {"name": group, "description": "first"})
    _post(admin, f"/admin/groups/{group}", {"description": "second", "members": [username]})
    assert _one(stack, group, "group.create").after["description"] == "first"  # type: ignore[index]
    moved = _one(stack, group, "group.update")
    assert moved.before["members"] == [] and moved.after["members"] == [username]  # type: ignore[index]


def test_templates_mailboxes_forms_processes_and_canned_answers_are_audited(
    stack: Stack,
) -> None:
    admin = stack.login("admin")
    template = _unique("t_")
    _post(
        admin,
        "/admin/templates/new",
        {"name": template, "channel": "email", "subject_en": "Hi", "body_en": "Hello."},
    )
    assert _one(stack, template, "template.create").after["texts"]["en"]["body"] == "Hello."  # type: ignore[index]

    box = _unique("aud-")
    fields = mailbox_fields(name=box, smtp_host="smtp.invalid", smtp_password="Smtp-Secret-9")
    assert _post(admin, "/admin/mailboxes/new", fields, page="/admin/").status_code == 302
    entry = _one(stack, box, "mailbox.create")
    assert entry.after["smtp_secret"] == CHANGED and entry.after["imap_secret"] == ""  # type: ignore[index]
    assert "Smtp-Secret-9" not in json.dumps(entry.after)

    slug = _unique("f-")
    form = {"title": "Audited form", "slug": slug, "active": "y", "max_links": "3"}
    assert _post(admin, "/admin/forms/new", {**form, "max_attachment_kb": "0"}).status_code == 302
    assert _one(stack, slug, "form.create").after["title"] == "Audited form"  # type: ignore[index]
    _post(admin, f"/admin/forms/{slug}/active", {"active": "0"}, page="/admin/forms")
    off = _one(stack, slug, "form.deactivate")
    assert off.before["active"] is True and off.after["active"] is False  # type: ignore[index]

    process = _unique("p_")
    _post(admin, "/admin/processes", {"name": process, "label": "Audited"}, page="/admin/")
    assert "Audited" in _one(stack, process, "process.create").after["yaml"]  # type: ignore[index]

    _post(admin, "/admin/canned/new", {"title": "Audited answer", "body": "Thanks."})
    with stack.sessions() as session:
        canned = session.scalar(
            select(AuditEntry)
            .where(AuditEntry.action == "canned.create")
            .order_by(AuditEntry.id.desc())
        )
        assert canned is not None and canned.after["title"] == "Audited answer"  # type: ignore[index]


def test_sign_ins_failed_sign_ins_and_portal_sign_ins_are_audited(stack: Stack) -> None:
    stack.login("agent2")
    with stack.sessions() as session:
        last = session.scalar(
            select(AuditEntry).where(AuditEntry.actor == "agent2").order_by(AuditEntry.id.desc())
        )
        assert last is not None and last.action == "sign_in" and last.address == "127.0.0.1"
    client = stack.client()
    page = client.get("/login").get_data(as_text=True)
    client.post(
        "/login",
        data={"username": "agent2", "password": "wrong!", "csrf_token": csrf_token(page)},
    )
    failed = _entries(stack, "agent2", "sign_in.failed")
    assert failed and failed[-1].after == {"step": "password"}

    email = unique_email()
    create(stack, email)
    assert set_password(portal_client(stack, email), PASSWORD).status_code == 303
    signed = password_login(stack.client(), email, PASSWORD)
    assert signed.status_code in (302, 303)
    with stack.sessions() as session:
        portal = list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "sign_in.portal")
                .where(AuditEntry.actor == email)
                .order_by(AuditEntry.id)
            )
        )
    assert [e.after for e in portal] == [{"method": "link"}, {"method": "password"}]
    assert portal[0].actor_kind == "customer"


def test_a_token_created_on_the_command_line_is_audited(stack: Stack, monkeypatch: Any) -> None:
    monkeypatch.setenv("TEMPODESK_DATABASE_URL", stack.settings.database_url)
    result = CliRunner().invoke(main, ["create-token", "agent1", "--scope", "ops"])
    assert result.exit_code == 0, result.output
    with stack.sessions() as session:
        entry = session.scalar(
            select(AuditEntry)
            .where(AuditEntry.action == "token.create")
            .order_by(AuditEntry.id.desc())
        )
    assert entry is not None and entry.actor.startswith("cli") and entry.actor_kind == "cli"
    assert entry.after == {"user": "agent1", "name": "cli", "scopes": ["ops"]}
    assert result.output.strip() not in json.dumps(entry.after)


def test_admins_view_and_export_the_log_formula_safe_and_agents_may_not(stack: Stack) -> None:
    admin = stack.login("admin")
    hostile = "=HYPERLINK(1)" + _unique("")
    with transaction(stack.sessions) as session:  # a name a spreadsheet would evaluate
        audit.record(session, "group.create", actor="admin", object_type="group", object_id=hostile)
    page = admin.get("/admin/audit?action=group.").get_data(as_text=True)
    assert "group.create" in page and "user.create" not in page
    exported = admin.get("/admin/audit/export?action=group.create").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0][:5] == ["id", "at", "actor", "actor_kind", "action"]
    assert ["'" + hostile] == [r[6] for r in rows[1:] if hostile in r[6]]
    as_json = admin.get("/admin/audit/export?format=json&action=group.create").get_json()
    assert all(e["action"] == "group.create" for e in as_json)
    agent = stack.login("agent1")
    assert agent.get("/admin/audit").status_code == 403
    assert agent.get("/admin/audit/export").status_code == 403


def test_help_centre_settings_are_audited(stack: Stack) -> None:
    admin = stack.login("admin")
    slug = _unique("cat-")
    data = {"name": "Audited category", "slug": slug, "language": "en", "position": "1"}
    assert _post(admin, "/kb/categories", data).status_code == 302
    with stack.sessions() as session:
        entry = session.scalar(
            select(AuditEntry)
            .where(AuditEntry.action == "kb_category.create")
            .order_by(AuditEntry.id.desc())
        )
    assert entry is not None and entry.after is not None and entry.after["slug"] == slug
    with stack.sessions() as session:
        current = site.look(session)
        original = {
            "title": current.title,
            "color_accent": current.color_accent,
            "color_background": current.color_background,
            "color_text": current.color_text,
        }
    looked = _post(admin, "/kb/look", {**original, "title": "Audited help"})
    assert looked.status_code == 302
    with stack.sessions() as session:
        look = session.scalar(
            select(AuditEntry)
            .where(AuditEntry.action == "kb_look.update")
            .order_by(AuditEntry.id.desc())
        )
    assert look is not None and look.after["title"] == "Audited help"  # type: ignore[index]
    assert _post(admin, "/kb/look", original).status_code == 302  # as the other tests expect


def test_webhook_subscriptions_are_audited_from_the_api_without_their_secret(
    stack: Stack,
) -> None:
    created = stack.client().post(
        "/api/v1/webhooks",
        json={"url": "http://127.0.0.1:9/audited", "events": ["ticket.created"]},
        headers=stack.api(),
    )
    assert created.status_code == 201, created.get_json()
    hook = created.get_json()
    gone = stack.client().delete(f"/api/v1/webhooks/{hook['id']}", headers=stack.api())
    assert gone.status_code == 204
    made = _one(stack, str(hook["id"]), "webhook.create")
    assert made.actor == "admin" and made.after is not None
    assert made.after["url"] == "http://127.0.0.1:9/audited"
    deleted = _one(stack, str(hook["id"]), "webhook.delete")
    assert deleted.before == made.after and deleted.after is None
    assert hook["secret"] not in json.dumps([made.after, deleted.before])
