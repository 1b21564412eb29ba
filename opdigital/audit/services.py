"""Append entries to the audit log. Called by every service that changes data as staff."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from opdigital.audit.models import AuditEntry
from opdigital.extensions import db


def record(
    actor: Any,
    action: str,
    obj: Any,
    *,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEntry:
    """Add an audit entry to the current transaction; the calling service commits it.

    Writing in the same transaction as the change means the log never shows an action that did
    not happen, nor misses one that did.
    """
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        actor_email=getattr(actor, "email", "") or "system",
        action=action,
        object_type=type(obj).__name__.lower() if obj is not None else "",
        object_id=_object_id(obj),
        before=before,
        after=after,
        ip_address=request.remote_addr or "" if has_request_context() else "",
    )
    db.session.add(entry)
    return entry


def snapshot(obj: Any, names: tuple[str, ...]) -> dict:
    """The attributes `names` of `obj`, in that order: what an entry keeps before and after."""
    return {name: getattr(obj, name) for name in names}


def _object_id(obj: Any) -> str:
    for attribute in ("slug", "code", "email", "id"):
        value = getattr(obj, attribute, None)
        if value:
            return str(value)
    return ""
