"""The building blocks of the API's OpenAPI description (``web.api.openapi``): schemas,
answers and operations, shared by the modules that describe a part of the API."""

from __future__ import annotations

from typing import Any

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _text(description: str = "", **more: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", **more}
    if description:
        schema["description"] = description
    return schema


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Any], required: tuple[str, ...] = (), **more: Any) -> Any:
    schema: dict[str, Any] = {"type": "object", "properties": properties, **more}
    if required:
        schema["required"] = list(required)
    return schema


def _answer(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description}
    if schema is not None:
        answer["content"] = {JSON: {"schema": schema}}
    return answer


def _error(description: str) -> dict[str, Any]:
    return _answer(description, _ref("Error"))


# Every operation may meet these: a bad token, and a dependency that is really down.
COMMON_ERRORS = {
    "401": _error("No token, or the token is not valid."),
    "422": _error(
        "A value is not valid: e.g. a text with a NUL character or a lone surrogate (in the "
        "body or the query), or longer than the column that stores it; `fields` names it."
    ),
    "503": _error("The database or the ticket engine is away; retry later (see Retry-After)."),
}


def _body(name: str, media: str = JSON) -> dict[str, Any]:
    return {"required": True, "content": {media: {"schema": _ref(name)}}}


def _operation(summary: str, answers: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"summary": summary, "responses": {**answers, **COMMON_ERRORS}, **more}
