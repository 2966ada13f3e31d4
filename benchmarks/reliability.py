"""`make reliability`: every scenario of tests/reliability (R1-R19, full variants), three times,
then the scoreboard of RELIABILITY.md §4.

Each run is one pytest process with ``TEMPODESK_RELIABILITY=full``; every scenario's ledger
appends its counters to a JSON-lines file (``tests/reliability/ledger.py``) and pytest's JUnit
report says which tests failed, were expected to fail (a fix not merged yet) or were skipped.
Exit status 0 only if every run passed and every row reads zero where the gate says so.

    python -m benchmarks.reliability [--runs 3] [--quick] [pytest args...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from tests.reliability.ledger import FULL, LEDGER_FILE, RUN, ZERO

ROOT = Path(__file__).resolve().parent.parent
# The counters that must read zero: the ledger's own list (one source).
GATE = ZERO
COLUMNS = (
    ("run", "run"),
    ("scenario", "scenario"),
    ("variant", "variant"),
    ("tickets_lost", "tickets_lost"),
    ("dup_tickets", "dup_tickets"),
    ("dup_articles", "dup_articles"),
    ("emails_sent_twice", "emails_sent_twice (other)"),
    ("sms_sent_twice", "sms/calls twice"),
    ("projection_drift", "projection_drift"),
    ("stuck", "stuck"),
    ("failed_wf", "failed_wf"),
    ("recovery_time", "recovery_time"),
    ("drain_time", "drain_time"),
    ("worst_latency", "worst_latency"),
    ("http_5xx", "5xx during / after"),
    ("security_violations", "security_violations"),
    ("notes", "notes"),
)


def junit_name(nodeid: str) -> str:
    """``tests/x/test_y.py::test_z[p]`` as JUnit names it: ``tests.x.test_y.test_z[p]``."""
    path, _, name = nodeid.partition("::")
    return f"{path.removesuffix('.py').replace('/', '.')}.{name}"


def outcomes(junit: Path) -> dict[str, str]:
    """Test id → passed, failed, xfailed or skipped, from pytest's JUnit XML."""
    result: dict[str, str] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname', '')}.{case.get('name', '')}"
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
            elif child.tag == "skipped":
                xfail = (child.get("type") or "").endswith("xfail")
                outcome = "xfailed" if xfail else "skipped"
        result[name] = outcome
    return result


def run_once(run: int, *, quick: bool, ledger: Path, extra: list[str]) -> dict[str, str]:
    junit = ledger.with_name(f"junit-{run}.xml")
    env = dict(os.environ, **{LEDGER_FILE: str(ledger), RUN: str(run)})
    if not quick:
        env[FULL] = "full"
    command = [sys.executable, "-m", "pytest", "tests/reliability", "-q", f"--junitxml={junit}"]
    subprocess.run([*command, *extra], cwd=ROOT, env=env, check=False)
    return outcomes(junit) if junit.exists() else {"pytest": "failed"}


def cell(row: dict[str, Any], key: str) -> str:
    value = row.get(key, "")
    if isinstance(value, float):
        return f"{value:.1f}s"
    return str(value).replace("|", "/")


def table(rows: list[dict[str, Any]]) -> str:
    """The §4 scoreboard in Markdown, one row per ledger."""
    lines = [
        "| " + " | ".join(title for _key, title in COLUMNS) + " |",
        "|" + "|".join("---" for _ in COLUMNS) + "|",
    ]
    for row in sorted(rows, key=lambda r: (str(r.get("run")), str(r.get("scenario")))):
        lines.append("| " + " | ".join(cell(row, key) for key, _title in COLUMNS) + " |")
    return "\n".join(lines)


def expected_failures(rows: list[dict[str, Any]], runs: list[dict[str, str]]) -> None:
    """Mark the rows of tests expected to fail (``xfail``: a fix not merged yet); they are
    shown, noted, and not held against the release (pytest fails the run once they pass)."""
    for row in rows:
        index = int(row.get("run", 1)) - 1
        outcome = (
            runs[index].get(junit_name(str(row.get("test", "")))) if index < len(runs) else None
        )
        if outcome == "xfailed":
            row["xfail"] = True
            row["notes"] = f"XFAIL (fix pending): {row.get('notes', '')}"


def verdict(rows: list[dict[str, Any]], runs: list[dict[str, str]]) -> list[str]:
    """Why the release is not shippable (nothing: it is)."""
    problems = [
        f"run {row.get('run')} {row.get('scenario')}: {key} = {row[key]}"
        for row in rows
        if not row.get("xfail")
        for key in GATE
        if row.get(key)
    ]
    for number, outcome in enumerate(runs, 1):
        problems += [f"run {number}: {test} failed" for test, o in outcome.items() if o == "failed"]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="the quick variants only")
    args, extra = parser.parse_known_args(argv)
    with tempfile.TemporaryDirectory(prefix="tempodesk-reliability-") as tmp:
        ledger = Path(tmp) / "ledger.jsonl"
        runs = [
            run_once(n, quick=args.quick, ledger=ledger, extra=extra)
            for n in range(1, args.runs + 1)
        ]
        text = ledger.read_text() if ledger.exists() else ""
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    expected_failures(rows, runs)
    print("\n" + table(rows) + "\n")
    counts: dict[str, int] = {}
    for outcome in runs:
        for value in outcome.values():
            counts[value] = counts.get(value, 0) + 1
    print("tests over all runs: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for number, outcome in enumerate(runs, 1):
        for test, value in sorted(outcome.items()):
            if value in ("xfailed", "skipped"):
                print(f"run {number}: {value}: {test}")
    problems = verdict(rows, runs)
    print("\nshippable" if not problems else "\nNOT shippable:\n  " + "\n  ".join(problems))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
