"""Room for phone and SMS (issue: click-to-call through the PBX, call outcomes, two-way SMS).

Providers will be activities on their own task queue; this package keeps their
configuration and the matching of numbers to customers.
"""
