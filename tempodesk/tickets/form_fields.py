"""What a web form asks and what it refuses (pure): its custom fields (checked by the rules
of a process's action fields, ``statemachines.clean_fields``), content checks against spam,
its embedding origins and the files it takes.

A custom field's value lands on the ticket as a field (``tickets.fields``), searchable and
shown with the form's label; its key must not be one the form itself uses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from statemachines import ActionSpec, FieldErrors, clean_fields
from statemachines.definition import Choice
from statemachines.definition import FieldSpec as ProcessField
from tempodesk.people.addresses import is_valid_email

FIELD_TYPES = ("text", "longtext", "select", "checkbox", "number", "date", "email")
#: Keys the form itself uses (its built-in fields, the spam trap, the submission key).
BUILT_IN_KEYS = frozenset(
    {
        "name",
        "email",
        "subject",
        "message",
        "body",
        "order_number",
        "phone",
        "attachments",
        "website",
        "submission",
        "csrf_token",
        "kind",
        "process",
    }
)
KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
#: The longest value a field may be set to take (a long text); labels and help texts.
LONGEST_VALUE = 10_000
LABEL_MAX = 100
HELP_MAX = 300
CHOICE_MAX = 100
MAX_CHOICES = 50
MAX_FIELDS = 30


@dataclass(frozen=True)
class FormField:
    """One custom field as the admin set it up (stored as a dict in ``web_forms.fields``)."""

    key: str
    label: str
    type: str = "text"
    required: bool = False
    max_length: int = 200
    choices: tuple[str, ...] = ()
    help: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "type": self.type,
            "required": self.required,
            "max_length": self.max_length,
            "choices": list(self.choices),
            "help": self.help,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FormField:
        return cls(
            key=str(data.get("key", "")),
            label=str(data.get("label", "")),
            type=str(data.get("type", "text")),
            required=bool(data.get("required", False)),
            max_length=int(data.get("max_length") or 200),
            choices=tuple(str(c) for c in data.get("choices") or ()),
            help=str(data.get("help", "")),
        )


def field_problems(fields: Sequence[FormField]) -> dict[str, str]:
    """Every problem of an admin's field list, by ``fields-<index>-<part>``."""
    errors: dict[str, str] = {}
    seen: set[str] = set()
    if len(fields) > MAX_FIELDS:
        errors["fields"] = f"At most {MAX_FIELDS} fields."
    for index, spec in enumerate(fields):
        where = f"fields-{index}-"
        if not KEY.match(spec.key):
            errors[where + "key"] = "Use a-z, 0-9 and _, starting with a letter (at most 32)."
        elif spec.key in BUILT_IN_KEYS:
            errors[where + "key"] = "This key belongs to the form itself; choose another."
        elif spec.key in seen:
            errors[where + "key"] = "Each field needs its own key."
        seen.add(spec.key)
        if not spec.label.strip():
            errors[where + "label"] = "Enter a name."
        elif len(spec.label) > LABEL_MAX:
            errors[where + "label"] = f"At most {LABEL_MAX} characters."
        if len(spec.help) > HELP_MAX:
            errors[where + "help"] = f"At most {HELP_MAX} characters."
        if spec.type not in FIELD_TYPES:
            errors[where + "type"] = f"Use one of: {', '.join(FIELD_TYPES)}."
        if not 1 <= spec.max_length <= LONGEST_VALUE:
            errors[where + "max_length"] = f"Use 1 to {LONGEST_VALUE}."
        if spec.type == "select" and not spec.choices:
            errors[where + "choices"] = "Give the choices, one per line."
        if len(spec.choices) > MAX_CHOICES or any(len(c) > CHOICE_MAX for c in spec.choices):
            errors[where + "choices"] = f"At most {MAX_CHOICES} choices of {CHOICE_MAX} characters."
    return errors


