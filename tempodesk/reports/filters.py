"""What a report is asked for (a period, a group, a channel, a process, a dimension) and who
may ask: admins read every group, a group's supervisor reads the groups they supervise, and
nobody else reads reports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from statemachines.rights import VIEW_REPORTS
from tempodesk.core.models import Group, User

#: The longest period a report covers (a per-day series has a row per day).
MAX_DAYS = 366
#: The default period: the last 30 days, today included.
DEFAULT_DAYS = 30
#: What the duration and satisfaction reports may be broken down by.
DIMENSIONS = ("channel", "process", "group", "agent")


class FilterInvalid(ValueError):
    """A filter cannot be read; ``errors`` maps the parameter to a readable message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass(frozen=True)
class Scope:
    """The groups a reader may see: ``None`` is every group (an admin)."""

    groups: tuple[str, ...] | None

    def allows(self, group: str) -> bool:
        return self.groups is None or group in self.groups


@dataclass(frozen=True)
class Filters:
    """A report's question: tickets of the period ``start`` to ``end`` (both days included,
    in UTC), of one group, channel and process if given, broken down by ``by``."""

    start: date
    end: date
    group: str = ""
    channel: str = ""
    process: str = ""
    by: str = "channel"

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), UTC)

    @property
    def until(self) -> datetime:
        """The first moment after the period."""
        return datetime.combine(self.end + timedelta(days=1), time(), UTC)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def as_dict(self) -> dict[str, str]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "group": self.group,
            "channel": self.channel,
            "process": self.process,
            "by": self.by,
        }


def scope_for(session: Session, user: User) -> Scope | None:
    """What ``user`` may read: every group (an admin), the groups they supervise and those
    under them, with the right ``view_reports`` also their own groups; or nothing (``None``)."""
    if user.is_admin:
        return Scope(groups=None)
    supervised = session.scalars(select(Group).where(Group.supervisor == user.username))
    names = {sub.name for group in supervised for sub in (group, *group.descendants())}
    if VIEW_REPORTS in user.rights:
        names.update(g.name for g in user.groups)
    return Scope(groups=tuple(sorted(names))) if names else None


def parse_filters(args: Mapping[str, str], scope: Scope, today: date) -> Filters:
    """The filters of a query string (``from``, ``to``: YYYY-MM-DD; ``group``, ``channel``,
    ``process``, ``by``), checked whole; a group outside the reader's scope is refused."""
    errors: dict[str, str] = {}
    end = _day(args.get("to", ""), today, "to", errors)
    start = _day(args.get("from", ""), end - timedelta(days=DEFAULT_DAYS - 1), "from", errors)
    if not errors and start > end:
        errors["from"] = "The period starts after it ends."
    elif not errors and (end - start).days >= MAX_DAYS:
        errors["from"] = f"A period is at most {MAX_DAYS} days."
    by = args.get("by", "") or "channel"
    if by not in DIMENSIONS:
        errors["by"] = f"Use one of {', '.join(DIMENSIONS)}."
    group = args.get("group", "").strip()
    if group and not scope.allows(group):
        errors["group"] = "You do not supervise this group."
    texts = {name: args.get(name, "").strip() for name in ("channel", "process")}
    for name, value in {"group": group, **texts}.items():
        if len(value) > 64:
            errors[name] = "At most 64 characters."
    if errors:
        raise FilterInvalid(errors)
    return Filters(start=start, end=end, group=group, by=by, **texts)


def _day(text: str, default: date, name: str, errors: dict[str, str]) -> date:
    if not text.strip():
        return default
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors[name] = "Write a day as YYYY-MM-DD."
        return default
