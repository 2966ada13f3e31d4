"""The customer portal (``/portal/``): customers sign in by a one-time link mailed to them,
follow their own requests in customer wording and answer them.

One module per concern; importing them adds their routes to the blueprint.
"""

from web.portal import actions, orders, profile, requests, signin
from web.portal.common import bp

__all__ = ["actions", "bp", "orders", "profile", "requests", "signin"]
