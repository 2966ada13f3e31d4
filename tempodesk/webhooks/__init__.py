"""Outbound webhooks: subscriptions (``subscriptions``), which timeline events become which
webhook events and their bodies (``events``), and sending one signed body past the SSRF
guard (``sending``). The delivery workflow and its activities live in ``workflows`` and
``activities``; the projection queues deliveries in its own transaction."""
