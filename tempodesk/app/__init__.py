"""The composition root: the process that runs (web, worker, CLI, dev server) and what it holds.

The only package that imports ``web``, ``workflows`` and ``activities``; everything below
it is built here and handed down (ARCHITECTURE.md, "The rooms").
"""
