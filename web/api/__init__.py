"""REST API v1: JSON in and out, ``Authorization: Bearer <token>`` (see README.md).

One module per resource; importing them adds their routes to the blueprint.
"""

from web.api import (
    contracts,
    inbound,
    kb,
    openapi,
    orders,
    processes,
    relations,
    reports,
    routing,
    tickets,
    triggers,
    webhooks,
)
from web.api.common import bp

__all__ = [
    "bp",
    "contracts",
    "inbound",
    "kb",
    "openapi",
    "orders",
    "processes",
    "relations",
    "reports",
    "routing",
    "tickets",
    "triggers",
    "webhooks",
]
