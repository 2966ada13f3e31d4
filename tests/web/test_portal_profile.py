"""The portal's "my profile": name, language and whether non-essential mail is welcome."""

from __future__ import annotations

from sqlalchemy import select

from tempodesk.core.models import Contact, ContactChange
from tests.helpers import Stack, csrf_token
from tests.web.portal_helpers import create, portal_client, unique_email


def contact_of(stack: Stack, email: str) -> Contact:
    with stack.sessions() as session:
        found = session.scalar(select(Contact).where(Contact.email == email))
        assert found is not None
        session.expunge(found)
        return found


def test_the_customer_changes_name_language_and_refuses_non_essential_mail(
    any_stack: Stack,
) -> None:
    email = unique_email()
    create(any_stack, email)
    client = portal_client(any_stack, email)
    page = client.get("/portal/profile").get_data(as_text=True)
    assert 'value="Jana"' in page and 'name="non_essential_mail" value="on" checked' in page
    saved = client.post(
        "/portal/profile",
        data={"csrf_token": csrf_token(page), "name": "  Jana   Nováková ", "language": "cs"},
    )
    assert saved.status_code == 303
    contact = contact_of(any_stack, email)
    assert contact.name == "Jana Nováková" and contact.language == "cs"
    assert contact.non_essential_mail is False  # the box left unticked
    assert contact.email == email  # the address is not the customer's to change here
    again = client.get("/portal/profile").get_data(as_text=True)
    assert "Můj profil" in again  # the portal now speaks Czech
    assert 'name="non_essential_mail" value="on" checked' not in again
    with any_stack.sessions() as session:  # on the contact's history, as an agent's edit is
        changes = {
            (c.field, c.old_value, c.new_value, c.changed_by)
            for c in session.scalars(
                select(ContactChange).where(ContactChange.contact_id == contact.id)
            )
        }
    assert changes == {
        ("name", "Jana", "Jana Nováková", "customer (portal)"),
        ("language", "en", "cs", "customer (portal)"),
        ("non_essential_mail", "True", "False", "customer (portal)"),
    }


def test_a_profile_post_with_bad_values_changes_nothing(any_stack: Stack) -> None:
    email = unique_email()
    create(any_stack, email)
    client = portal_client(any_stack, email)
    token = csrf_token(client.get("/portal/profile").get_data(as_text=True))
    for data in (
        {"name": "x" * 201, "language": "en", "non_essential_mail": "on"},
        {"name": "Eve", "language": "xx", "non_essential_mail": "on"},
        {"name": "Eve", "language": "en", "email": "eve@evil.test", "non_essential_mail": "on"},
    ):
        response = client.post("/portal/profile", data={"csrf_token": token, **data})
        if data.get("email"):
            assert response.status_code == 303  # the address is ignored, the rest saved
        else:
            assert response.status_code == 422, data
    contact = contact_of(any_stack, email)
    assert contact.email == email and contact.name == "Eve"
    assert client.post("/portal/profile", data={"name": "Mallory"}).status_code == 400
    assert contact_of(any_stack, email).name == "Eve"


def test_the_profile_needs_sign_in(any_stack: Stack) -> None:
    response = any_stack.client().get("/portal/profile")
    assert response.status_code == 302 and "/portal/login" in response.headers["Location"]
