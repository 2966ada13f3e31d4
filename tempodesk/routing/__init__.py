"""Room for routing rules and automatic assignment (issue: rules, round-robin, skills).

Rule evaluation will be pure (data in, a decision with its reason out), run in a ticket's
opening step.
"""
