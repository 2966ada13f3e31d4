"""What an inbound message *is*: a pipeline of small named filters over a :class:`ParsedMail`.

Zammad's ``channel/filter/*`` shape (STYLE.md): each filter is a plain function
``filter(mail, context, result)`` that reads the parsed mail and adds findings to one
:class:`Classification`; :func:`classify` runs them in order. Filters only *describe* — the
router decides (new ticket, follow-up, quarantine, no auto-acknowledgement). The loop guards
follow RFC 3834 and the header tables of osTicket and Zammad (RELIABILITY.md §1b, R8); each
rule below names its source.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses

from tempodesk.mail.parsing.headers import normalize_message_id
from tempodesk.mail.parsing.parsed import ParsedMail
from tempodesk.mail.patterns import ORDER_PATTERN_SECONDS, PatternFailed, find_all
from tempodesk.people.addresses import base_address, is_automated_address, normalize_email

__all__ = [
    "FILTERS",
    "KINDS",
    "Classification",
    "FilterContext",
    "auto_response_check",
    "bounce_detection",
    "classify",
    "followup_detection",
    "identify_sender",
    "loop_detection",
    "order_detection",
    "spam_check",
    "tag_pattern",
]

# Ordered by severity: a later filter may raise the kind, never lower it. A DSN usually also
# carries Auto-Submitted (auto_reply < bounce); a flagged bounce is backscatter (bounce < spam);
# our own mail coming back must never be processed at all (loop last).
KINDS = ("mail", "auto_reply", "bounce", "spam", "loop")
MAX_ORDER_NUMBERS = 5
# Admin-configured patterns run over customer text: bound the text they see.
_MAX_SCANNED_TEXT = 100_000


@dataclass(frozen=True)
class FilterContext:
    """What the filters need to know about the mailbox the message arrived in.

    ``own_addresses``: our mailbox addresses; ``own_domains``: the right-hand side of the
    Message-IDs we generate; ``tag_pattern``: a regex whose first group is a ticket number
    (configurable per mailbox); ``order_pattern`` likewise for order numbers; ``blocklist``:
    addresses or ``@domain`` entries (a domain entry also covers its subdomains).
    """

    own_addresses: frozenset[str]
    own_domains: frozenset[str]
    tag_pattern: str = r"\[(HD-\d{4}-\d{3,})\]"
    order_pattern: str = r"\b(ORD-\d{3,})\b"
    blocklist: frozenset[str] = frozenset()
    spam_score_threshold: float = 5.0

    def __post_init__(self) -> None:
        # Compare case-insensitively everywhere, whoever built the context.
        object.__setattr__(
            self, "own_addresses", frozenset(normalize_email(a) for a in self.own_addresses)
        )
        object.__setattr__(
            self, "own_domains", frozenset(d.strip().lower() for d in self.own_domains)
        )
        object.__setattr__(self, "blocklist", frozenset(normalize_email(b) for b in self.blocklist))
        for name in ("tag_pattern", "order_pattern"):
            try:
                re.compile(getattr(self, name))
            except re.error as error:
                raise ValueError(f"{name} is not a valid regular expression: {error}") from error


@dataclass
class Classification:
    """The filters' findings about one message; ``reasons`` explains every one of them."""

    kind: str = "mail"
    reasons: list[str] = field(default_factory=list)
    sender: str = ""
    sender_name: str = ""
    ticket_numbers: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    bounced_recipients: list[str] = field(default_factory=list)
    order_numbers: list[str] = field(default_factory=list)
    # Any automatic marker at all: the router sends no acknowledgement, even for kind "mail".
    auto_submitted: bool = False
    precedence: str = ""

    def mark(self, kind: str, reason: str) -> None:
        """Record a finding; the kind only ever moves up the :data:`KINDS` order."""
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        self.reasons.append(reason)
        if KINDS.index(kind) > KINDS.index(self.kind):
            self.kind = kind


Filter = Callable[[ParsedMail, FilterContext, Classification], None]


def _domain(address: str) -> str:
    return address.rpartition("@")[2].lower()


def _first_address(value: str | None) -> str:
    """The first usable address in a header value ("" if none)."""
    if not value:
        return ""
    for _, address in getaddresses([value]):
        normalized = normalize_email(address)
        if "@" in normalized and " " not in normalized:
            return normalized
    return ""


def _token(value: str | None) -> str:
    """The first word of a header value, lower-cased: ``"Auto-Replied; x"`` → ``"auto-replied"``."""
    return re.split(r"[\s;,]+", (value or "").strip().lower(), maxsplit=1)[0]


