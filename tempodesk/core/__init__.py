"""The ground floor: settings, the database (engine, sessions, the upsert helper, models,
migrations), every id format, the Temporal client facade, secrets, failpoints.

Imports nothing of ours above it; keep this ``__init__`` empty: workflow code imports
``tempodesk.core.ids`` through the sandbox.
"""
