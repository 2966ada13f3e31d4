"""Service levels: SLA policies and business-hours calendars (``policies``: checked, chosen
per ticket, pinned; ``forms``: the admin pages' text forms), the clocks' pure rules that each
ticket's workflow runs (``clocks``) and how a ticket's SLA reads (``view``). The timers stay
in each ticket's workflow; customer types, contracts and entitlements will live here too.
"""
