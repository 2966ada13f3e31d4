"""Process pages of the admin area (editor, versions, diagram, diff, import/export)."""

from __future__ import annotations
