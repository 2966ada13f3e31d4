"""The admin area: only admins get in."""

from __future__ import annotations

from tests.helpers import Stack


def test_agents_are_kept_out_of_the_admin_area(stack: Stack) -> None:
    assert stack.login("agent1").get("/admin/").status_code == 403
    assert stack.client().get("/admin/").status_code == 302  # to the login page


def test_admin_overview_lists_processes_and_channels(stack: Stack) -> None:
    html = stack.login("admin").get("/admin/").get_data(as_text=True)
    assert "Customer support" in html and "Returns and repairs" in html
    assert "Support mailbox" in html