def _content_type(mail: ParsedMail) -> tuple[str, dict[str, str]]:
    """The top-level content type and its parameters (lower-cased names)."""
    holder = Message()
    holder["Content-Type"] = mail.header("content-type") or "text/plain"
    try:
        params = {
            str(name).lower(): str(value).lower() for name, value in (holder.get_params() or [])[1:]
        }
        return holder.get_content_type(), params
    except Exception:  # a broken header means "no parameters"
        return "text/plain", {}


def identify_sender(mail: ParsedMail, context: FilterContext, result: Classification) -> None:
    """Who wrote: From, falling back to Reply-To, then Sender (Zammad ``identify_sender``)."""
    if mail.from_address:
        result.sender, result.sender_name = mail.from_address, mail.from_name
        return
    for label, address in (
        ("Reply-To", mail.reply_to),
        ("Sender", _first_address(mail.header("sender"))),
    ):
        if address:
            result.sender, result.sender_name = address, mail.from_name
            result.reasons.append(f"sender: From has no usable address; using {label}")
            return


_LOOP_WORDS = frozenset({"yes", "true", "1"})
_BULKY_PRECEDENCE = frozenset({"bulk", "list", "junk"})


def loop_detection(mail: ParsedMail, context: FilterContext, result: Classification) -> None:
    """Mail that we sent ourselves, coming back: processing it could start a loop (R8 f)."""
    sender = result.sender or mail.from_address
    own_bases = {base_address(a) for a in context.own_addresses}
    if sender and (sender in context.own_addresses or base_address(sender) in own_bases):
        result.mark("loop", f"loop: the sender {sender} is one of our own addresses")
    for value in mail.header_values("x-loop"):
        # Our outbound mail names our mailbox in X-Loop; "yes"/"true" is the generic marker
        # (Zammad auto_response_check.rb reads X-Loop: yes|true).
        tokens = {t for t in re.split(r"[\s,;<>]+", value.strip().lower()) if t}
        names_us = any(
            t in context.own_addresses
            or t in context.own_domains
            or _domain(t) in context.own_domains
            for t in tokens
        )
        if names_us or tokens & _LOOP_WORDS:
            result.mark("loop", f"loop: X-Loop: {value.strip()[:100]}")
            break
    # Zammad own_notification_loop_detection.rb: our Message-ID domain plus a bulk marker is
    # one of our own notifications returned (forwarded back, or reflected by a list).
    if mail.message_id and _domain(mail.message_id) in context.own_domains:
        precedence = _token(mail.header("precedence"))
        auto = _token(mail.header("auto-submitted"))
        if precedence in _BULKY_PRECEDENCE or auto not in ("", "no"):
            result.mark("loop", f"loop: our own notification came back ({mail.message_id})")


# osTicket TicketFilter::isAutoReply and Zammad auto_response_check.rb, merged:
# header name -> values that mark an automatic message (None: the header's presence does).
_AUTO_HEADERS: dict[str, frozenset[str] | None] = {
    # osTicket: X-Autoreply: YES
    "x-autoreply": frozenset({"yes", "true"}),
    # osTicket: presence of any of these (vacation responders, e.g. Exim/cPanel/qmail)
    "x-autorespond": None,
    "x-autoresponse": None,
    "x-autoreply-from": None,
    "x-mail-autoreply": None,
    # osTicket: X-Autogenerated: REPLY
    "x-autogenerated": frozenset({"reply"}),
    # osTicket: Amazon SES notifications
    "x-amazon-mail-relay-type": frozenset({"notification"}),
}
# osTicket and Zammad: Exchange sets these on OOF replies, receipts and other robot mail.
_SUPPRESS_VALUES = frozenset({"all", "dr", "rn", "nrn", "oof", "autoreply"})
# osTicket: Precedence / X-Precedence AUTO_REPLY, BULK, JUNK, LIST; RFC 3834 §3.1.8 says to be
# careful with bulk/list/junk. Zammad treats bulk|list|junk the same way.
_AUTO_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
# Heuristic for responders that set no header at all (R8 b): Outlook, Exchange and Gmail put
# the localised "automatic reply" words at the start of the subject.
_AUTO_REPLY_SUBJECT = re.compile(
    r"""^\s*(?:(?:re|aw|fw|fwd|wg|odp)\s*:\s*)*(?:
        out\sof\s(?:the\s)?office | automatic\s(?:reply|response) | auto[- ]?(?:reply|response)
      | autoreply | vacation\sreply | abwesenheitsnotiz | automatische\s(?:antwort|rückmeldung)
      | automatická\sodpověď | automatická\sodpoveď | nepřítomnost\sv\skanceláři | mimo\skancelář
      | réponse\sautomatique | absence\sdu\sbureau | respuesta\sautomática
      | risposta\sautomatica | automatisch\santwoord | autosvar | automaattinen\svastaus
      | odpowiedź\sautomatyczna | automatikus\sválasz
    )(?!\w)""",
    re.IGNORECASE | re.VERBOSE,
)


