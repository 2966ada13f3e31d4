"""Assignment strategies, pure: round robin, least open tickets, skills, availability, caps."""

from __future__ import annotations

from collections import Counter

from tempodesk.routing.strategies import Candidate, choose

AGENTS = ["ann", "bob", "cyd", "dan"]


def test_round_robin_is_fair_over_a_thousand_tickets() -> None:
    given: Counter[str] = Counter()
    last = ""
    for _ in range(1000):
        chosen = choose("round_robin", [Candidate(a) for a in AGENTS], last=last)
        assert chosen.assignee is not None
        given[chosen.assignee] += 1
        last = chosen.assignee
    assert given == {"ann": 250, "bob": 250, "cyd": 250, "dan": 250}


def test_round_robin_skips_who_is_away_and_goes_on_after_them() -> None:
    pool = [Candidate("ann"), Candidate("bob", available=False), Candidate("cyd")]
    assert choose("round_robin", pool, last="ann").assignee == "cyd"
    assert choose("round_robin", pool, last="cyd").assignee == "ann"


def test_least_open_evens_out_a_skewed_load() -> None:
    load = {"ann": 40, "bob": 3, "cyd": 0, "dan": 12}
    for _ in range(100):
        chosen = choose("least_open", [Candidate(a, load[a]) for a in AGENTS])
        assert chosen.assignee is not None
        load[chosen.assignee] += 1
    # The 100 went to the three with less, until they caught up with each other.
    assert load["ann"] == 40
    assert sorted(load.values()) == [38, 38, 39, 40]


def test_skills_take_the_best_level_then_the_least_loaded() -> None:
    pool = [
        Candidate("ann", open_tickets=5, skill_level=3),
        Candidate("bob", open_tickets=9, skill_level=5),
        Candidate("cyd", open_tickets=1, skill_level=5),
        Candidate("dan", open_tickets=0, skill_level=0),
    ]
    chosen = choose("skills", pool, skill="german")
    assert chosen.assignee == "cyd"
    assert chosen.reason == "skill 'german' at level 5, 1 open tickets"
    pool[2].available = False
    assert choose("skills", pool, skill="german").assignee == "bob"


def test_skills_without_anyone_skilled_leave_the_ticket_in_the_queue() -> None:
    chosen = choose("skills", [Candidate("ann"), Candidate("bob")], skill="klingon")
    assert chosen.assignee is None
    assert "klingon" in chosen.reason


def test_nobody_present_or_under_the_cap_gets_nothing() -> None:
    pool = [Candidate("ann", 5), Candidate("bob", 2, available=False)]
    assert choose("least_open", pool, max_open=5).assignee is None
    assert choose("least_open", pool, max_open=6).assignee == "ann"


def test_manual_leaves_every_ticket_in_the_queue() -> None:
    assert choose("manual", [Candidate("ann")]).assignee is None
