"""Bar charts as SVG drawn here, on the server: no script, no library, nothing for the
Content-Security-Policy to allow. Colours and fonts come from classes in the stylesheet
(``.chart .s0`` …), never from style attributes (``style-src 'self'`` blocks them); each bar
carries a ``<title>``, so hovering shows its value. Texts arrive translated: this module
knows no language."""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 40, 64
MAX_LABELS = 14  # category labels under the axis; the others are on their bars' titles
MAX_BAR = 44  # a bar's widest, so two categories do not fill the chart with colour


@dataclass(frozen=True)
class Series:
    """One colour of bars: its legend and a value per category (None: nothing to show)."""

    label: str
    values: list[float | None]


def nice_ceiling(value: float) -> float:
    """The axis' top: 1, 2 or 5 times a power of ten, at least ``value`` (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def _number(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.2f}".rstrip("0")


def bar_chart(
    *,
    title: str,
    categories: list[str],
    series: list[Series],
    unit: str = "",
    empty: str = "",
    counts: bool = False,
    top: float | None = None,
) -> Markup:
    """Grouped vertical bars: a group per category, a bar per series, with axes, gridlines,
    a legend and values on hover. ``counts``: whole numbers (the axis never shows a
    quarter of a ticket); ``top``: a fixed axis top (scores: 5)."""
    values = [v for s in series for v in s.values if v is not None]
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    parts += _legend(series)
    if top is None:
        top = nice_ceiling(max(values, default=0))
        if counts:
            top = max(top, 4.0)
    parts += _axis(top, unit)
    if not categories or not values:
        parts.append(
            f'<text class="empty" x="{WIDTH / 2}" y="{HEIGHT / 2}" '
            f'text-anchor="middle">{escape(empty)}</text>'
        )
    else:
        parts += _bars(categories, series, top, unit)
    parts.append("</svg>")
    return Markup("".join(parts))


def _legend(series: list[Series]) -> list[str]:
    parts, x = [], LEFT
    for n, one in enumerate(series):
        parts.append(f'<rect class="s{n}" x="{x}" y="12" width="12" height="12"/>')
        parts.append(f'<text class="legend" x="{x + 18}" y="22">{escape(one.label)}</text>')
        x += 40 + 8 * len(one.label)
    return parts


def _axis(top: float, unit: str) -> list[str]:
    bottom, plot_h = HEIGHT - BOTTOM, HEIGHT - TOP - BOTTOM
    parts = []
    for n in range(5):
        value = top * n / 4
        y = bottom - plot_h * n / 4
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}"/>')
        parts.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4}" text-anchor="end">'
            f"{escape(_number(value))}</text>"
        )
    if unit:
        parts.append(
            f'<text class="unit" x="14" y="{TOP + plot_h / 2}" text-anchor="middle" '
            f'transform="rotate(-90 14 {TOP + plot_h / 2})">{escape(unit)}</text>'
        )
    parts.append(
        f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{bottom}" y2="{bottom}"/>'
    )
    return parts


def _bars(categories: list[str], series: list[Series], top: float, unit: str) -> list[str]:
    bottom, plot_h = HEIGHT - BOTTOM, HEIGHT - TOP - BOTTOM
    band = (WIDTH - LEFT - RIGHT) / len(categories)
    width = min(band * 0.8 / max(len(series), 1), MAX_BAR)
    spare = band - width * len(series)  # centred in its band
    every = math.ceil(len(categories) / MAX_LABELS)
    parts = []
    for i, category in enumerate(categories):
        x0 = LEFT + band * i + spare / 2
        for n, one in enumerate(series):
            value = one.values[i]
            if value is None:
                continue
            h = plot_h * value / top
            shown = f"{category} · {one.label}: {_number(value)}{' ' + unit if unit else ''}"
            parts.append(
                f'<rect class="bar s{n}" x="{x0 + width * n:.1f}" y="{bottom - h:.1f}" '
                f'width="{max(width - 1, 1):.1f}" height="{h:.1f}">'
                f"<title>{escape(shown)}</title></rect>"
            )
        if i % every == 0:
            x = LEFT + band * (i + 0.5)
            parts.append(
                f'<text class="label" x="{x:.1f}" y="{bottom + 14}" text-anchor="end" '
                f'transform="rotate(-35 {x:.1f} {bottom + 14})">{escape(category[:24])}</text>'
            )
    return parts