def auto_response_check(mail: ParsedMail, context: FilterContext, result: Classification) -> None:
    """Automatic mail — vacation replies, receipts, robots, lists — gets no acknowledgement.

    RFC 3834 §2: never auto-respond to a message whose Auto-Submitted is anything but "no".
    Each rule below names its source; mailing lists only set ``auto_submitted`` (the mail may
    still be a real question) unless they also say ``Precedence: list``.
    """
    precedence = _token(mail.header("precedence") or mail.header("x-precedence"))
    result.precedence = precedence

    def automatic(reason: str) -> None:
        result.auto_submitted = True
        result.mark("auto_reply", f"auto_reply: {reason}")

    # RFC 3834 §5; Zammad and osTicket.
    auto_submitted = _token(mail.header("auto-submitted"))
    if auto_submitted and auto_submitted != "no":
        automatic(f"Auto-Submitted: {auto_submitted} (RFC 3834)")
    for name in ("precedence", "x-precedence"):
        value = _token(mail.header(name))
        if value in _AUTO_PRECEDENCE:
            automatic(f"{name.title()}: {value} (osTicket isAutoReply, RFC 3834 §3.1.8)")
    for name, values in _AUTO_HEADERS.items():
        present = mail.header(name)
        if present is not None and (values is None or _token(present) in values):
            automatic(f"{name}: {present.strip()[:60]} (osTicket isAutoReply)")
    for value in mail.header_values("x-auto-response-suppress"):
        tokens = {t for t in re.split(r"[\s,]+", value.strip().lower()) if t}
        if tokens & _SUPPRESS_VALUES:
            automatic(f"X-Auto-Response-Suppress: {value.strip()[:60]} (osTicket, Zammad)")
            break
    # RFC 8098 read receipts and RFC 5965 abuse reports are machine-made, but not bounces.
    ctype, params = _content_type(mail)
    if ctype == "multipart/report" and params.get("report-type") not in (None, "delivery-status"):
        automatic(f"multipart/report; report-type={params.get('report-type')} (RFC 6522)")
    # RFC 3834 §3.1.1 and Zammad's send_no_auto_response_reg_exp: no automatic answer to a
    # null reverse path or to mailer-daemon/no-reply senders. They may still carry a real
    # request (a shop's no-reply form relay), so the kind stays.
    sender = result.sender or mail.from_address
    if mail.return_path == "":
        result.auto_submitted = True
        result.reasons.append("no acknowledgement: Return-Path <> (RFC 3834 §3.1.1)")
    if sender and is_automated_address(sender):
        result.auto_submitted = True
        result.reasons.append(f"no acknowledgement: {sender} is an automated address")
    # RFC 2369 / RFC 2919: a list distributed it. Not a robot, but nothing to acknowledge.
    if mail.header("list-id") is not None or mail.header("list-unsubscribe") is not None:
        result.auto_submitted = True
        result.reasons.append("mailing list: List-Id/List-Unsubscribe present (RFC 2369, 2919)")
    if _AUTO_REPLY_SUBJECT.match(mail.subject):
        automatic(f"subject looks like an automatic reply (heuristic): {mail.subject[:60]!r}")


_DSN_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
_ORIGINAL_TYPES = frozenset(
    {
        "text/rfc822-headers",
        "message/rfc822-headers",
        "message/rfc822",
        "message/global",
        "message/global-headers",
    }
)
_SYSTEM_LOCAL_PARTS = frozenset({"mailer-daemon", "postmaster"})
_BOUNCE_SUBJECT = re.compile(
    r"""^\s*(?:undeliver(?:ed|able)|delivery\s(?:status\snotification|failure|failed)
      |mail\sdelivery\sfail|returned\smail|failure\snotice|nondeliverable
      |unzustellbar|nedoručitelné)""",
    re.IGNORECASE | re.VERBOSE,
)
_MAX_HEADER_SCAN = 256 * 1024


