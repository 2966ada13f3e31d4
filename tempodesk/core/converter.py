"""The payload converter: the SDK's JSON, without the work it repeats on every conversion.

The SDK's ``value_to_type`` reads a dataclass's type hints (``typing.get_type_hints``, which
evaluates every annotation of a module written with ``from __future__ import annotations``)
each time it rebuilds one, and its encoder deep-copies each dataclass (``dataclasses.asdict``)
before JSON encodes the copy. A ticket's snapshot and inputs cross that code several times per
activation, in the web and in the worker. Here a dataclass's field hints are read once and kept
on the class itself (so a class the workflow sandbox imports for one run goes with that run),
and a dataclass is encoded as a shallow dict (JSON meets the nested ones in turn).

The bytes written and the values read are the SDK's own: payloads from before and after are
interchangeable, so histories replay and other clients read them.
"""

from __future__ import annotations

import dataclasses
from typing import Any, get_type_hints

from temporalio.converter import (
    AdvancedJSONEncoder,
    CompositePayloadConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
    JSONTypeConverter,
    value_to_type,
)

_HINTS = "__tempodesk_field_hints__"

FieldHints = tuple[tuple[dataclasses.Field[Any], Any], ...]


def field_hints(cls: type) -> FieldHints:
    """A dataclass's fields with their resolved type hints, read on first use."""
    cached: FieldHints | None = cls.__dict__.get(_HINTS)
    if cached is None:
        hints = get_type_hints(cls)
        cached = tuple((field, hints[field.name]) for field in dataclasses.fields(cls))
        setattr(cls, _HINTS, cached)
    return cached


class DataclassFromJSON(JSONTypeConverter):
    """The SDK's dataclass rebuilding (same checks, same errors), with cached hints."""

    def to_typed_value(self, hint: type, value: Any) -> Any:
        if not (isinstance(hint, type) and dataclasses.is_dataclass(hint)):
            return JSONTypeConverter.Unhandled
        if not isinstance(value, dict):
            raise TypeError(f"Cannot convert to dataclass {hint}, value is {type(value)} not dict")
        init: dict[str, Any] = {}
        late: dict[str, Any] = {}
        for field, field_hint in field_hints(hint):
            if field.name not in value:
                continue  # the constructor says whether it was required
            try:
                converted = value_to_type(field_hint, value[field.name], TYPE_CONVERTERS)
            except Exception as err:
                failed = f"Failed converting field {field.name} on dataclass {hint}"
                raise TypeError(failed) from err
            (init if field.init else late)[field.name] = converted
        obj = hint(**init)
        for name, converted in late.items():
            object.__setattr__(obj, name, converted)
        return obj


class ShallowDataclassEncoder(AdvancedJSONEncoder):
    """A dataclass as a dict of its fields' values, not a deep copy (``dataclasses.asdict``):
    the JSON is the same, since the encoder meets nested dataclasses, datetimes and sets on
    its way down and ``AdvancedJSONEncoder`` turns them as before."""

    def default(self, o: Any) -> Any:
        if dataclasses.is_dataclass(o) and not isinstance(o, type):
            return {field.name: getattr(o, field.name) for field in dataclasses.fields(o)}
        return super().default(o)


TYPE_CONVERTERS: list[JSONTypeConverter] = [DataclassFromJSON()]
JSON_PLAIN = JSONPlainPayloadConverter(
    encoder=ShallowDataclassEncoder, custom_type_converters=TYPE_CONVERTERS
)


class PayloadConverter(CompositePayloadConverter):
    """The SDK's default converters in their order, JSON's replaced by ``JSON_PLAIN``."""

    def __init__(self) -> None:
        super().__init__(
            *(
                JSON_PLAIN if isinstance(converter, JSONPlainPayloadConverter) else converter
                for converter in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )


#: For code that converts payloads itself (the pending starts' table).
PAYLOADS = PayloadConverter()
