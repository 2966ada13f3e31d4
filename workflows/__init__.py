"""Workflows: deterministic orchestration only (see ARCHITECTURE.md)."""
