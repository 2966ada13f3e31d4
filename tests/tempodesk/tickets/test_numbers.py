"""Ticket numbers and intake validation."""

from __future__ import annotations

import time

import pytest

from tempodesk.core.db import transaction
from tempodesk.tickets.numbers import allocate_number, check_number_template
from tests.helpers import Stack


@pytest.mark.parametrize(
    "template",
    ["HD-{year}", "HD-{seq}-{user}", "HD/{seq:06d}", "{seq} tickets"],
)
def test_unusable_number_templates_are_refused(template: str) -> None:
    with pytest.raises(ValueError):
        check_number_template(template)


def test_numbers_count_up_within_their_template(any_stack: Stack) -> None:
    template = "T{year}{month}-{seq:04d}"
    with transaction(any_stack.sessions) as session:
        first = allocate_number(session, template)
        second = allocate_number(session, template)
    stamp = time.strftime("%Y%m", time.gmtime())
    assert first.startswith(f"T{stamp}-")
    assert int(second.rsplit("-", 1)[1]) == int(first.rsplit("-", 1)[1]) + 1


def test_a_different_template_starts_its_own_sequence(any_stack: Stack) -> None:
    with transaction(any_stack.sessions) as session:
        assert allocate_number(session, "FRESH-{seq}") == "FRESH-1"
        assert allocate_number(session, "OTHER-{seq}") == "OTHER-1"
