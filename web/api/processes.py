"""The published processes and their versions."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from tempodesk.core.db import iso
from tempodesk.tickets import processes
from web import db
from web.api.common import bp


@bp.route("/processes", methods=["GET"])
def list_processes() -> Any:
    """Published processes and their versions (newest first)."""
    session = db()
    result = []
    for name in processes.names(session):
        rows = processes.versions(session, name)
        result.append(
            {
                "name": name,
                "label": processes.definition(session, name, rows[0].version).label,
                "latest_version": rows[0].version,
                "versions": [
                    {
                        "version": row.version,
                        "created_at": iso(row.created_at),
                        "created_by": row.created_by,
                    }
                    for row in rows
                ],
            }
        )
    return jsonify(result)
