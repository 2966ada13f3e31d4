"""Room for service levels (issue: business-hours calendars, SLA targets, entitlements).

Business-time arithmetic will be pure and live here beside the policy definitions; the
timers themselves stay in each ticket's workflow.
"""
