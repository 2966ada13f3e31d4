"""The people around tickets: contacts, organisations and orders (customers), agents, admins
and groups (users and accounts), and how a customer is recognised (addresses).
"""
