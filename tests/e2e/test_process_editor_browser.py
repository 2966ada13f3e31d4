"""The process editor in a real browser: form editing, the live Mermaid diagram, publishing.

Screenshots land in test-results/screenshots.
"""

from __future__ import annotations

import re
import uuid

import yaml
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from statemachines import bundled
from tempodesk.core.db import transaction
from tempodesk.tickets import processes
from tests.e2e.pages import shot, sign_in
from tests.helpers import Stack


def support_copy(stack: Stack) -> str:
    name = f"editor_{uuid.uuid4().hex[:8]}"
    data = yaml.safe_load(bundled("support"))
    data["name"] = name
    with transaction(stack.sessions) as session:
        processes.publish(session, yaml.safe_dump(data, sort_keys=False), author="tests")
    return name


def test_admin_adds_a_state_and_an_action_sees_the_diagram_and_publishes(
    page: Page, live_url: str, stack: Stack
) -> None:
    name = support_copy(stack)
    blocked: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            blocked.append(message.text)

    page.on("console", watch)
    sign_in(page, live_url, stack, "admin")
    page.goto(f"{live_url}/admin/")
    page.locator("a#support").click()  # the overview links each process to its page
    expect(page).to_have_url(re.compile(r"/admin/processes/support$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Customer support (support)")
    page.goto(f"{live_url}/admin/processes/{name}")
    expect(page.locator("#diagram svg")).to_be_visible()
    page.get_by_role("link", name="Form editor").click()
    expect(page.locator("#diagram svg")).to_be_visible()
    shot(page, "process-form-editor")

    page.get_by_role("button", name="Add a state").click()
    state = page.locator("#state-new_state")
    expect(state).to_be_visible()
    state.get_by_label("Id", exact=True).fill("escalated")
    state.get_by_label("Label (agents see it)").fill("Escalated")
    state.get_by_label("Category", exact=True).select_option("open")
    state.get_by_role("checkbox", name="Close close", exact=True).check()

    page.get_by_role("button", name="Add an action").click()
    action = page.locator("#action-new_action")
    expect(action).to_be_visible()
    action.get_by_label("Id", exact=True).fill("escalate")
    action.get_by_label("Label (the button)").fill("Escalate")
    action.get_by_label("Target state").select_option("escalated")
    page.locator("#state-new").get_by_role(
        "checkbox", name="New action new_action", exact=True
    ).check()
    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_text("Draft saved.")).to_be_visible()
    expect(page.locator("#diagram-problems")).to_be_hidden()
    expect(page.locator("#diagram svg")).to_contain_text("Escalated")
    expect(page.locator("#diagram svg")).to_contain_text("Escalate")
    shot(page, "process-form-editor-new-state")

    # The live diagram follows an edit before it is saved (a renamed state included).
    page.locator("#state-escalated").get_by_label("Id", exact=True).fill("escalated_twice")
    expect(page.locator("#diagram svg")).to_contain_text("Escalated twice")
    page.locator("#state-escalated").get_by_label("Id", exact=True).fill("Not An Id")
    expect(page.locator("#diagram-problems")).to_contain_text("is not a valid id")
    page.locator("#state-escalated").get_by_label("Id", exact=True).fill("escalated_twice")
    expect(page.locator("#diagram-problems")).to_be_hidden()

    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text(f"Published {name} v2.")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/admin/processes/{name}$"))
    expect(page.locator("#diagram svg")).to_contain_text("Escalated twice")
    shot(page, "process-published")
    with stack.sessions() as session:
        published = processes.definition(session, name, 2)
    assert published.state("new").actions[-1] == "escalate"
    assert published.action("escalate").target == "escalated_twice"  # type: ignore[union-attr]
    assert blocked == []


def test_the_expert_editor_redraws_while_typing(page: Page, live_url: str, stack: Stack) -> None:
    name = support_copy(stack)
    sign_in(page, live_url, stack, "admin")
    page.goto(f"{live_url}/admin/processes/{name}/yaml")
    expect(page.locator("#diagram svg")).to_be_visible()
    editor = page.get_by_label("Definition (YAML)")
    text = editor.input_value()
    editor.fill(text.replace("target: spam", "target: nowhere"))
    expect(page.locator("#diagram-problems")).to_contain_text(
        "actions.mark_spam.target: Unknown target state 'nowhere'."
    )
    expect(page.locator("#diagram-status")).to_contain_text("No diagram")
    shot(page, "process-expert-editor-problem")
    editor.fill(text)
    expect(page.locator("#diagram svg")).to_be_visible()
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", name="No problems")).to_be_visible()


def test_the_form_editor_works_without_javascript(
    browser: Browser, live_url: str, stack: Stack
) -> None:
    name = support_copy(stack)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, live_url, stack, "admin")
        page.goto(f"{live_url}/admin/processes/{name}/edit")
        # No drawing without JavaScript: the Mermaid text is shown instead.
        expect(page.locator("#diagram-source")).to_contain_text("stateDiagram-v2")
        page.get_by_role("button", name="Add an action").click()
        action = page.locator("#action-new_action")
        action.get_by_label("Id", exact=True).fill("note_only")
        action.get_by_role("button", name="Add an effect").click()
        effect = page.locator("#action-note_only-effect-0")
        expect(effect.get_by_text("The add_note effect needs 'body_field'.")).to_be_visible()
        effect.get_by_label("Type").select_option("send_template")
        page.get_by_role("button", name="Save draft").click()  # shows the template's arguments
        effect.get_by_label("Template").select_option("assigned_to_you")
        effect.get_by_label("Send to").select_option("assignee")
        page.get_by_label("Label", exact=True).first.press("Enter")  # Enter saves the draft
        expect(page.get_by_text("Draft saved.")).to_be_visible()
        expect(page.get_by_role("heading", name="No problems")).to_be_visible()
        shot(page, "process-form-editor-no-javascript")
    finally:
        context.close()
    with stack.sessions() as session:
        draft = processes.draft_text(session, name)
    assert "note_only:" in draft and "template: assigned_to_you" in draft
