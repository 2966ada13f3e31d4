"""Room for reports over the projection (issue: charts, CSV/JSON exports, the ops page)."""
