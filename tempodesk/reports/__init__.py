"""Reports over the ticket projection: what each report counts (``queries``), the filters and
who may read what (``filters``), durations as percentiles on either database
(``percentiles``), CSV and JSON (``export``) and server-side SVG charts (``charts``).

Every figure is one SQL query over the projection (``tickets``, ``messages``,
``ticket_ratings``) with an index behind it; nothing here writes.
"""
