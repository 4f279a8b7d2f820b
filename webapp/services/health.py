"""The working-day calendar's part of /healthz (the rest is services/monitoring.py).

A failed look-up ends its transaction here (the service owns it), so the view only renders."""
from __future__ import annotations

from ..extensions import db


def calendar() -> dict:
    """The needed years' sources and the uncovered ones ("gap" when there are any)."""
    from .admin import calendar_coverage

    try:
        coverage = calendar_coverage()
    except Exception as exc:  # noqa: BLE001 — health must answer, whatever broke
        db.session.rollback()
        return {"status": f"error: {type(exc).__name__}"}
    sources = {str(r["year"]): r["source"] for r in coverage["rows"] if r["needed"]}
    return {"status": "gap" if coverage["uncovered"] else "ok", "years": sources,
            "uncovered": coverage["uncovered"]}
