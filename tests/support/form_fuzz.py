"""What every hostile-form test checks after each post: never a 500; a refusal changes nothing;
a change made by staff leaves an audit entry; accepted free text is stored as typed."""

from __future__ import annotations

import sqlalchemy as sa

from opdigital.audit.models import AuditEntry
from opdigital.extensions import db


def table_digests() -> dict[str, str]:
    """A digest of every table's whole content, to tell whether a request changed anything."""
    selects = [
        f"SELECT '{t.name}', md5(coalesce(string_agg(CAST(x AS TEXT), '|' "  # noqa: S608
        f"ORDER BY CAST(x AS TEXT)), '')) FROM \"{t.name}\" x"
        for t in db.metadata.sorted_tables
    ]
    return dict(db.session.execute(sa.text(" UNION ALL ".join(selects))).all())


def audit_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(AuditEntry.id)))


def stored_as_typed(value: str) -> bool:
    """Whether some text column of some table holds `value` exactly (or trimmed)."""
    inspector = sa.inspect(db.engine)
    selects = [
        f'SELECT 1 FROM "{table}" WHERE "{column["name"]}" IN (:raw, :trimmed)'  # noqa: S608
        for table in inspector.get_table_names()
        for column in inspector.get_columns(table)
        if isinstance(column["type"], sa.String)
    ]
    query = sa.text(f"SELECT EXISTS ({' UNION ALL '.join(selects)})")
    return db.session.scalar(query, {"raw": value, "trimmed": value.strip()})


def first_values(pairs: list[tuple[str, str]]) -> dict[str, str]:
    first: dict[str, str] = {}
    for name, value in pairs:
        first.setdefault(name, value)
    return first


# A hostile post accepted with a redirect.
SUCCESS = {302, 303}


def check_answer(
    app, status: int, pairs, before: dict, audits: int, *, text=(), audited=True, sent=None
) -> None:
    """Check one answer to a hostile post, against the tables as they were before it."""
    sent = sent or repr(pairs)[:2000]
    assert status < 500, sent
    with app.app_context():
        after, audits_after = table_digests(), audit_count()
        changed = sorted(t for t in after if after[t] != before[t])
        if status >= 400:
            assert not changed, f"refused ({status}) but changed {changed}: {sent}"
        if changed and audited:
            assert audits_after > audits, f"{changed} changed without an audit entry: {sent}"
        if status in SUCCESS and changed:
            for name, value in first_values(pairs).items():
                if name in text and value.strip():
                    assert stored_as_typed(value), f"{name} not stored as typed: {sent}"
        db.session.remove()