def _dsn_failed_recipients(data: bytes) -> list[str]:
    """Final-Recipient (else Original-Recipient) of each per-recipient block that failed."""
    text = data[:_MAX_HEADER_SCAN].decode("utf-8", "replace").replace("\r\n", "\n")
    text = re.sub(r"\n[ \t]+", " ", text)  # unfold
    found = []
    for block in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            name, colon, value = line.partition(":")
            if colon:
                fields.setdefault(name.strip().lower(), value.strip())
        if not fields.get("action", "").lower().startswith("failed"):
            continue
        recipient = fields.get("final-recipient") or fields.get("original-recipient") or ""
        # "rfc822; jana@example.com" — the address type comes first.
        address = normalize_email(recipient.rpartition(";")[2]).strip("<>")
        if "@" in address and " " not in address:
            found.append(address)
    return found


def _original_message_id(data: bytes) -> str:
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(data[:_MAX_HEADER_SCAN])
        return normalize_message_id(str(headers.get("message-id") or ""))
    except Exception:  # the copy of the original in a DSN may be cut anywhere
        return ""


def bounce_detection(mail: ParsedMail, context: FilterContext, result: Classification) -> None:
    """Delivery status notifications (RFC 3464): who failed, and which message of ours it was.

    Recognised by the multipart/report type, a delivery-status part, Exim's
    X-Failed-Recipients, or a mailer-daemon/postmaster From with a null Return-Path (osTicket
    isBounce, Zammad bounce filters). The original Message-ID, when the DSN encloses the
    original headers, goes first in ``references`` so the router finds the ticket it bounced
    from.
    """
    sender_local = (result.sender or mail.from_address).partition("@")[0]
    system_sender = sender_local in _SYSTEM_LOCAL_PARTS
    ctype, params = _content_type(mail)
    reasons = []
    if ctype == "multipart/report" and params.get("report-type") == "delivery-status":
        reasons.append("multipart/report; report-type=delivery-status (RFC 3464)")
    if any(a.content_type in _DSN_TYPES for a in mail.attachments):
        reasons.append("a message/delivery-status part (RFC 3464)")
    failed_header = mail.header("x-failed-recipients")
    if failed_header is not None:
        reasons.append("X-Failed-Recipients present (Exim)")
    if system_sender and mail.return_path == "":
        reasons.append("From mailer-daemon/postmaster with Return-Path <> (RFC 5321 §4.5.5)")
    elif system_sender and _BOUNCE_SUBJECT.match(mail.subject):
        reasons.append("From mailer-daemon/postmaster with a bounce subject (heuristic)")
    if not reasons:
        return
    result.auto_submitted = True
    for reason in reasons:
        result.mark("bounce", f"bounce: {reason}")
    recipients: list[str] = []
    for attachment in mail.attachments:
        if attachment.content_type in _DSN_TYPES:
            recipients += _dsn_failed_recipients(attachment.data)
    for value in (failed_header or "").split(","):
        address = normalize_email(value).strip("<>")
        if "@" in address and " " not in address:
            recipients.append(address)
    result.bounced_recipients = list(dict.fromkeys(recipients))
    for attachment in mail.attachments:
        if attachment.content_type in _ORIGINAL_TYPES:
            original = _original_message_id(attachment.data)
            if original:
                result.references = [original] + [r for r in result.references if r != original]
                break


_NUMBER = r"[-+]?\d+(?:\.\d+)?"


def _spam_scores(mail: ParsedMail) -> list[tuple[str, float]]:
    scores = []
    for name, pattern in (
        ("x-spam-score", rf"^\s*({_NUMBER})"),  # SpamAssassin, many providers
        ("x-spam-status", rf"\bscore=({_NUMBER})"),  # SpamAssassin: "No, score=7.1 ..."
        ("x-spamd-result", rf"\[\s*({_NUMBER})\s*/"),  # rspamd: "default: False [7.50 / 15.00]"
    ):
        for value in mail.header_values(name):
            match = re.search(pattern, value)
            if match:
                try:
                    scores.append((name, float(match.group(1))))
                except ValueError:
                    continue
    return scores


def _blocked(address: str, blocklist: frozenset[str]) -> str | None:
    if not address:
        return None
    if address in blocklist or base_address(address) in blocklist:
        return address
    labels = _domain(address).split(".")
    for index in range(len(labels) - 1):
        entry = "@" + ".".join(labels[index:])
        if entry in blocklist:
            return entry
    return None


