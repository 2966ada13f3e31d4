"""The form editor's model (web.admin.process_form): pure, no Flask, no database."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from statemachines import Problem, bundled, load_text, read_yaml, to_yaml
from web.admin import process_form as pf


def canonical(name: str) -> dict[str, Any]:
    """A bundled process as the editor opens it (the canonical document)."""
    data: dict[str, Any] = read_yaml(to_yaml(load_text(bundled(name))))
    return data


def posted(document: dict[str, Any], groups: tuple[str, ...] = ("Billing",)) -> dict[str, Any]:
    """What the form editor page posts for a document when nothing is touched (the same
    names as templates/admin/processes/edit.html)."""
    form = pf.editor_form(document, groups=groups, templates=("assigned_to_you",))
    data: dict[str, list[str]] = {
        "label": [form.label],
        "description": [form.description],
        "initial": [form.initial],
        "state_count": [str(len(form.states))],
        "action_count": [str(len(form.actions))],
    }
    if form.assignee_only:
        data["assignee_only"] = ["on"]
    for s in form.states:
        p = f"s{s.index}"
        data.update(
            {
                f"{p}-orig": [s.id],
                f"{p}-id": [s.id],
                f"{p}-label": [s.label],
                f"{p}-customer_label": [s.customer_label],
                f"{p}-category": [s.category],
                f"{p}-colour": [s.colour],
                f"{p}-colour_auto": [s.colour if s.colour_auto else ""],
                f"{p}-sla_auto": [("on" if s.sla_paused else "off") if s.sla_auto else ""],
                f"{p}-timeout_after": [s.timeout_after],
                f"{p}-timeout_action": [s.timeout_action],
                f"{p}-on_customer_message": [s.on_customer_message],
                f"{p}-visible_to": list(s.visible_to),
                f"{p}-offer": [str(o.action_index) for o in s.offers if o.offered],
                f"{p}-unknown": list(s.unknown_actions),
            }
        )
        if s.sla_paused:
            data[f"{p}-sla_paused"] = ["on"]
        if s.timeout_business:
            data[f"{p}-timeout_business"] = ["on"]
        for o in s.offers:
            data[f"{p}-pos-{o.action_index}"] = [str(o.position or "")]
    for a in form.actions:
        p = f"a{a.index}"
        data.update(
            {
                f"{p}-orig": [a.id],
                f"{p}-id": [a.id],
                f"{p}-label": [a.label],
                f"{p}-target": [a.target],
                f"{p}-confirm": [a.confirm],
                f"{p}-style": [a.style],
                f"{p}-groups": list(a.groups),
                f"{p}-field_count": [str(len(a.fields))],
                f"{p}-effect_count": [str(len(a.effects))],
            }
        )
        if a.any_agent:
            data[f"{p}-any_agent"] = ["on"]
        if a.customers:
            data[f"{p}-customers"] = ["on"]
        for f in a.fields:
            q = f"{p}-f{f.index}"
            data.update(
                {
                    f"{q}-orig": [f.id],
                    f"{q}-id": [f.id],
                    f"{q}-type": [f.type],
                    f"{q}-label": [f.label],
                    f"{q}-choices": [f.choices],
                    f"{q}-help": [f.help],
                }
            )
            if f.required:
                data[f"{q}-required"] = ["on"]
            if f.max_length:
                data[f"{q}-max_length"] = [f.max_length]
        for e in a.effects:
            q = f"{p}-e{e.index}"
            data[f"{q}-type"] = [e.type]
            for arg in pf.EFFECT_ARGS:
                data[f"{q}-{arg}"] = [e.args.get(arg, "")]
    return data


def index_of(data: dict[str, Any], kind: str, item_id: str) -> str:
    return next(
        k.removesuffix("-orig")
        for k, v in data.items()
        if k.startswith(kind) and k.endswith("-orig") and k.count("-") == 1 and v == [item_id]
    )


def after(data: dict[str, Any], op: str = "save", name: str = "support") -> pf.FormResult:
    result = pf.document_from_form(data, name)
    pf.apply(result, op)
    return result


@pytest.mark.parametrize("name", ["support", "returns"])
def test_an_untouched_form_gives_back_its_document(name: str) -> None:
    document = canonical(name)
    result = pf.document_from_form(posted(document), name)
    assert result.problems == []
    assert result.document == document
    assert pf.dump(result.document) == to_yaml(load_text(bundled(name)))


def test_texts_in_several_languages_go_through_the_form_unchanged() -> None:
    document = canonical("support")
    document["label"] = {"en": "Support", "de": "Support", "cs": "Podpora"}
    document["states"]["new"]["label"] = {"en": "New", "de": "Neu"}
    document["states"]["new"]["customer_label"] = {"en": "Received", "uk": "Отримано"}
    document["actions"]["mark_spam"]["confirm"] = {"en": "Spam?", "el": "Ανεπιθύμητο;"}
    reply = document["actions"]["reply"]["fields"][0]
    reply["label"] = {"en": "Reply", "lt": "Atsakymas"}
    data = posted(document)
    assert data[f"{index_of(data, 's', 'new')}-label"] == ["en: New | de: Neu"]
    result = pf.document_from_form(data, "support")
    assert result.problems == []
    assert result.document == document
    assert load_text(pf.dump(result.document)).state("new").labels == (("en", "New"), ("de", "Neu"))


def test_a_label_typed_as_languages_becomes_a_mapping_and_plain_text_stays_text() -> None:
    assert pf.posted_text(" en: New |de:Neu ") == {"en": "New", "de": "Neu"}
    assert pf.posted_text("Waiting | on hold") == "Waiting | on hold"
    assert pf.posted_text("Price: 10 EUR") == "Price: 10 EUR"
    assert pf.posted_text("en: A | en: B") == "en: A | en: B"  # a language twice: text
    assert pf.text_field({"en": "New", "cs": "Nový"}) == "en: New | cs: Nový"


def test_renaming_a_state_follows_every_reference_to_it() -> None:
    data = posted(canonical("support"))
    data[f"{index_of(data, 's', 'new')}-id"] = ["fresh"]
    data[f"{index_of(data, 's', 'open')}-id"] = ["working"]
    document = after(data).document
    assert list(document["states"])[:2] == ["fresh", "working"]
    assert document["initial"] == "fresh"
    assert document["actions"]["forward"]["target"] == "working"
    assert document["actions"]["reopen"]["target"] == "working"
    assert document["states"]["waiting_for_customer"]["on_customer_message"] == "working"
    load_text(pf.dump(document))  # still a valid process


def test_renaming_an_action_follows_state_lists_and_timeouts() -> None:
    data = posted(canonical("support"))
    data[f"{index_of(data, 'a', 'close_no_answer')}-id"] = ["expire"]
    document = after(data).document
    waiting = document["states"]["waiting_for_customer"]
    assert waiting["actions"][-1] == "expire"
    assert waiting["timeout"] == {"after": "7d", "action": "expire"}
    assert "close_no_answer" not in document["actions"]
    load_text(pf.dump(document))


def test_a_timeout_in_business_time_is_kept_and_can_be_set_in_the_form() -> None:
    document = canonical("support")
    document["states"]["waiting_for_customer"]["timeout"]["business"] = True
    data = posted(document)
    assert after(data).document == document  # untouched, the flag stays
    del data[f"{index_of(data, 's', 'waiting_for_customer')}-timeout_business"]
    waiting = after(data).document["states"]["waiting_for_customer"]
    assert waiting["timeout"] == {"after": "7d", "action": "close_no_answer"}


def test_renaming_a_field_follows_the_effects_that_read_it() -> None:
    data = posted(canonical("support"))
    reply = index_of(data, "a", "reply")
    data[f"{reply}-f0-id"] = ["message"]
    document = after(data).document
    assert document["actions"]["reply"]["effects"] == [
        {"type": "send_email", "body_field": "message"}
    ]


def test_two_states_can_swap_their_ids() -> None:
    data = posted(canonical("support"))
    data[f"{index_of(data, 's', 'closed')}-id"] = ["spam"]
    data[f"{index_of(data, 's', 'spam')}-id"] = ["closed"]
    result = after(data)
    assert result.problems == []
    assert result.document["states"]["spam"]["label"] == "Closed"
    assert result.document["actions"]["mark_spam"]["target"] == "closed"


def test_an_id_another_state_has_is_refused_with_a_problem() -> None:
    data = posted(canonical("support"))
    data[f"{index_of(data, 's', 'spam')}-id"] = ["closed"]
    data[f"{index_of(data, 's', 'resolved')}-id"] = [""]
    result = after(data)
    assert list(result.document["states"]) == list(canonical("support")["states"])
    assert result.problems == [
        Problem("states.resolved", "A state needs an id; this state keeps the id 'resolved'."),
        Problem(
            "states.spam",
            "The id 'closed' is used by another state; this state keeps the id 'spam'.",
        ),
    ]


def test_offered_actions_follow_the_positions_typed() -> None:
    data = posted(canonical("support"))
    s = index_of(data, "s", "resolved")
    close = index_of(data, "a", "close").removeprefix("a")
    reopen = index_of(data, "a", "reopen").removeprefix("a")
    mark_spam = index_of(data, "a", "mark_spam").removeprefix("a")
    data[f"{s}-pos-{close}"] = ["1"]
    data[f"{s}-offer"] = [*data[f"{s}-offer"], mark_spam]  # ticked, no position: last
    data[f"{s}-offer"].remove(reopen)
    assert after(data).document["states"]["resolved"]["actions"] == [
        "close",
        "comment",
        "mark_spam",
    ]


def test_adding_states_actions_fields_and_effects() -> None:
    data = posted(canonical("support"))
    result = after(data, "add_state")
    assert result.document["states"]["new_state"] == {
        "label": "New state",
        "category": "open",
        "actions": [],
    }
    data = posted(result.document)
    assert "new_state_2" in after(data, "add_state").document["states"]
    document = after(data, "add_action").document
    assert document["actions"]["new_action"] == {"label": "New action", "target": "stay"}
    data = posted(document)
    document = after(data, "add_field:new_action").document
    assert document["actions"]["new_action"]["fields"] == [
        {"id": "field_1", "type": "text", "label": "New field"}
    ]
    document = after(posted(document), "add_effect:new_action").document
    assert list(document["actions"]["new_action"]) == ["label", "target", "fields", "effects"]
    assert document["actions"]["new_action"]["effects"] == [{"type": "add_note"}]


def test_removing_an_action_takes_it_out_of_every_state() -> None:
    document = after(posted(canonical("support")), "remove_action:mark_spam").document
    assert "mark_spam" not in document["actions"]
    assert all("mark_spam" not in s["actions"] for s in document["states"].values())


def test_removing_fields_effects_and_states() -> None:
    document = after(posted(canonical("support")), "remove_effect:assign:1").document
    assert document["actions"]["assign"]["effects"] == [{"type": "assign", "field": "agent"}]
    document = after(posted(document), "remove_field:forward:0").document
    assert [f["id"] for f in document["actions"]["forward"]["fields"]] == ["note"]
    document = after(posted(document), "remove_field:reply:0").document
    assert "fields" not in document["actions"]["reply"]
    document = after(posted(document), "remove_state:spam").document
    assert "spam" not in document["states"]


def test_moving_states_and_actions() -> None:
    document = after(posted(canonical("support")), "up_state:open").document
    assert list(document["states"])[:2] == ["open", "new"]
    document = after(posted(document), "up_state:open").document  # already first
    assert list(document["states"])[:2] == ["open", "new"]
    document = after(posted(document), "down_action:reply").document
    assert list(document["actions"])[:2] == ["comment", "reply"]


def test_an_operation_finds_an_item_renamed_in_the_same_post() -> None:
    data = posted(canonical("support"))
    data[f"{index_of(data, 'a', 'close')}-id"] = ["finish"]
    result = pf.document_from_form(data, "support")
    anchor = pf.apply(result, "add_field:close")
    assert anchor == "action-finish-fields"
    assert result.document["actions"]["finish"]["fields"][0]["id"] == "field_1"


def test_an_unknown_operation_is_a_save() -> None:
    assert pf.operation({"op": ["drop_tables"]}) == "save"
    assert pf.operation({"op": ["remove_field:reply:x"]}) == "save"
    assert pf.operation({}) == "save"
    assert pf.operation({"op": ["remove_field:reply:0"]}) == "remove_field:reply:0"


def test_colour_and_sla_pause_follow_the_category_unless_set() -> None:
    data = posted(canonical("support"))
    s = index_of(data, "s", "open")
    data[f"{s}-category"] = ["pending"]  # colour and SLA untouched: the category's
    assert after(data).document["states"]["open"] == {
        "label": "Open",
        "category": "pending",
        "customer_label": "In progress",
        "actions": canonical("support")["states"]["open"]["actions"],
    }
    data[f"{s}-colour"] = ["#123456"]
    data[f"{s}-sla_paused"] = ["on"]
    data[f"{s}-category"] = ["open"]
    state = after(data).document["states"]["open"]
    assert (state["colour"], state["sla_paused"]) == ("#123456", True)


def test_an_effect_keeps_only_the_arguments_its_type_takes() -> None:
    data = posted(canonical("support"))
    a = index_of(data, "a", "reply")
    data[f"{a}-e0-type"] = ["send_template"]
    data[f"{a}-e0-template"] = ["assigned_to_you"]
    data[f"{a}-e0-to"] = ["customer"]
    assert after(data).document["actions"]["reply"]["effects"] == [
        {"type": "send_template", "template": "assigned_to_you", "to": "customer"}
    ]


def test_an_action_can_be_made_to_ask_for_a_rating_in_the_form() -> None:
    data = posted(canonical("support"))
    a = index_of(data, "a", "close")
    data[f"{a}-effect_count"] = ["1"]
    data[f"{a}-e0-type"] = ["ask_rating"]
    data[f"{a}-e0-template"] = ["rate_answer"]
    data[f"{a}-e0-to"] = ["customer"]  # not an argument of ask_rating: dropped
    result = after(data)
    assert result.document["actions"]["close"]["effects"] == [
        {"type": "ask_rating", "template": "rate_answer"}
    ]
    assert "ask_rating" in pf.options()["effects"]


def test_choices_are_read_one_per_line() -> None:
    data = posted(canonical("support"))
    a = index_of(data, "a", "categorise")
    data[f"{a}-f0-choices"] = ["a=Alpha\r\n\r\nb\r\nc = Gamma = 3"]
    assert after(data).document["actions"]["categorise"]["fields"][0]["choices"] == [
        {"value": "a", "label": "Alpha"},
        {"value": "b", "label": "b"},
        {"value": "c", "label": "Gamma = 3"},
    ]


def test_unknown_names_stay_in_the_form_until_removed() -> None:
    document = canonical("support")
    document["states"]["open"]["actions"].append("ghost")
    document["states"]["open"]["visible_to"] = ["Nobody"]
    form = pf.editor_form(document, groups=["Billing"])
    state = form.states[1]
    assert state.unknown_actions == ["ghost"]
    assert form.group_options == [("Billing", True), ("Nobody", False)]
    assert after(posted(document)).document == document


def test_problems_are_placed_next_to_their_cause() -> None:
    problems = [
        Problem("states.open_late", "a"),
        Problem("states.open.actions[2]", "b"),
        Problem("actions.reply.effects[0].template", "c"),
        Problem("actions.reply.fields[1]", "d"),
        Problem("actions.reply.fields", "e"),
        Problem("actions.reply", "f"),
        Problem("states", "g"),
        Problem("line 12", "h"),
        Problem("states.gone", "i"),
    ]
    placed = pf.place(problems, ["open", "open_late"], ["reply"])
    assert placed.states == {"open_late": [problems[0]], "open": [problems[1]]}
    assert placed.effects == {("reply", 0): [problems[2]]}
    assert placed.fields == {("reply", 1): [problems[3]]}
    assert placed.actions == {"reply": [problems[4], problems[5]]}
    assert placed.top == [problems[6], problems[7], problems[8]]
    assert placed.count == len(problems)


def test_documents_of_another_shape_are_left_to_the_expert_editor() -> None:
    assert pf.not_editable(canonical("support")) == []
    assert pf.not_editable(["a", "list"]) != []
    document = canonical("support")
    document["states"]["open"]["actions"] = "reply"
    document["actions"]["reply"]["fields"] = {"id": "body"}
    assert pf.not_editable(document) == [
        "states.open.actions is not a list of the right kind.",
        "actions.reply.fields is not a list of the right kind.",
    ]


def test_a_new_process_is_valid_from_the_start() -> None:
    definition = load_text(pf.dump(pf.new_document("warranty", "Warranty claims")))
    assert (definition.name, definition.label) == ("warranty", "Warranty claims")
    copy = pf.new_document("mine", "", canonical("returns"))
    assert copy["name"] == "mine" and copy["label"] == "Returns and repairs"
    assert yaml.safe_load(pf.dump(copy))["states"] == canonical("returns")["states"]
