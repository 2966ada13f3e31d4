"""The signed rating link alone: what it names, and what it refuses."""

from __future__ import annotations

import time

from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from tempodesk.tickets import ratings

LINK = ratings.RatingLink("HD-2026-000001", 4, "agent1")


class _Old(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - (ratings.LINK_DAYS + 1) * 86400


def test_a_link_names_the_ticket_the_answer_and_the_agent() -> None:
    assert ratings.read("s3cret", ratings.sign("s3cret", LINK)) == LINK


def test_a_link_of_another_secret_an_altered_one_or_garbage_names_nothing() -> None:
    token = ratings.sign("s3cret", LINK)
    assert ratings.read("other", token) is None
    assert ratings.read("s3cret", token[:-2] + ("xy" if not token.endswith("xy") else "zz")) is None
    assert ratings.read("s3cret", "") is None and ratings.read("s3cret", "a.b.c") is None


def test_a_link_older_than_its_days_has_expired() -> None:
    old = URLSafeTimedSerializer("s3cret", salt=ratings.SALT, signer=_Old)
    token = old.dumps([LINK.number, LINK.asked_seq, LINK.agent])
    assert ratings.read("s3cret", token) is None
    assert ratings.read("s3cret", token, max_days=ratings.LINK_DAYS + 2) == LINK


def test_a_signed_payload_of_another_shape_names_nothing() -> None:
    other = URLSafeTimedSerializer("s3cret", salt=ratings.SALT)
    assert ratings.read("s3cret", other.dumps({"number": "HD-1"})) is None
    assert ratings.read("s3cret", other.dumps(["HD-1", "4", "agent1"])) is None
