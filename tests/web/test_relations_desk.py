"""Tags, links and deleting from the desk's forms and the admins' tags page (Flask, a real
worker): forms need their CSRF token, deleting needs an admin and the typed number, and the
curated list is audited."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from tempodesk.core.models import AuditEntry
from tempodesk.tickets import tags as tag_store
from tests.helpers import Stack, csrf_token
from tests.web.test_inbound_email import ticket
from tests.web.test_merge import post_ticket


def page_of(desk: FlaskClient, number: str) -> str:
    return desk.get(f"/desk/tickets/{number}").get_data(as_text=True)


def test_a_tag_form_without_its_csrf_token_is_refused(stack: Stack) -> None:
    number = post_ticket(stack, "Forged tags")
    desk = stack.login("agent1")

    response = desk.post(f"/desk/tickets/{number}/tags", data={"add": "forged"})

    assert response.status_code == 400
    assert ticket(stack, number)["tags"] == []


def test_an_agent_tags_and_links_from_the_ticket_page(stack: Stack) -> None:
    number, other = post_ticket(stack, "Desk tags"), post_ticket(stack, "Desk link")
    desk = stack.login("agent1")
    token = csrf_token(page_of(desk, number))

    tagged = desk.post(
        f"/desk/tickets/{number}/tags", data={"csrf_token": token, "add": "Desk, Urgent"}
    )
    linked = desk.post(
        f"/desk/tickets/{number}/links",
        data={"csrf_token": token, "ticket": other, "kind": "related"},
    )

    assert (tagged.status_code, linked.status_code) == (303, 303)
    assert ticket(stack, number)["tags"] == ["desk", "urgent"]
    shown = page_of(desk, other)
    assert f'data-link="{number}"' in shown and 'data-kind="related"' in shown


def test_only_an_admin_deletes_and_only_after_typing_the_number(stack: Stack) -> None:
    number = post_ticket(stack, "Delete me from the desk")
    agent = stack.login("agent1")
    assert "delete-form" not in page_of(agent, number)
    forbidden = agent.post(
        f"/desk/tickets/{number}/delete",
        data={"csrf_token": csrf_token(page_of(agent, number)), "confirm": number},
    )
    admin = stack.login("admin")
    token = csrf_token(page_of(admin, number))

    unconfirmed = admin.post(f"/desk/tickets/{number}/delete", data={"csrf_token": token})
    deleted = admin.post(
        f"/desk/tickets/{number}/delete", data={"csrf_token": token, "confirm": number}
    )

    assert forbidden.status_code == 403
    assert unconfirmed.status_code == 303
    assert deleted.status_code == 303
    assert admin.get(f"/desk/tickets/{number}").status_code == 404


def test_the_admins_curated_tags_are_saved_and_audited(stack: Stack) -> None:
    admin = stack.login("admin")
    with stack.sessions() as session:
        before = [t.name for t in tag_store.curated(session)], tag_store.only_curated(session)
    page = admin.get("/admin/tags").get_data(as_text=True)
    try:
        response = admin.post(
            "/admin/tags",
            data={"csrf_token": csrf_token(page), "tags": "Hardware\nsoftware, Hardware"},
        )
        assert response.status_code == 302
        assert "hardware\nsoftware" in admin.get("/admin/tags").get_data(as_text=True)
        with stack.sessions() as session:
            entry = session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action == "tags.update")
                .order_by(AuditEntry.id.desc())
            ).first()
            assert entry is not None and entry.after == {
                "tags": ["hardware", "software"],
                "only_curated": False,
            }
    finally:
        with stack.sessions() as session:
            tag_store.save_curated(session, before[0], before[1], actor="admin")
            session.commit()
    assert stack.login("agent1").get("/admin/tags").status_code == 403
