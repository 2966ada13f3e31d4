"""The admin pages' text forms of calendars and policies, both ways: one window list per
weekday ("08:00-12:00, 13:00-17:00"), one holiday per line, comma lists of condition values,
"name=value" field conditions and one action per line:

    notify assignee sla_warning      (a template to assignee | group | supervisor)
    escalate Escalations             (to a group)
    raise_priority
    perform close                    (a process action, as the system)
"""

from __future__ import annotations

from typing import Any

from statemachines.calendar import WEEKDAYS
from tempodesk.contracts import SLA_TARGETS
from tempodesk.core.models import BusinessCalendar, SlaPolicy
from tempodesk.sla.policies import PolicyForm


def calendar_document(time_zone: str, hours: dict[str, str], holidays: str) -> dict[str, Any]:
    """The calendar document of the form's fields (checked when saved)."""
    return {
        "time_zone": time_zone.strip(),
        "hours": {
            day: [w.strip() for w in hours.get(day, "").split(",") if w.strip()] for day in WEEKDAYS
        },
        "holidays": [line.strip() for line in holidays.splitlines() if line.strip()],
    }


def calendar_fields(row: BusinessCalendar | None) -> dict[str, Any]:
    """The form's fields of a stored calendar (a new one: Monday to Friday, 8 to 17)."""
    document = row.document if row else {"hours": {d: ["08:00-17:00"] for d in WEEKDAYS[:5]}}
    return {
        "name": row.name if row else "",
        "time_zone": document.get("time_zone", "UTC"),
        "hours": {d: ", ".join(document.get("hours", {}).get(d, [])) for d in WEEKDAYS},
        "holidays": "\n".join(document.get("holidays", [])),
    }


def comma_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_conditions(values: dict[str, Any]) -> dict[str, Any]:
    """Conditions from the form: priorities checked, comma lists, "name=value" lines."""
    conditions: dict[str, Any] = {}
    priorities = [int(p) for p in values.get("priority", []) if str(p).isdigit()]
    if priorities:
        conditions["priority"] = priorities
    for name in ("channel", "process", "organisation", "group", "customer_type"):
        listed = comma_list(values.get(name, ""))
        if listed:
            conditions[name] = listed
    contract = comma_list(values.get("contract", ""))
    if contract in (["*"], ["-"]):
        conditions["contract"] = contract == ["*"]
    elif contract:
        conditions["contract"] = contract
    fields = {}
    for line in str(values.get("field", "")).splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip():
            fields[name.strip()] = value.strip()
    if fields:
        conditions["field"] = fields
    return conditions


def parse_actions(text: str) -> list[dict[str, Any]]:
    """One action per line (unknown words are kept for the check to name)."""
    actions: list[dict[str, Any]] = []
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        kind, rest = words[0], words[1:]
        if kind == "notify":
            action = {"kind": kind, "to": rest[0] if rest else "", "template": " ".join(rest[1:])}
        elif kind == "escalate":
            action = {"kind": kind, "group": " ".join(rest)}
        elif kind == "perform":
            action = {"kind": kind, "action": " ".join(rest)}
        else:
            action = {"kind": kind}
        actions.append(action)
    return actions


def action_lines(actions: list[dict[str, Any]]) -> str:
    lines = []
    for a in actions:
        kind = a.get("kind", "")
        if kind == "notify":
            lines.append(f"notify {a.get('to', '')} {a.get('template', '')}")
        elif kind == "escalate":
            lines.append(f"escalate {a.get('group', '')}")
        elif kind == "perform":
            lines.append(f"perform {a.get('action', '')}")
        else:
            lines.append(kind)
    return "\n".join(lines)


def policy_fields(row: SlaPolicy | None, calendar: str = "") -> dict[str, Any]:
    """The form's fields of a stored policy (a new one: empty, warning at 80 %)."""
    conditions: dict[str, Any] = dict(row.conditions or {}) if row else {}
    return {
        "name": row.name if row else "",
        "position": row.position if row else 0,
        "active": row.active if row else True,
        "calendar": calendar,
        "targets": {t: (getattr(row, t) or "") if row else "" for t in SLA_TARGETS},
        "warn_percent": row.warn_percent if row else 80,
        "priority": [str(p) for p in conditions.get("priority", [])],
        **{
            name: ", ".join(map(str, conditions.get(name, [])))
            for name in ("channel", "process", "organisation", "group", "customer_type")
        },
        "contract": _contract_text(conditions.get("contract")),
        "field": "\n".join(f"{k}={v}" for k, v in (conditions.get("field") or {}).items()),
        "on_warning": action_lines(row.on_warning or []) if row else "",
        "on_breach": action_lines(row.on_breach or []) if row else "",
    }


def _contract_text(value: Any) -> str:
    if isinstance(value, bool):
        return "*" if value else "-"
    return ", ".join(map(str, value or []))


def policy_form(values: dict[str, Any]) -> PolicyForm:
    """A policy from the form's fields (``values`` as ``policy_fields`` makes them)."""
    try:
        position = int(values.get("position") or 0)
        warn = int(values.get("warn_percent") or 80)
    except ValueError:
        position, warn = 0, 0  # the check names warn_percent
    return PolicyForm(
        name=str(values.get("name", "")),
        calendar=str(values.get("calendar", "")),
        targets={t: str(values.get("targets", {}).get(t, "")).strip() for t in SLA_TARGETS},
        conditions=parse_conditions(values),
        warn_percent=warn,
        on_warning=parse_actions(str(values.get("on_warning", ""))),
        on_breach=parse_actions(str(values.get("on_breach", ""))),
        position=position,
        active=bool(values.get("active")),
    )