_ONLY_A_LINK = re.compile(r"^<?https?://\S+>?$", re.IGNORECASE)


def spam_check(mail: ParsedMail, context: FilterContext, result: Classification) -> None:
    """Spam verdicts of the upstream filter, our blocklist, and two weak heuristics.

    The heuristics (a body that is nothing but one link; a subject in capitals with several
    "!") each add a reason, but only both together make the kind "spam": an angry customer
    shouting in the subject must still reach an agent.
    """
    flag = mail.header("x-spam-flag")
    if flag is not None and _token(flag) == "yes":
        result.mark("spam", "spam: X-Spam-Flag: YES")
    status = mail.header("x-spam-status")
    if status is not None and _token(status) == "yes":
        result.mark("spam", f"spam: X-Spam-Status: {status.strip()[:60]}")
    for name, score in _spam_scores(mail):
        if score >= context.spam_score_threshold:
            result.mark("spam", f"spam: {name} score {score:g} >= {context.spam_score_threshold:g}")
            break
    sender = result.sender or mail.from_address
    entry = _blocked(sender, context.blocklist)
    if entry:
        result.mark("spam", f"spam: the sender is on the blocklist ({entry})")
    heuristics = []
    body = mail.text.strip()
    if body and _ONLY_A_LINK.match(body) and not mail.attachments:
        heuristics.append("the body is only a link")
    letters = [ch for ch in mail.subject if ch.isalpha()]
    if len(letters) >= 8 and all(ch.isupper() for ch in letters) and mail.subject.count("!") >= 3:
        heuristics.append("the subject is all capitals with several '!'")
    for heuristic in heuristics:
        result.reasons.append(f"spam (heuristic): {heuristic}")
    if len(heuristics) >= 2:
        result.mark("spam", "spam: several heuristics together")


def _matches(pattern: str, text: str) -> list[str]:
    compiled = re.compile(pattern)
    found = []
    for match in compiled.finditer(text[:_MAX_SCANNED_TEXT]):
        found.append(match.group(1) if compiled.groups else match.group(0))
    return [value for value in dict.fromkeys(found) if value]


def followup_detection(mail: ParsedMail, context: FilterContext, result: Classification) -> None:
    """Ticket numbers from the subject tag, and the message's references (Zammad follow_up_check).

    Only candidates: the router checks that a tagged ticket or referenced message belongs to
    this sender before it appends (RELIABILITY R5 g, R9) — a known number is not a capability.
    References come In-Reply-To first, then References newest first (the nearest ancestor is
    the most specific), after a bounced message's original id.
    """
    result.ticket_numbers = _matches(context.tag_pattern, mail.subject)
    ids = list(mail.in_reply_to) + list(reversed(mail.references))
    result.references = list(dict.fromkeys(result.references + [i for i in ids if i]))


def order_detection(mail: ParsedMail, context: FilterContext, result: Classification) -> None:
    """Order numbers mentioned in the subject, then the text; at most five, first seen first.
    A pattern that runs longer than ``ORDER_PATTERN_SECONDS`` finds none, and says so."""
    texts = [mail.subject[:_MAX_SCANNED_TEXT], mail.text[:_MAX_SCANNED_TEXT]]
    try:  # an admin's pattern: in a child that is killed when it backtracks without end
        found = find_all(context.order_pattern, texts, ORDER_PATTERN_SECONDS)
    except PatternFailed as exc:
        result.reasons.append(f"order pattern: {exc}")
        return
    result.order_numbers = list(dict.fromkeys(found))[:MAX_ORDER_NUMBERS]


FILTERS: tuple[Filter, ...] = (
    identify_sender,
    loop_detection,
    auto_response_check,
    bounce_detection,
    spam_check,
    followup_detection,
    order_detection,
)


def classify(mail: ParsedMail, context: FilterContext) -> Classification:
    """Run every filter of :data:`FILTERS` in order over one message."""
    result = Classification()
    for step in FILTERS:
        step(mail, context, result)
    return result


def tag_pattern(template: str) -> str:
    """A regex for "[<ticket number>]" in subjects, derived from the number template."""
    pattern = ""
    for literal, field_name, _spec, _ in string.Formatter().parse(template):
        pattern += re.escape(literal)
        if field_name == "year":
            pattern += r"\d{4}"
        elif field_name == "month":
            pattern += r"\d{2}"
        elif field_name == "seq":
            pattern += r"\d+"
    return r"\[(" + pattern + r")\]"
