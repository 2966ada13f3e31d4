"""Reproducible load and latency benchmarks that print JSON (``make bench``).

``python -m benchmarks.run`` builds a throwaway stack (Temporal dev server on a WAL SQLite
file, a fresh database, a worker, the web app on a loopback port), measures ticket intake and
ticket actions over real HTTP, measures a bare-engine baseline against the same Temporal
server, prints one JSON document to stdout and removes everything it made.
"""
