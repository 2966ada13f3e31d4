"""Tickets as the web and the worker's activities use them: intake, actions, read queries and
lists, the published processes and their migration, the desk's panel (panel), and each
agent's marks (follows, read marks, presence).
"""
