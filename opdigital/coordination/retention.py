"""What the retention rules will delete and when, and what they did last (read only: the rules
run from `opdigital retention run`, on a schedule)."""

from __future__ import annotations

from flask import render_template

from opdigital.coordination import bp
from opdigital.retention import services as retention


@bp.get("/retention")
def retention_page():
    """Per rule: what is held, when it is due, and the latest retention entries of the log."""
    plan = retention.plan()
    return render_template(
        "coordination/retention.html",
        plan=plan,
        last_run=retention.last_run(),
        actions=retention.last_actions(),
    )
