"""Tickets as the web and the worker's activities use them: intake, actions and the
composer's drafts, read queries and lists (saved filters, the filter form), bulk actions, the
published processes and their migration, the desk's panel, and each agent's marks (follows,
read marks, presence).
"""
