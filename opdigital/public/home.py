"""Home page and language switch."""

from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, session, url_for

from opdigital.auth import is_safe_local_url
from opdigital.clock import now
from opdigital.public import bp, loaders


@bp.get("/")
def home():
    """Cycles under way first, then the others; and the next events across cycles."""
    at = now()
    summaries = loaders.home_summaries(at)
    current = [s for s in summaries if s.happening_now]
    others = [s for s in summaries if not s.happening_now]
    # Cycles with something still to come before the ones whose calendar is over.
    others.sort(key=lambda s: (s.next_phase is None, s.next_phase.starts_at if s.next_phase else 0))
    return render_template(
        "public/home.html",
        current=current,
        others=others,
        events=loaders.upcoming_events(at),
        now=at,
    )


@bp.get("/lang/<code>")
def set_language(code: str):
    """Remember the visitor's language; go back to where they were, never off the site."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = code
    target = request.args.get("next")
    if not is_safe_local_url(target):
        target = url_for("public.home")
    return redirect(target)
