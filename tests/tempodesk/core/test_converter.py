"""The payload converter writes the SDK's bytes and reads what the SDK reads, faster."""

from __future__ import annotations

import dataclasses
import inspect
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.converter import DataConverter

import tempodesk.contracts as contracts
from tempodesk.contracts import TicketSnapshot
from tempodesk.contracts.tickets import SlaState, TicketLinkRef
from tempodesk.core.converter import PAYLOADS, field_hints
from tempodesk.core.settings import Settings
from tempodesk.core.temporal_client import data_converter

SDK = DataConverter.default.payload_converter


def _snapshot() -> TicketSnapshot:
    fields = {f.name for f in dataclasses.fields(TicketSnapshot)}
    sample: dict[str, Any] = {
        "assignee": "ann",
        "fields": {"n": 1, "when": "2026-12-05", "nested": {"a": [1, 2]}},
        "merged_from": ["T-1"],
        "tags": ["vip", "late"],
        "links": [TicketLinkRef(**_minimal(TicketLinkRef))],
        "sla": SlaState(**_minimal(SlaState)),
    }
    chosen = {k: v for k, v in sample.items() if k in fields}
    return TicketSnapshot(**_minimal(TicketSnapshot), **chosen)


def _minimal(cls: type) -> dict[str, Any]:
    """Values for a dataclass's required fields, from their hints."""
    values: dict[str, Any] = {}
    for field, hint in field_hints(cls):
        if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            values[field.name] = {str: "x", int: 3, float: 1.5, bool: True}.get(
                hint, datetime(2026, 12, 5, tzinfo=UTC) if hint is datetime else None
            )
    return values


def test_a_snapshot_is_written_byte_for_byte_as_the_sdk_writes_it_and_read_back_alike() -> None:
    snapshot = _snapshot()
    [ours] = PAYLOADS.to_payloads([snapshot])
    [theirs] = SDK.to_payloads([snapshot])
    assert ours == theirs
    [back] = PAYLOADS.from_payloads([theirs], [TicketSnapshot])
    [sdk_back] = SDK.from_payloads([theirs], [TicketSnapshot])
    assert back == sdk_back == snapshot


def test_every_contract_dataclass_round_trips_as_with_the_sdk() -> None:
    checked = 0
    for module in [contracts, *(m for _, m in inspect.getmembers(contracts, inspect.ismodule))]:
        for _, cls in inspect.getmembers(module, dataclasses.is_dataclass):
            if not isinstance(cls, type):
                continue
            try:
                value = cls(**_minimal(cls))
            except Exception:  # a required field with a hint _minimal cannot fill
                continue
            [ours] = PAYLOADS.to_payloads([value])
            assert ours == SDK.to_payloads([value])[0], cls
            assert _read(PAYLOADS, ours, cls) == _read(SDK, ours, cls), cls
            checked += 1
    assert checked > 20


def _read(converter: Any, payload: Any, cls: type) -> Any:
    """What a converter reads, or the kind of error it raises (a required None it refuses)."""
    try:
        return converter.from_payloads([payload], [cls])
    except TypeError:
        return TypeError


def test_a_wrong_shape_fails_as_with_the_sdk() -> None:
    [payload] = SDK.to_payloads([{"assignee": ["not", "a", "string"]}])
    with pytest.raises(TypeError):
        SDK.from_payloads([payload], [TicketSnapshot])
    with pytest.raises(TypeError):
        PAYLOADS.from_payloads([payload], [TicketSnapshot])


def test_the_hints_are_kept_on_the_class_not_its_base() -> None:
    @dataclasses.dataclass
    class Base:
        a: int

    @dataclasses.dataclass
    class Child(Base):
        b: str

    assert [f.name for f, _ in field_hints(Base)] == ["a"]
    assert [(f.name, h) for f, h in field_hints(Child)] == [("a", int), ("b", str)]


def test_clients_use_the_converter_and_keep_the_codec() -> None:
    plain = data_converter(Settings())
    assert plain.payload_converter_class is type(PAYLOADS) and plain.payload_codec is None
