"""The server-drawn bar charts: readable axes, hostile labels inert, nothing the CSP blocks."""

from __future__ import annotations

from tempodesk.reports.charts import Series, bar_chart, nice_ceiling


def test_the_axis_top_is_a_round_number_at_least_the_largest_value() -> None:
    assert [nice_ceiling(v) for v in (0, 0.3, 1, 3, 7, 12, 180, 1001)] == [
        1.0,
        0.5,
        1.0,
        5.0,
        10.0,
        20.0,
        200.0,
        2000.0,
    ]


def test_a_chart_has_a_title_a_legend_and_a_value_on_each_bar() -> None:
    svg = bar_chart(
        title="Created per day",
        categories=["2020-03-01", "2020-03-02"],
        series=[Series("Created", [2, 1]), Series("Resolved", [0, None])],
        unit="tickets",
        counts=True,
    )
    assert svg.startswith('<svg class="chart"') and "<title>Created per day</title>" in svg
    assert '<text class="legend"' in svg and ">Resolved</text>" in svg
    assert "<title>2020-03-01 · Created: 2 tickets</title>" in svg
    assert svg.count('class="bar ') == 3  # no bar for a missing value
    assert ">4</text>" in svg  # counts: the axis goes to 4, never a quarter of a ticket
    assert "style" not in svg


def test_hostile_labels_are_text_not_markup() -> None:
    svg = bar_chart(
        title='<script>alert(1)</script>"',
        categories=["<img src=x onerror=alert(1)>"],
        series=[Series("&lt;b&gt;", [1])],
    )
    assert "<script>" not in svg and "<img" not in svg
    assert "&lt;img src=x onerror=alert(1)&gt;" in svg
    assert "&amp;lt;b&amp;gt;" in svg


def test_an_empty_chart_says_so() -> None:
    svg = bar_chart(title="Nothing", categories=[], series=[Series("A", [])], empty="No tickets")
    assert '<text class="empty"' in svg and "No tickets" in svg
