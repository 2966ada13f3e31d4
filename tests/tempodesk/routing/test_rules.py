"""Routing rules, pure: which rule matches, what it sets, and the reason it gives."""

from __future__ import annotations

from tempodesk.routing.rules import Facts, Rule, evaluate, problems


def rule(name: str, conditions: list[dict], outcome: dict, position: int, **more) -> Rule:
    return Rule.from_dict(
        {"name": name, "conditions": conditions, "set": outcome, "position": position, **more}
    )


INVOICES = rule(
    "Invoices",
    [{"field": "subject", "op": "contains_any", "value": "invoice, faktura"}],
    {"group": "Billing"},
    1,
)
EVERYTHING = rule("Everything", [], {"group": "Support", "priority": 3}, 9)


def test_the_first_matching_rule_wins_and_says_why() -> None:
    decision = evaluate([EVERYTHING, INVOICES], Facts(subject="Your Invoice, please?"))
    assert decision.outcome == {"group": "Billing"}
    assert decision.notes == ["to Billing: rule 'Invoices' matched subject 'invoice'"]


def test_keywords_ignore_case_and_diacritics_but_match_whole_words_only() -> None:
    assert evaluate([INVOICES], Facts(subject="FAKTÚRA 12")).outcome == {"group": "Billing"}
    assert evaluate([INVOICES], Facts(subject="invoices overdue")).outcome == {}


def test_a_rule_that_continues_lets_later_rules_add_what_it_left_unset() -> None:
    urgent = rule(
        "Urgent",
        [{"field": "body", "op": "contains", "value": "down"}],
        {"priority": 4},
        0,
        stop=False,
    )
    decision = evaluate([urgent, INVOICES, EVERYTHING], Facts(subject="invoice", body="all down"))
    assert decision.outcome == {"priority": 4, "group": "Billing"}
    assert decision.rules == ["Urgent", "Invoices"]


def test_every_condition_must_hold() -> None:
    german_vip = rule(
        "German VIP",
        [
            {"field": "language", "op": "is", "value": "de"},
            {"field": "organisation", "op": "in", "value": ["Acme", "Globex"]},
            {"field": "field:plan", "op": "is", "value": "gold"},
        ],
        {"group": "VIP", "skill": "german"},
        0,
    )
    facts = Facts(language="de", organisation="Globex", fields={"plan": "Gold"})
    assert evaluate([german_vip], facts).outcome == {"group": "VIP", "skill": "german"}
    assert evaluate([german_vip], Facts(language="de", organisation="Globex")).outcome == {}


def test_channel_mailbox_form_order_and_customer_type_are_conditions_too() -> None:
    phone = rule("Phone", [{"field": "channel", "op": "is", "value": "phone"}], {"priority": 3}, 0)
    sales = rule("Sales", [{"field": "mailbox", "op": "is", "value": "sales"}], {"group": "S"}, 1)
    orders = rule("Orders", [{"field": "order", "op": "is_set"}], {"group": "Orders"}, 2)
    b2b = rule("B2B", [{"field": "customer_type", "op": "is", "value": "b2b"}], {"group": "B"}, 3)
    everyone = [phone, sales, orders, b2b]
    assert evaluate(everyone, Facts(channel="phone")).rules == ["Phone"]
    assert evaluate(everyone, Facts(mailbox="sales")).rules == ["Sales"]
    assert evaluate(everyone, Facts(order="ORD-123")).rules == ["Orders"]
    assert evaluate(everyone, Facts(customer_type="B2B")).rules == ["B2B"]
    assert evaluate(everyone, Facts(channel="web")).rules == []


def test_the_process_is_chosen_by_the_same_rules_the_opening_runs() -> None:
    returns = rule(
        "Returns",
        [{"field": "text", "op": "contains", "value": "return"}],
        {"process": "returns", "group": "Warehouse"},
        0,
    )
    facts = Facts(body="I want to return it")
    assert evaluate([returns], facts, only=("process",)).outcome == {"process": "returns"}
    assert evaluate([returns], facts, only=("group",)).outcome == {"group": "Warehouse"}


def test_a_broken_rule_is_refused_with_each_problem_named() -> None:
    found = problems(
        {
            "name": "",
            "conditions": [{"field": "colour", "op": "near", "value": "x"}],
            "set": {"group": "B", "owner": "x", "priority": 9},
        }
    )
    assert found == [
        "A rule needs a name.",
        "Condition 1: unknown field 'colour'.",
        "Condition 1: unknown operator 'near' (one of is, is_not, in, contains, contains_any, "
        "is_set).",
        "'set' cannot set owner (only group, assignee, priority, process, fields, skill).",
        "The priority must be 1 to 4.",
    ]


def test_names_a_rule_sets_must_be_strings() -> None:
    """A list where a name belongs was stored and answered as given (schemathesis found
    ``{"set": {"skill": []}}``)."""
    for key in ("group", "assignee", "process", "skill"):
        found = problems({"name": "x", "set": {key: []}})
        assert found == [f"'{key}' must be a name (a string)."], key
    assert problems({"name": "x", "set": {"skill": "billing", "process": None}}) == []
