"""Customers on the desk: contacts, organisations and orders.

Each has a list with search, a page with everything about it (tickets the agent may see, all
communication, orders with their items), and create/edit forms; contacts can be merged;
orders arrive from the shop through the API (``web.api.orders``) or a CSV upload here. The
ticket page's customer panel is filled by ``customer_panel`` (a template helper).

Thin views: every rule is in ``tempodesk.people`` (contacts, organisations, orders, merge).

The blueprint ``bp`` and what the pages share are in ``blueprint``; a module per page group
(``contacts``, ``organisations``, ``orders``, ``contracts``: the contract panels) registers
its routes on it when imported here.
"""

from __future__ import annotations

from web.people import contacts, contracts, orders, organisations
from web.people.blueprint import bp

__all__ = ["bp", "contacts", "contracts", "orders", "organisations"]