def clean_values(fields: Sequence[FormField], raw: Mapping[str, Any]) -> dict[str, Any]:
    """The submitted values of the custom fields, checked and normalised; raises FieldErrors.

    Only the form's own keys are read (anything else sent is ignored); a forged choice or a
    value of the wrong type is refused like a process action's field."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in fields:
        value = raw.get(spec.key)
        if spec.type == "checkbox":
            value = value in (True, "y", "on", "true", "1")
        elif isinstance(value, str):
            value = value.replace("\r\n", "\n").strip()
        if isinstance(value, str) and len(value) > spec.max_length:
            errors[spec.key] = f"At most {spec.max_length} characters."
        elif spec.type == "email" and value and not is_valid_email(str(value)):
            errors[spec.key] = "Enter a valid email address."
        else:
            values[spec.key] = value
    try:
        clean = clean_fields(_as_action(fields), values, claimed=False)
    except FieldErrors as exc:
        errors = {**exc.errors, **errors}
        clean = {}
    if errors:
        raise FieldErrors(errors)
    # Empty optional values stay off the ticket.
    return {k: v for k, v in clean.items() if v not in ("", None, False)}


def _as_action(fields: Sequence[FormField]) -> ActionSpec:
    kinds = {"email": "text"}
    return ActionSpec(
        id="form",
        label="form",
        target="",
        fields=tuple(
            ProcessField(
                id=spec.key,
                type=kinds.get(spec.type, spec.type),
                label=spec.label,
                required=spec.required,
                choices=tuple(Choice(c, c) for c in spec.choices),
                max_length=spec.max_length,
            )
            for spec in fields
        ),
    )


@dataclass(frozen=True)
class ContentRules:
    """What a form refuses as spam without asking anyone else."""

    max_links: int = 3
    blocked_words: tuple[str, ...] = ()


_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)


def content_problem(rules: ContentRules, texts: Sequence[str]) -> str | None:
    """Why the request's texts look like spam (too many links, a blocked word, a message
    that is only links), else None."""
    joined = "\n".join(t for t in texts if t)
    if len(_LINK.findall(joined)) > rules.max_links:
        return f"At most {rules.max_links} links, please."
    lowered = joined.casefold()
    if any(word and word.casefold() in lowered for word in rules.blocked_words):
        return "Your request could not be sent."
    message = texts[-1] if texts else ""
    if message.strip() and not _LINK.sub("", message).strip():
        return "Please describe your request in words, not only links."
    return None


def parse_origins(text: str) -> tuple[list[str], list[str]]:
    """The embedding origins an admin wrote, one per line: (valid, invalid). An origin is
    ``https://host[:port]`` (``http`` only for localhost), nothing after it."""
    valid: list[str] = []
    invalid: list[str] = []
    for line in text.splitlines():
        origin = line.strip().rstrip("/")
        if not origin:
            continue
        (valid if _is_origin(origin) else invalid).append(origin)
    return valid, invalid


def _is_origin(origin: str) -> bool:
    if any(c in origin for c in " ;,'\"*\\") or not origin.isascii():
        return False
    try:
        parts = urlsplit(origin)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return False
    if parts.path or parts.query or parts.fragment or parts.username or not parts.hostname:
        return False
    if parts.scheme == "http":
        return parts.hostname in ("localhost", "127.0.0.1")
    return parts.scheme == "https" and re.fullmatch(r"[a-z0-9.-]+", parts.hostname) is not None


#: Extensions a form may accept -> the content types their first bytes may show.
SNIFFED = {
    "pdf": ("application/pdf",),
    "png": ("image/png",),
    "jpg": ("image/jpeg",),
    "jpeg": ("image/jpeg",),
    "gif": ("image/gif",),
    "webp": ("image/webp",),
    "txt": ("text/plain",),
    "csv": ("text/plain",),
    "docx": ("application/zip",),
    "xlsx": ("application/zip",),
    "odt": ("application/zip",),
    "zip": ("application/zip",),
}


def sniff(data: bytes) -> str:
    """The content type a file's first bytes show (text: UTF-8 without NUL)."""
    head = data[:16]
    for magic, kind in (
        (b"%PDF-", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"PK\x03\x04", "application/zip"),
    ):
        if head.startswith(magic):
            return kind
    if head.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image/webp"
    try:
        text = data[:4096].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < min(len(data), 4096) - 3:  # not just a character cut at the end
            return "application/octet-stream"
        text = data[: exc.start].decode("utf-8")
    return "text/plain" if "\0" not in text else "application/octet-stream"


@dataclass(frozen=True)
class FileRules:
    max_bytes: int = 0  # 0: the form takes no files
    types: tuple[str, ...] = field(default_factory=tuple)  # extensions, lower case


def file_problem(rules: FileRules, filename: str, data: bytes) -> str | None:
    """Why a file is refused (no files on this form, too large, a type not allowed or one
    whose content is something else), else None."""
    if rules.max_bytes <= 0:
        return "This form takes no files."
    if len(data) > rules.max_bytes:
        return f"'{filename}' is larger than {_size(rules.max_bytes)}."
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in rules.types or extension not in SNIFFED:
        return f"'{filename}': allowed are {', '.join(rules.types) or '-'}."
    if sniff(data) not in SNIFFED[extension]:
        return f"'{filename}' is not what its name says."
    return None


def _size(limit: int) -> str:
    return f"{limit / 1024 / 1024:.1f} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
