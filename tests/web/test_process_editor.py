"""The process editor of the admin area, end to end through Flask on PostgreSQL.

Every test works on its own copy of the support process ("editor_<8 hex>"), so the shared
"support" process other tests use never changes.
"""

from __future__ import annotations

import html
import io
import re
import uuid
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient

from statemachines import bundled, read_yaml
from tempodesk.core.db import transaction
from tempodesk.messaging import templates
from tempodesk.tickets import processes
from tests.helpers import Stack, csrf_token
from web import CSP
from web.admin import process_form

# --------------------------------------------------------------------------- helpers


class FormData:
    """What a browser would post for one <form> of a page (no button pressed yet)."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self.pairs = pairs

    def get(self, name: str) -> str:
        return next(v for k, v in self.pairs if k == name)

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.pairs if k == name]

    def set(self, name: str, value: str) -> None:
        self.pairs = [(k, v) for k, v in self.pairs if k != name] + [(name, value)]

    def tick(self, name: str, value: str) -> None:
        if (name, value) not in self.pairs:
            self.pairs.append((name, value))

    def untick(self, name: str, value: str) -> None:
        self.pairs = [(k, v) for k, v in self.pairs if (k, v) != (name, value)]

    def as_dict(self) -> dict[str, list[str]]:
        result: dict[str, list[str]] = {}
        for k, v in self.pairs:
            result.setdefault(k, []).append(v)
        return result

    def state(self, state_id: str) -> str:
        """The input prefix (s<i>) of the state shown with this id."""
        return self._prefix("s", state_id)

    def action(self, action_id: str) -> str:
        return self._prefix("a", action_id)

    def _prefix(self, kind: str, item_id: str) -> str:
        for k, v in self.pairs:
            if re.fullmatch(rf"{kind}\d+-orig", k) and v == item_id:
                return k.removesuffix("-orig")
        raise KeyError(item_id)


class _FormParser(HTMLParser):
    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.pairs: list[tuple[str, str]] = []
        self.select: tuple[str, list[tuple[str, bool]]] | None = None
        self.option: list[Any] | None = None
        self.textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.pairs.append((name, a.get("value", "on")))
            elif kind not in ("submit", "file", "button"):
                self.pairs.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self.select = (name, [])
        elif tag == "option" and self.select is not None:
            self.option = [a.get("value"), "selected" in a, ""]
            self.select[1].append(("", False))
        elif tag == "textarea" and name:
            self.textarea = (name, [])

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.textarea[1].append(data)
        if self.option is not None:
            self.option[2] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "option" and self.option is not None and self.select is not None:
            value, selected, text = self.option
            self.select[1][-1] = (text if value is None else value, selected)
            self.option = None
        elif tag == "select" and self.select is not None:
            name, options = self.select
            chosen = [v for v, selected in options if selected] or [options[0][0]]
            self.pairs.append((name, chosen[0]))
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.pairs.append((self.textarea[0], "".join(self.textarea[1])))
            self.textarea = None


def form_of(page: str, form_id: str = "process-form") -> FormData:
    parser = _FormParser(form_id)
    parser.feed(page)
    assert parser.pairs, f"no form #{form_id} in the page"
    return FormData(parser.pairs)


def text_of(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def support_copy(stack: Stack) -> str:
    """Publish a copy of the bundled support process under a fresh name; return the name."""
    name = f"editor_{uuid.uuid4().hex[:8]}"
    data = yaml.safe_load(bundled("support"))
    data["name"] = name
    with transaction(stack.sessions) as session:
        processes.publish(session, yaml.safe_dump(data, sort_keys=False), author="tests")
    return name


def document_of(stack: Stack, name: str) -> dict[str, Any]:
    with stack.sessions() as session:
        data: dict[str, Any] = read_yaml(processes.draft_text(session, name))
    return data


def version_numbers(stack: Stack, name: str) -> list[int]:
    with stack.sessions() as session:
        return [v.version for v in processes.versions(session, name)]


def press(
    admin: FlaskClient, name: str, form: FormData, op: str, follow: bool = True
) -> tuple[Any, FormData | None]:
    """Post the form editor with the button ``op``; the page after it and its form."""
    data = form.as_dict()
    data["op"] = [op]
    response = admin.post(f"/admin/processes/{name}/edit", data=data, follow_redirects=follow)
    page = response.get_data(as_text=True)
    return response, (form_of(page) if 'id="process-form"' in page else None)


def expert_save(admin: FlaskClient, name: str, text: str, op: str = "save") -> Any:
    page = admin.get(f"/admin/processes/{name}/yaml").get_data(as_text=True)
    return admin.post(
        f"/admin/processes/{name}/yaml",
        data={"csrf_token": csrf_token(page), "yaml": text, "op": op},
    )


def token_of(client: FlaskClient) -> str:
    return csrf_token(client.get("/desk/").get_data(as_text=True))


def create_ticket(stack: Stack, process: str) -> str:
    response = stack.client().post(
        "/api/v1/tickets",
        json={
            "subject": "Editor test",
            "body": "Testing a process from the editor.",
            "customer": {"email": "editor@example.com"},
            "process": process,
        },
        headers=stack.api(),
    )
    assert response.status_code == 201, response.get_json()
    number: str = response.get_json()["number"]
    return number


def action_names(stack: Stack, number: str) -> list[str]:
    response = stack.client().get(f"/api/v1/tickets/{number}/actions", headers=stack.api())
    assert response.status_code == 200, response.get_json()
    return [a["name"] for a in response.get_json()]


# --------------------------------------------------------------------------- access


def test_only_admins_reach_the_process_editor(stack: Stack) -> None:
    name = support_copy(stack)
    agent = stack.login("agent1")
    token = token_of(agent)
    base = f"/admin/processes/{name}"
    gets = [
        base,
        f"{base}/edit",
        f"{base}/yaml",
        f"{base}/versions/1/export",
        f"{base}/diff?a=1&b=1",
    ]
    posts = [
        "/admin/processes",
        f"{base}/edit",
        f"{base}/yaml",
        f"{base}/import",
        f"{base}/discard",
        f"{base}/diagram",
    ]
    for url in gets:
        assert agent.get(url).status_code == 403, url
        assert stack.client().get(url).status_code == 302, url  # to the login page
    for url in posts:
        response = agent.post(url, data={"csrf_token": token, "name": "x", "yaml": "x"})
        assert response.status_code == 403, url
    assert version_numbers(stack, name) == [1]


def test_the_overview_links_each_process_to_its_page(stack: Stack) -> None:
    page = stack.login("admin").get("/admin/").get_data(as_text=True)
    assert 'href="/admin/processes/support"' in page
    assert 'action="/admin/processes"' in page  # the "New process" form


# --------------------------------------------------------------------------- form editor


def test_the_form_editor_gives_back_the_support_process_unchanged(stack: Stack) -> None:
    admin = stack.login("admin")
    page = admin.get("/admin/processes/support/edit").get_data(as_text=True)
    result = process_form.document_from_form(form_of(page).as_dict(), "support")
    with stack.sessions() as session:
        expected = read_yaml(processes.export(session, "support"))
    assert result.problems == []
    assert result.document == expected
    assert list(result.document["states"]) == list(expected["states"])
    assert list(result.document["actions"]) == list(expected["actions"])


def test_saving_an_untouched_form_keeps_the_yaml_as_it_was(stack: Stack) -> None:
    name = support_copy(stack)
    admin = stack.login("admin")
    form = form_of(admin.get(f"/admin/processes/{name}/edit").get_data(as_text=True))
    response, _ = press(admin, name, form, "save")
    assert "Draft saved." in text_of(response)
    with stack.sessions() as session:
        assert processes.draft_text(session, name) == processes.export(session, name)


def test_a_state_and_action_added_in_the_form_reach_new_tickets_only(stack: Stack) -> None:
    name = support_copy(stack)
    before = create_ticket(stack, name)
    admin = stack.login("admin")
    form = form_of(admin.get(f"/admin/processes/{name}/edit").get_data(as_text=True))

    _, form = press(admin, name, form, "add_state")
    assert form is not None
    state = form.state("new_state")
    form.set(f"{state}-id", "escalated")
    form.set(f"{state}-label", "Escalated")
    form.set(f"{state}-category", "open")
    _, form = press(admin, name, form, "add_action")
    assert form is not None
    # The new state offers "close" (index of the action "close" in the form).
    close_index = form.action("close").removeprefix("a")
    form.tick(f"{form.state('escalated')}-offer", close_index)

    action = form.action("new_action")
    form.set(f"{action}-id", "escalate")
    form.set(f"{action}-label", "Escalate")
    form.set(f"{action}-target", "escalated")
    form.tick(f"{form.state('new')}-offer", action.removeprefix("a"))
    _, form = press(admin, name, form, "add_field:new_action")  # renamed in the same post
    assert form is not None
    action = form.action("escalate")
    form.set(f"{action}-f0-id", "level")
    form.set(f"{action}-f0-type", "select")
    form.set(f"{action}-f0-label", "Level")
    form.set(f"{action}-f0-choices", "first=First line\nsecond=Second line")
    form.set(f"{action}-f0-required", "on")
    _, form = press(admin, name, form, "add_effect:escalate")
    assert form is not None
    form.set(f"{action}-e0-type", "send_template")
    form.set(f"{action}-e0-template", "assigned_to_you")
    form.set(f"{action}-e0-to", "assignee")
    response, _ = press(admin, name, form, "publish")

    assert f"Published {name} v2." in text_of(response)
    assert response.request.path == f"/admin/processes/{name}"
    with stack.sessions() as session:
        published = processes.definition(session, name, 2)
    escalate = published.action("escalate")
    assert escalate is not None and escalate.target == "escalated"
    assert [(f.id, f.type, [c.value for c in f.choices]) for f in escalate.fields] == [
        ("level", "select", ["first", "second"])
    ]
    assert [(e.type, dict(e.args)) for e in escalate.effects] == [
        ("send_template", {"template": "assigned_to_you", "to": "assignee"})
    ]
    assert published.state("escalated").actions == ("close",)
    assert published.state("new").actions[-1] == "escalate"

    after = create_ticket(stack, name)
    assert "escalate" in action_names(stack, after)
    assert "escalate" not in action_names(stack, before)  # pinned to v1
    assert "reply" in action_names(stack, before)


def test_renaming_a_state_in_the_form_renames_every_reference(stack: Stack) -> None:
    name = support_copy(stack)
    admin = stack.login("admin")
    form = form_of(admin.get(f"/admin/processes/{name}/edit").get_data(as_text=True))
    form.set(f"{form.state('open')}-id", "working")
    form.set(f"{form.action('reply')}-id", "answer")
    response, _ = press(admin, name, form, "publish")
    assert f"Published {name} v2." in text_of(response)
    data = document_of(stack, name)  # the draft is gone: the latest version
    assert "working" in data["states"] and "open" not in data["states"]
    assert data["actions"]["forward"]["target"] == "working"
    assert data["states"]["resolved"]["on_customer_message"] == "working"
    assert data["states"]["new"]["actions"][0] == "answer"
    assert "reply" not in data["actions"]


def test_a_bad_id_typed_in_the_form_is_kept_in_the_draft_and_shown_at_its_state(
    stack: Stack,
) -> None:
    name = support_copy(stack)
    admin = stack.login("admin")
    form = form_of(admin.get(f"/admin/processes/{name}/edit").get_data(as_text=True))
    form.set(f"{form.state('spam')}-id", "Junk Mail")
    response, form = press(admin, name, form, "save")
    page = text_of(response)
    assert "Draft saved; it has problems." in page
    start = page.index('id="state-Junk Mail"')
    state = page[start : page.index("</fieldset>", start)]
    assert "'Junk Mail' is not a valid id: use a-z, 0-9 and _." in state
    assert document_of(stack, name)["actions"]["mark_spam"]["target"] == "Junk Mail"
    assert version_numbers(stack, name) == [1]


def test_problems_are_shown_next_to_their_cause_in_the_form_editor(stack: Stack) -> None:
    name = support_copy(stack)
    admin = stack.login("admin")
    data = document_of(stack, name)
    data["actions"]["reply"]["target"] = "nowhere"
    data["actions"]["assign"]["effects"][1]["template"] = "no_such_template"
    data["states"]["resolved"]["visible_to"] = ["Nobody"]
    expert_save(admin, name, yaml.safe_dump(data, sort_keys=False))
    page = text_of(admin.get(f"/admin/processes/{name}/edit"))

    def section(element_id: str) -> str:
        start = page.index(f'id="{element_id}"')
        return page[start : page.index("</fieldset>", start)]

    assert "Unknown target state 'nowhere'." in section("action-reply")
    assert "Unknown target state 'nowhere'." not in section("action-close")
    # One problem at a time: the read problems hide the graph, group and template checks.
    data["actions"]["reply"]["target"] = "waiting_for_customer"
    expert_save(admin, name, yaml.safe_dump(data, sort_keys=False))
    page = text_of(admin.get(f"/admin/processes/{name}/edit"))
    assert "Unknown group 'Nobody'." in section("state-resolved")
    data["states"]["resolved"].pop("visible_to")
    expert_save(admin, name, yaml.safe_dump(data, sort_keys=False))
    page = text_of(admin.get(f"/admin/processes/{name}/edit"))
    assert "There is no template 'no_such_template'." in section("action-assign-effect-1")


def test_the_form_editor_opens_a_process_that_has_only_a_draft(stack: Stack) -> None:
    admin = stack.login("admin")
    page = admin.get("/admin/").get_data(as_text=True)
    name = f"editor_{uuid.uuid4().hex[:8]}"
    response = admin.post(
        "/admin/processes",
        data={"csrf_token": csrf_token(page), "name": name, "label": "Fresh", "copy_from": ""},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert response.request.path == f"/admin/processes/{name}/edit"
    assert version_numbers(stack, name) == []
    assert name in admin.get("/admin/").get_data(as_text=True)  # listed though unpublished
    assert admin.get(f"/admin/processes/{name}").status_code == 200
    form = form_of(response.get_data(as_text=True))
    response, _ = press(admin, name, form, "publish")
    assert f"Published {name} v1." in text_of(response)


def test_a_new_process_can_start_as_a_copy(stack: Stack) -> None:
    admin = stack.login("admin")
    page = admin.get("/admin/").get_data(as_text=True)
    name = f"editor_{uuid.uuid4().hex[:8]}"
    admin.post(
        "/admin/processes",
        data={"csrf_token": csrf_token(page), "name": name, "copy_from": "returns"},
    )
    data = document_of(stack, name)
    assert data["name"] == name and "awaiting_parcel" in data["states"]
    response = admin.post(
        "/admin/processes",
        data={"csrf_token": csrf_token(page), "name": name},
        follow_redirects=True,
    )
    assert f"There is already a process named '{name}'." in text_of(response)
    assert admin.get("/admin/processes/no_such_process/edit").status_code == 404


def test_discarding_the_draft_goes_back_to_the_latest_version(stack: Stack) -> None:
    name = support_copy(stack)
    admin = stack.login("admin")
    data = document_of(stack, name)
    data["label"] = "Changed"
    expert_save(admin, name, yaml.safe_dump(data, sort_keys=False))
    page = admin.get(f"/admin/processes/{name}").get_data(as_text=True)
    assert "Discard draft" in page
    admin.post(f"/admin/processes/{name}/discard", data={"csrf_token": csrf_token(page)})
    assert document_of(stack, name)["label"] == "Customer support"


# --------------------------------------------------------------------------- expert editor


def _unknown_target(data: dict[str, Any]) -> None:
    data["actions"]["reply"]["target"] = "nowhere"


def _unreachable(data: dict[str, Any]) -> None:
    data["states"]["limbo"] = {"label": "Limbo", "category": "closed", "actions": []}


def _no_closed(data: dict[str, Any]) -> None:
    for state in data["states"].values():
        if state["category"] == "closed":
            state["category"] = "resolved"
            state["actions"] = state.get("actions") or ["reopen"]


def _dead_end(data: dict[str, Any]) -> None:
    data["states"]["resolved"]["actions"] = []
    data["states"]["resolved"].pop("on_customer_message")


def _unknown_template(data: dict[str, Any]) -> None:
    data["actions"]["close"]["effects"] = [
        {"type": "send_template", "template": "no_such_template", "to": "customer"}
    ]


def _unknown_group(data: dict[str, Any]) -> None:
    data["actions"]["close"]["groups"] = ["Nobody"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_unknown_target, "actions.reply.target Unknown target state 'nowhere'."),
        (_unreachable, "states.limbo This state cannot be reached from the initial state."),
        (_no_closed, "states No closed state can be reached: tickets could never be closed."),
        (_dead_end, "states.resolved This state has no way out but its category is not closed."),
        (_unknown_template, "actions.close.effects[0].template There is no template "),
        (_unknown_group, "actions.close.groups Unknown group 'Nobody'."),
    ],
    ids=["unknown target", "unreachable", "no closed", "dead end", "template", "group"],
)
def test_the_expert_editor_lists_every_problem_with_its_location(
    stack: Stack, change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    name = support_copy(stack)
    admin = stack.login("admin")
    data = document_of(stack, name)
    change(data)
    response = expert_save(admin, name, yaml.safe_dump(data, sort_keys=False))
    page = text_of(response)
    assert response.status_code == 200
    assert expected in re.sub(r"<[^>]+>", "", page).replace("\n", " ").replace("  ", " ")
    assert "Draft saved; it has problems." in page
    # The draft keeps the work, problems and all; nothing is published.
    assert document_of(stack, name) == data
    assert version_numbers(stack, name) == [1]


def _problems_in(page: str) -> list[str]:
    """The problems of the page as "location message"."""
    return [
        " ".join(re.sub(r"<[^>]+>", " ", item).split())
        for item in re.findall(r"<li>(<code class=\"problem-location\">.*?)</li>", page)
    ]


def test_a_duplicated_id_in_the_yaml_is_reported_with_its_line(stack: Stack) -> None:
    name = support_copy(stack)
    admin = stack.login("admin")
    with stack.sessions() as session:
        text = processes.export(session, name)
    lines = text.splitlines()
    at = lines.index("  closed:")
    text = "\n".join(
        [*lines[:at], "  open:", "    label: Again", "    category: open", *lines[at:]]
    )
    page = text_of(expert_save(admin, name, text))
    line = at + 1
    assert f"line {line} 'open' is defined twice here; ids must be unique." in _problems_in(page)


def test_a_template_using_a_field_no_action_sets_is_reported(stack: Stack) -> None:
    template = f"warranty_{uuid.uuid4().hex[:8]}"
    with transaction(stack.sessions) as session:
        templates.save(
            session,
            template,
            channel="email",
            description="test",
            texts={"en": ("Warranty", "Valid until {{ ticket.fields.warranty_until }}")},
            author="tests",
        )
    name = support_copy(stack)
    admin = stack.login("admin")
    data = document_of(stack, name)
    data["actions"]["close"]["effects"] = [
        {"type": "send_template", "template": template, "to": "customer"}
    ]
    page = text_of(expert_save(admin, name, yaml.safe_dump(data, sort_keys=False)))
    assert (
        f"actions.close.effects[0].template The template '{template}' uses the field "
        "'warranty_until', which no action sets." in _problems_in(page)
    )


def test_publishing_with_problems_publishes_nothing(stack: Stack) -> None:
    name = support_copy(stack)
    admin = stack.login("admin")
    data = document_of(stack, name)
    _unknown_target(data)
    response = expert_save(admin, name, yaml.safe_dump(data, sort_keys=False), op="publish")
    assert response.status_code == 422
    assert "Not published" in text_of(response)
    assert version_numbers(stack, name) == [1]

    form = form_of(admin.get(f"/admin/processes/{name}/edit").get_data(as_text=True))
    response, _ = press(admin, name, form, "publish", follow=False)
    assert response.status_code == 422
    assert "actions.reply.target" in text_of(response)
    assert version_numbers(stack, name) == [1]


def test_the_expert_editor_refuses_a_document_named_for_another_process(stack: Stack) -> None:
    name = support_copy(stack)
    admin = stack.login("admin")
    with stack.sessions() as session:
        text = processes.export(session, "returns")
    before = version_numbers(stack, "returns")
    response = expert_save(admin, name, text.replace("Returns and", "Changed"), op="publish")
    assert response.status_code == 422
    assert f"This editor edits '{name}'; the document is named 'returns'." in text_of(response)
    assert version_numbers(stack, "returns") == before


def test_the_expert_editor_publishes_a_valid_draft(stack: Stack) -> None:
    name = support_copy(stack)
    admin = stack.login("admin")
    data = document_of(stack, name)
    data["states"]["open"]["label"] = "Being worked on"
    response = expert_save(admin, name, yaml.safe_dump(data, sort_keys=False), op="publish")
    assert response.status_code == 302
    assert f"Published {name} v2." in text_of(admin.get(response.location))
    with stack.sessions() as session:
        assert processes.draft(session, name) is None


# --------------------------------------------------------------------------- versions


def test_export_and_import_go_round(stack: Stack) -> None:
    name = support_copy(stack)
    admin = stack.login("admin")
    exported = admin.get(f"/admin/processes/{name}/versions/1/export")
    assert exported.status_code == 200
    assert exported.mimetype == "text/yaml"
    assert exported.headers["Content-Disposition"] == f'attachment; filename="{name}-v1.yaml"'
    text = exported.get_data(as_text=True)

    page = admin.get(f"/admin/processes/{name}").get_data(as_text=True)
    changed = text.replace("label: Open\n", "label: Opened\n", 1)
    response = admin.post(
        f"/admin/processes/{name}/import",
        data={"csrf_token": csrf_token(page), "file": (io.BytesIO(changed.encode()), "p.yaml")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Imported into the draft. It has no problems" in text_of(response)
    with stack.sessions() as session:
        assert processes.draft_text(session, name) == changed
    response = admin.post(
        f"/admin/processes/{name}/import",
        data={"csrf_token": csrf_token(page), "yaml": text},
        follow_redirects=True,
    )
    assert response.request.path == f"/admin/processes/{name}/yaml"
    with stack.sessions() as session:
        assert processes.draft_text(session, name) == text


def test_an_imported_document_with_problems_becomes_the_draft_with_them_listed(
    stack: Stack,
) -> None:
    name = support_copy(stack)
    admin = stack.login("admin")
    data = document_of(stack, name)
    _unreachable(data)
    page = admin.get(f"/admin/processes/{name}").get_data(as_text=True)
    response = admin.post(
        f"/admin/processes/{name}/import",
        data={"csrf_token": csrf_token(page), "yaml": yaml.safe_dump(data, sort_keys=False)},
        follow_redirects=True,
    )
    assert "1 problem(s) to fix" in text_of(response)
    assert "states.limbo This state cannot be reached from the initial state." in _problems_in(
        text_of(response)
    )


def test_the_diff_shows_the_added_state(stack: Stack) -> None:
    name = support_copy(stack)
    admin = stack.login("admin")
    data = document_of(stack, name)
    data["states"]["on_hold"] = {"label": "On hold", "category": "pending", "actions": ["close"]}
    data["states"]["open"]["actions"].append("hold")
    data["actions"]["hold"] = {"label": "Hold", "target": "on_hold"}
    expert_save(admin, name, yaml.safe_dump(data, sort_keys=False), op="publish")
    page = admin.get(f"/admin/processes/{name}").get_data(as_text=True)
    assert 'action="/admin/processes/' in page and "Show the differences" in page
    diff = admin.get(f"/admin/processes/{name}/diff?a=1&b=2").get_data(as_text=True)
    assert '<span class="diff-line diff-add">+  on_hold:</span>' in diff
    assert '<span class="diff-line diff-add">+    label: On hold</span>' in diff
    assert admin.get(f"/admin/processes/{name}/diff?a=1&b=9").status_code == 404


def test_the_process_page_shows_versions_and_the_diagram(stack: Stack) -> None:
    name = support_copy(stack)
    admin = stack.login("admin")
    response = admin.get(f"/admin/processes/{name}")
    page = response.get_data(as_text=True)
    assert "v1" in page and "tests" in page  # version and author
    assert "stateDiagram-v2" in page
    assert f"/admin/processes/{name}/migrate" in page
    assert f"/admin/processes/{name}/versions/1/export" in page
    # Mermaid's SVG needs inline styles there; scripts stay 'self' only.
    policy = response.headers["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy and "script-src 'self';" in policy
    assert policy == CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
    assert admin.get("/admin/").headers["Content-Security-Policy"] == CSP


# --------------------------------------------------------------------------- live diagram


def test_the_live_diagram_draws_valid_yaml_and_lists_problems_of_invalid(stack: Stack) -> None:
    name = support_copy(stack)
    admin = stack.login("admin")
    page = admin.get(f"/admin/processes/{name}/yaml").get_data(as_text=True)
    headers = {"X-CSRFToken": csrf_token(page)}
    data = document_of(stack, name)
    response = admin.post(
        f"/admin/processes/{name}/diagram",
        data={"yaml": yaml.safe_dump(data, sort_keys=False)},
        headers=headers,
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["mermaid"].startswith("stateDiagram-v2")
    assert "new --> waiting_for_customer : Reply" in body["mermaid"]
    assert body["problems"] == []

    _unreachable(data)  # unfinished work is drawn, with its problems
    body = admin.post(
        f"/admin/processes/{name}/diagram",
        data={"yaml": yaml.safe_dump(data, sort_keys=False)},
        headers=headers,
    ).get_json()
    assert 'state "Limbo" as limbo' in body["mermaid"]
    assert body["problems"] == [
        "states.limbo: This state cannot be reached from the initial state."
    ]

    _unknown_target(data)  # a document that cannot be read is not drawn
    body = admin.post(
        f"/admin/processes/{name}/diagram",
        data={"yaml": yaml.safe_dump(data, sort_keys=False)},
        headers=headers,
    ).get_json()
    assert body["mermaid"] == ""
    assert body["problems"] == ["actions.reply.target: Unknown target state 'nowhere'."]
    assert admin.post(f"/admin/processes/{name}/diagram", data={"yaml": "x"}).status_code == 400


def test_the_live_diagram_reads_the_form_editor_as_posted(stack: Stack) -> None:
    name = support_copy(stack)
    admin = stack.login("admin")
    page = admin.get(f"/admin/processes/{name}/edit").get_data(as_text=True)
    form = form_of(page)
    form.set(f"{form.action('forward')}-target", "resolved")
    body = admin.post(
        f"/admin/processes/{name}/diagram",
        data=form.as_dict(),
        headers={"X-CSRFToken": csrf_token(page)},
    ).get_json()
    assert "new --> resolved : Forward" in body["mermaid"]
    assert "new --> open : Forward" not in body["mermaid"]
    assert body["problems"] == []
    assert version_numbers(stack, name) == [1]
    assert document_of(stack, name)["actions"]["forward"]["target"] == "open"


def test_hostile_yaml_is_refused_and_never_run(stack: Stack, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    hostile = f"!!python/object/apply:os.system ['touch {marker}']\n"
    name = support_copy(stack)
    admin = stack.login("admin")
    response = expert_save(admin, name, hostile, op="publish")
    assert response.status_code == 422
    assert "Not valid YAML: could not determine a constructor" in text_of(response)

    page = admin.get(f"/admin/processes/{name}").get_data(as_text=True)
    response = admin.post(
        f"/admin/processes/{name}/import",
        data={"csrf_token": csrf_token(page), "yaml": hostile},
        follow_redirects=True,
    )
    assert "Not imported: line 1, column 1: Not valid YAML: could not determine a constructor" in (
        text_of(response)
    )
    body = admin.post(
        f"/admin/processes/{name}/diagram",
        data={"yaml": hostile},
        headers={"X-CSRFToken": csrf_token(page)},
    ).get_json()
    assert body["mermaid"] == "" and "Not valid YAML" in body["problems"][0]
    # The form editor cannot show it; it sends the admin to the expert editor.
    assert "cannot be shown as a form" in text_of(admin.get(f"/admin/processes/{name}/edit"))
    assert not marker.exists()
    assert version_numbers(stack, name) == [1]
