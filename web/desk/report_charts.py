"""Each report as the reports page shows it: a chart (``tempodesk.reports.charts``, texts in
the reader's language) and its rows under translated column names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from statemachines import OPEN_CATEGORIES
from tempodesk.reports.charts import Series, bar_chart
from tempodesk.reports.queries import Report
from web.i18n import gettext as _
from web.i18n import lazy_gettext
from web.i18n.texts import CATEGORY_LABELS

TITLES = {
    "created_resolved": lazy_gettext("Tickets created and resolved per day"),
    "backlog": lazy_gettext("Backlog by state and group"),
    "first_response": lazy_gettext("First response time"),
    "resolution": lazy_gettext("Resolution time"),
    "sla": lazy_gettext("SLA compliance"),
    "agent_load": lazy_gettext("Load per agent"),
    "csat": lazy_gettext("Customer satisfaction"),
}
NOTES = {
    "created_resolved": lazy_gettext("Days in UTC."),
    "backlog": lazy_gettext("Tickets waiting now (new, open, pending); the period does not apply."),
    "first_response": lazy_gettext(
        "Tickets created in the period: time from creation to the first public reply."
    ),
    "resolution": lazy_gettext("Tickets resolved in the period: time from creation to resolution."),
    "sla": lazy_gettext(
        "Tickets created in the period under an SLA policy: the share that breached no target."
    ),
    "agent_load": lazy_gettext("Tickets waiting now, and tickets resolved in the period."),
    "csat": lazy_gettext("Ratings given in the period (1 to 5)."),
}
COLUMNS = {
    "day": lazy_gettext("Day"),
    "created": lazy_gettext("Created"),
    "resolved": lazy_gettext("Resolved"),
    "state_category": lazy_gettext("State"),
    "group": lazy_gettext("Group"),
    "tickets": lazy_gettext("Tickets"),
    "key": lazy_gettext("Breakdown"),
    "answered": lazy_gettext("Answered"),
    "p50_hours": lazy_gettext("Median (hours)"),
    "p90_hours": lazy_gettext("90th percentile (hours)"),
    "agent": lazy_gettext("Agent"),
    "open": lazy_gettext("Waiting now"),
    "channel": lazy_gettext("Channel"),
    "process": lazy_gettext("Process"),
    "ratings": lazy_gettext("Ratings"),
    "average": lazy_gettext("Average score"),
    "satisfied_percent": lazy_gettext("Satisfied (4 or 5), %"),
    "policy": lazy_gettext("Policy"),
    "breached": lazy_gettext("Breached"),
    "compliance_percent": lazy_gettext("Met, %"),
}
DIMENSION_LABELS = {
    "channel": lazy_gettext("Channel"),
    "process": lazy_gettext("Process"),
    "group": lazy_gettext("Group"),
    "agent": lazy_gettext("Agent"),
}
CHANNEL_LABELS = {
    "api": lazy_gettext("API"),
    "web": lazy_gettext("Web"),
    "email": lazy_gettext("Email"),
    "phone": lazy_gettext("Phone"),
    "walk_in": lazy_gettext("Walk-in"),
}


@dataclass
class Section:
    """One report on the page: its name, title, note, chart, column names and rows."""

    name: str
    title: str
    note: str
    chart: Markup
    columns: list[str]
    rows: list[tuple[Any, ...]]


def section(report: Report) -> Section:
    title = str(TITLES[report.name])
    return Section(
        name=report.name,
        title=title,
        note=str(NOTES[report.name]),
        chart=_chart(report, title),
        columns=[str(COLUMNS.get(c, c)) for c in report.columns],
        rows=[
            tuple(_shown(c, v) for c, v in zip(report.columns, r, strict=True)) for r in report.rows
        ],
    )


def _shown(column: str, value: Any) -> Any:
    if column == "state_category":
        return _(CATEGORY_LABELS.get(value, value))
    if column == "channel" or (column == "key" and value in CHANNEL_LABELS):
        return str(CHANNEL_LABELS.get(value, value))
    if value == "" and column in ("key", "group", "agent", "process"):
        return _("(none)")
    return "\u2013" if value is None else value


def _chart(report: Report, title: str) -> Markup:
    draw = {
        "created_resolved": _daily,
        "backlog": _backlog,
        "first_response": _durations,
        "resolution": _durations,
        "sla": _sla,
        "agent_load": _load,
        "csat": _csat,
    }[report.name]
    return draw(report.rows, title, _("No tickets match."))


def _keys(rows: list[tuple[Any, ...]]) -> list[str]:
    return [str(_shown("key", r[0])) for r in rows]


def _daily(rows: list[tuple[Any, ...]], title: str, empty: str) -> Markup:
    series = [
        Series(_("Created"), [r[1] for r in rows]),
        Series(_("Resolved"), [r[2] for r in rows]),
    ]
    days = [r[0] for r in rows]
    unit = _("tickets")
    return bar_chart(
        title=title, categories=days, series=series, unit=unit, empty=empty, counts=True
    )


def _backlog(rows: list[tuple[Any, ...]], title: str, empty: str) -> Markup:
    groups = sorted({r[1] for r in rows})
    counts = {(r[0], r[1]): r[2] for r in rows}
    series = [
        Series(_(CATEGORY_LABELS[c]), [counts.get((c, g), 0) for g in groups])
        for c in OPEN_CATEGORIES
    ]
    labels = [g or _("(none)") for g in groups]
    unit = _("tickets")
    return bar_chart(
        title=title, categories=labels, series=series, unit=unit, empty=empty, counts=True
    )


def _durations(rows: list[tuple[Any, ...]], title: str, empty: str) -> Markup:
    series = [
        Series(_("Median"), [r[3] for r in rows]),
        Series(_("90th percentile"), [r[4] for r in rows]),
    ]
    return bar_chart(
        title=title, categories=_keys(rows), series=series, unit=_("hours"), empty=empty
    )


def _sla(rows: list[tuple[Any, ...]], title: str, empty: str) -> Markup:
    series = [Series(_("Met, %"), [r[3] for r in rows])]
    return bar_chart(
        title=title, categories=_keys(rows), series=series, unit="%", empty=empty, top=100.0
    )


def _load(rows: list[tuple[Any, ...]], title: str, empty: str) -> Markup:
    series = [
        Series(_("Waiting now"), [r[1] for r in rows]),
        Series(_("Resolved"), [r[2] for r in rows]),
    ]
    unit = _("tickets")
    return bar_chart(
        title=title, categories=_keys(rows), series=series, unit=unit, empty=empty, counts=True
    )


def _csat(rows: list[tuple[Any, ...]], title: str, empty: str) -> Markup:
    series = [Series(_("Average score"), [r[2] for r in rows])]
    return bar_chart(
        title=title, categories=_keys(rows), series=series, unit=_("score"), empty=empty, top=5.0
    )
