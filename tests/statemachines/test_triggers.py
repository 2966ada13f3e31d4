"""Triggers' pure parts: when an idle trigger is due in business time, and what outgoing
rules give one recipient's mail (BCC for every matching rule, the last signature)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from statemachines.calendar import Calendar
from statemachines.triggers import for_recipient, idle_due, languages_of, mail_conditions_hold
from tempodesk.contracts.triggers import OutgoingRule, TriggerCondition

WORKDAYS = Calendar.from_dict(
    {"time_zone": "UTC", "hours": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}}
)


def test_idle_hours_skip_the_night_and_the_weekend() -> None:
    friday_afternoon = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
    assert idle_due(friday_afternoon, 4, WORKDAYS) == datetime(2026, 12, 7, 11, 0, tzinfo=UTC)
    assert idle_due(friday_afternoon, 4, Calendar.always()) == friday_afternoon + timedelta(hours=4)


def test_a_calendar_without_working_time_never_makes_an_idle_trigger_due() -> None:
    assert idle_due(datetime(2026, 12, 4, tzinfo=UTC), 1, Calendar()) is None


def test_every_matching_rule_adds_its_bcc_and_the_last_signature_wins() -> None:
    rules = [
        OutgoingRule("archive", [], ["archive@example.com"], ""),
        OutgoingRule("czech", ["cs"], ["ARCHIVE@example.com", "cz@example.com"], "S pozdravem"),
        OutgoingRule("english", ["en"], [], "Kind regards"),
    ]
    assert for_recipient(rules, "cs") == (["archive@example.com", "cz@example.com"], "S pozdravem")
    assert for_recipient(rules, "en") == (["archive@example.com"], "Kind regards")
    assert for_recipient(rules, "de") == (["archive@example.com"], "")
    assert for_recipient([], "cs") == ([], "")


def test_the_language_is_left_to_the_mail_and_the_rest_holds_on_the_ticket() -> None:
    conditions = [
        TriggerCondition("language", "in", ["cs", "sk"]),
        TriggerCondition("channel", "is", "email"),
    ]
    assert languages_of(conditions) == ["cs", "sk"]
    assert mail_conditions_hold(conditions, {"channel": "email"})
    assert not mail_conditions_hold(conditions, {"channel": "web"})
