"""The customer portal (``/portal/``): customers sign in by a one-time link mailed to them,
follow their own requests in customer wording, answer them and rate the answers (also by
the link mailed with a resolving answer, ``/rate/<token>``).

One module per concern; importing them adds their routes to the blueprint.
"""

from web.portal import actions, orders, profile, rating, requests, signin
from web.portal.common import bp
from web.portal.rating import link_bp

__all__ = ["actions", "bp", "link_bp", "orders", "profile", "rating", "requests", "signin"]
