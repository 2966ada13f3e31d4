"""The benchmark runs end to end and prints its JSON document (figures are not judged here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def run_quick(module: str) -> dict[str, Any]:
    """Run a benchmark with --quick and return its JSON document (which must report success)."""
    finished = subprocess.run(
        [sys.executable, "-m", module, "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr[-4000:]
    document: dict[str, Any] = json.loads(finished.stdout)
    assert document["ok"] is True
    assert document["errors"] == []
    return document


def test_quick_benchmark_prints_a_complete_json_document() -> None:
    document = run_quick("benchmarks.run")
    for key in ("machine", "config", "setup", "scenarios", "baseline", "ratios", "duration_s"):
        assert key in document, key
    assert document["cost"]["history_events_per_ticket"] > 0
    assert document["cost"]["history_events_per_action"] > 0
    machine = document["machine"]
    assert machine["cpu_count"] >= 1
    assert machine["python"] and machine["temporalio"]

    levels = {str(n) for n in document["config"]["intake_clients"]}
    action_levels = {str(n) for n in document["config"]["action_clients"]}
    expected = {
        "intake": levels,
        "action_set_priority": action_levels,
        "action_comment": action_levels,
    }
    assert set(document["scenarios"]) == set(expected)
    baseline = document["baseline"]
    assert set(baseline) == {"update_with_start_3_local_activities", "update_1_local_activity"}
    assert set(baseline["update_with_start_3_local_activities"]) == levels
    assert set(baseline["update_1_local_activity"]) == action_levels

    figures = [
        figure
        for group in (document["scenarios"], baseline)
        for per_level in group.values()
        for figure in per_level.values()
    ]
    for scenario, per_level in expected.items():
        assert set(document["scenarios"][scenario]) == per_level
        for level in per_level:
            ratio = document["ratios"][scenario][level]
            assert set(ratio) == {
                "throughput",
                "p50_latency",
                "p99_latency",
                "cpu_ms_per_op",
                "host_busy_pct",
            }
            # The web runs in its own processes (gunicorn, as docker-compose): its CPU counts.
            assert ratio["cpu_ms_per_op"]["tempodesk_by_process"]["web"] > 0
    for figure in figures:
        assert figure["n"] > 0
        assert figure["errors"] == 0
        for key in ("throughput_per_s", "p50_ms", "p99_ms"):
            assert isinstance(figure[key], int | float), (key, figure)


def test_quick_mail_intake_benchmark_loses_and_duplicates_nothing() -> None:
    document = run_quick("benchmarks.mail_intake")
    for key in (
        "machine",
        "config",
        "setup",
        "burst",
        "intake",
        "components",
        "baseline",
        "ratios",
        "warnings",
        "duration_s",
    ):
        assert key in document, key
    burst, intake = document["burst"], document["intake"]
    assert burst["messages"] == document["config"]["messages"] > 0
    assert burst["replies"] > 0 and burst["with_attachment"] > 0
    assert intake["lost"] == 0
    assert intake["duplicates"] == 0
    assert intake["not_visible"] == 0
    assert intake["processed"] == burst["messages"]
    assert sum(intake["outcomes"].values()) == burst["messages"]
    assert intake["outcomes"]["follow_up"] > 0
    for key in ("throughput_per_s", "messages_per_min", "drain_s"):
        assert isinstance(intake[key], int | float), key
    latency = intake["latency_arrival_to_visible"]
    assert latency["n"] == burst["messages"]
    for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms"):
        assert isinstance(latency[key], int | float), key
    assert {"worker_s", "temporal_s"} <= set(intake["cpu"])
    baseline = document["baseline"]["update_with_start_3_local_activities"]
    assert set(baseline) == {str(n) for n in document["config"]["baseline_clients"]}
    for figure in baseline.values():
        assert figure["n"] == burst["messages"] and figure["errors"] == 0
    reference = document["ratios"]["reference"]
    assert isinstance(document["ratios"]["throughput"][reference], int | float)
    api = document["api_intake"]
    assert api["n"] == document["config"]["api_tickets"] > 0 and api["errors"] == 0
    assert isinstance(document["ratios"]["mail_over_api"], int | float)
    assert isinstance(document["ratios"]["cpu_mail_over_api"], int | float)


def test_quick_desk_lists_benchmark_prints_a_complete_json_document() -> None:
    document = run_quick("benchmarks.desk_lists")
    for key in (
        "machine",
        "config",
        "setup",
        "seed",
        "queries",
        "baseline",
        "ratios",
        "index_usage",
        "summary",
        "budget",
        "warnings",
        "duration_s",
    ):
        assert key in document, key
    seed = document["seed"]
    assert seed["rows"]["tickets"] == document["config"]["tickets"] > 0
    assert seed["rows"]["messages"] >= 2 * seed["rows"]["tickets"]
    assert seed["search_text_verified"]["mismatches"] == 0
    kinds = {figure["kind"] for figure in document["queries"].values()}
    assert kinds == {"list", "deep_page", "count", "search", "search_count", "ticket", "http"}
    for actor in ("agent", "admin"):
        for name in ("list.open.newest", "search.common_word", "search.rare_word"):
            assert f"{actor}.{name}" in document["queries"], (actor, name)
    for name, figure in document["queries"].items():
        assert figure["n"] == document["config"]["repeats"], name
        for key in ("p50_ms", "p95_ms", "max_ms"):
            assert isinstance(figure[key], int | float), (name, key)
        if figure["kind"] != "http":
            assert name in document["baseline"], name
            assert isinstance(document["ratios"][name]["p50"], int | float), name
    for name, usage in document["index_usage"].items():
        assert isinstance(usage["fulltext_index_used"], bool), name
    assert document["index_usage"]["admin.search.rare_word"]["fulltext_index_used"] is True
    reports = document["reports"]
    assert reports["target_ms"] == 300
    assert seed["rows"]["ticket_ratings"] > 0
    for scope in ("admin", "supervisor"):
        for period in ("30d", "365d"):
            for name in (
                "created_resolved",
                "backlog",
                "first_response",
                "resolution",
                "sla",
                "agent_load",
                "csat",
            ):
                figure = reports["figures"][f"{scope}.{period}.{name}"]
                assert figure["n"] == document["config"]["repeats"], (scope, period, name)
                assert isinstance(figure["p95_ms"], int | float)
    assert reports["figures"]["admin.365d.created_resolved"]["rows"] == 365
    assert reports["figures"]["admin.365d.csat"]["rows"] > 0
    assert reports["figures"]["admin.365d.sla"]["rows"] == 2  # two policies
    assert "ix_tickets_created_at" in reports["index_usage"]["created_resolved"]["indexes"]


def test_quick_scale_benchmark_opens_every_ticket_and_acts_on_cold_ones() -> None:
    document = run_quick("benchmarks.scale")
    start = document["start"]
    assert start["started"] == start["opened"] == document["config"]["count"] > 0
    assert start["intervals"] and start["intervals"][-1]["opened"] == start["opened"]
    assert start["cpu_ms_per_opened_ticket"]["worker"] > 0
    assert start["cpu_ms_per_opened_ticket"]["temporal"] > 0
    rest = document["at_rest"]
    assert rest["history"]["events_mean"] > 0 and rest["history"]["bytes_mean"] > 0
    assert rest["temporal_sqlite_kb_per_ticket"] > 0
    restart = document["restart"]
    assert restart["ready_s"] > 0
    assert restart["cold_action"]["n"] == document["config"]["cold_sample"]
    assert restart["warm_action"]["n"] > 0
    assert restart["errors"] == 0
    assert len(restart["worker_rss_as_cache_fills"]) > 2
