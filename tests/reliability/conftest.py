"""The reliability scenarios: quick variants in every run, full ones with ``reliability``.

A test marked ``@pytest.mark.reliability`` is a full variant (bigger bursts, every corpus
file); it runs only with ``TEMPODESK_RELIABILITY=full`` (``make reliability``).
"""

from __future__ import annotations

import pytest

from tests.reliability.ledger import full_run


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if full_run():
        return
    skip = pytest.mark.skip(reason="full variant: TEMPODESK_RELIABILITY=full (make reliability)")
    for item in items:
        if item.get_closest_marker("reliability") is not None:
            item.add_marker(skip)
