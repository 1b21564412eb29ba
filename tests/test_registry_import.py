"""`opdigital registry import`: good and bad rows, exit codes, idempotence, updates, rolls."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from validate_docbr import TituloEleitoral

from opdigital.audit.models import AuditEntry
from opdigital.extensions import db
from opdigital.registry import importer, titulo
from opdigital.registry.keys import titulo_key, voter_key
from opdigital.registry.models import RegistryEntry
from opdigital.registry.services import import_registry
from tests.support import factories
from tests.support.live import console_script
from tests.support.voting import wrong_check_digit

PEPPER = "testing-pepper"
HEADER = "titulo,birth_date,region\n"


def new_titulos(n: int) -> list[str]:
    gen, out = TituloEleitoral(), set()
    while len(out) < n:
        out.add(gen.generate())
    return sorted(out)


def write(tmp_path: Path, text: str, name: str = "roll.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def entries(scope: str | None = None) -> list[tuple]:
    query = sa.select(
        RegistryEntry.id,
        RegistryEntry.scope,
        RegistryEntry.voter_key,
        RegistryEntry.birth_date,
        RegistryEntry.region_id,
        RegistryEntry.school_id,
    ).order_by(RegistryEntry.id)
    if scope:
        query = query.where(RegistryEntry.scope == scope)
    return [tuple(row) for row in db.session.execute(query)]


@pytest.fixture
def regions(app_ctx):
    return factories.region(slug="centro-sul"), factories.region(slug="barreiro")


def invoke(runner, *args):
    return runner.invoke(args=["registry", "import", *map(str, args)])


def test_good_rows_import_with_exit_0(app_ctx, runner, regions, tmp_path):
    centro, barreiro = regions
    a, b, c = new_titulos(3)
    # Spaces and dots as people type them; region slugs in any case; a BOM from Excel.
    path = write(
        tmp_path,
        "\ufeff"
        + HEADER
        + f"{a[:4]} {a[4:8]} {a[8:]},1980-05-17,centro-sul\n"
        + f"{b[:4]}.{b[4:8]}.{b[8:]},2008-01-31,Barreiro\n"
        + f"{c},1950-12-01, centro-sul \n",
    )
    cycle = factories.cycle(registry_scope="city")
    result = invoke(runner, cycle.slug, path)
    assert result.exit_code == 0, result.output
    scope = f"cycle:{cycle.id}"
    assert f"Roll {scope}: 3 rows read, 3 inserted, 0 updated, 0 unchanged, 0 rejected." in (
        result.stdout
    )
    # The cycle still reads the city roll: the command says how to use this one.
    assert f"set its registry scope to '{scope}'" in result.stderr
    got = {(key, born, region) for _, _, key, born, region, _ in entries(scope)}
    assert got == {
        (voter_key(a, PEPPER), date(1980, 5, 17), centro.id),
        (voter_key(b, PEPPER), date(2008, 1, 31), barreiro.id),
        (voter_key(c, PEPPER), date(1950, 12, 1), centro.id),
    }


def test_bad_rows_are_reported_by_line_and_the_good_ones_imported(
    app_ctx, runner, regions, tmp_path, time_machine
):
    good, dup, other = new_titulos(3)
    bad_dv = wrong_check_digit(good)
    seq = "10238501"  # valid except for the state code
    lines = [
        f"{good},1990-01-01,centro-sul",  # 2 ok
        f"{bad_dv},1990-01-01,centro-sul",  # 3 wrong check digits
        f"{good[:11]},1990-01-01,centro-sul",  # 4 eleven digits
        f"{seq}0000,1990-01-01,centro-sul",  # 5 state 00
        f"{seq}2907,1990-01-01,centro-sul",  # 6 state 29
        f"{dup},1990-02-30,centro-sul",  # 7 no such day
        f"{dup},17/05/1990,centro-sul",  # 8 not ISO
        f"{dup},2031-01-01,centro-sul",  # 9 future (the clock says 2030)
        f"{dup},1990-01-01,pampulha",  # 10 unknown region
        f"{dup},1990-01-01,barreiro",  # 11 ok
        "",  # 12 blank: skipped
        f"{dup[:4]} {dup[4:8]} {dup[8:]},1990-01-01,barreiro",  # 13 duplicate of 11
        f"{other},1990-01-01",  # 14 two fields
        f"{other},1899-12-31,barreiro",  # 15 implausibly old
        f"{other},1990-01-01,barreiro",  # 16 ok
    ]
    path = write(tmp_path, HEADER + "\n".join(lines) + "\n")
    time_machine.move_to(datetime(2030, 6, 1, 15, tzinfo=UTC), tick=False)
    result = invoke(runner, "--city", path)
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        "line 3: wrong check digits in the título",
        "line 4: the título must have 12 digits",
        "line 5: unknown state code 00 in the título",
        "line 6: unknown state code 29 in the título",
        "line 7: the birth date must be YYYY-MM-DD",
        "line 8: the birth date must be YYYY-MM-DD",
        "line 9: the birth date is in the future",
        "line 10: unknown region 'pampulha'",
        "line 13: same título as line 11",
        "line 14: expected 3 fields, found 2",
        "line 15: the birth date is before 1900",
        "11 rows rejected (listed above).",
    ]
    assert "Roll city: 14 rows read, 3 inserted, 0 updated, 0 unchanged, 11 rejected." in (
        result.stdout
    )
    assert {key for _, _, key, *_ in entries("city")} == {
        voter_key(n, PEPPER) for n in (good, dup, other)
    }
    # Neither the output nor the log repeats a registration number.
    for number in (good, bad_dv, dup, other):
        assert number not in result.output


def test_reimporting_the_same_file_changes_nothing(app_ctx, runner, regions, tmp_path):
    numbers = new_titulos(20)
    path = write(
        tmp_path,
        HEADER + "".join(f"{n},1970-03-0{i % 9 + 1},leste\n" for i, n in enumerate(numbers)),
    )
    factories.region(slug="leste")
    first = invoke(runner, "--city", path)
    assert first.exit_code == 0, first.output
    before = entries()
    second = invoke(runner, "--city", path)
    assert second.exit_code == 0, second.output
    assert "20 rows read, 0 inserted, 0 updated, 20 unchanged, 0 rejected." in second.stdout
    db.session.expire_all()
    assert entries() == before  # same ids, same values
    audits = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "registry.import").order_by(AuditEntry.id)
    ).all()
    assert [a.after for a in audits] == [
        {"scope": "city", "rows": 20, "inserted": 20, "updated": 0, "unchanged": 0, "rejected": 0},
        {"scope": "city", "rows": 20, "inserted": 0, "updated": 0, "unchanged": 20, "rejected": 0},
    ]
    assert audits[0].actor_email == "system"


@pytest.mark.parametrize("method", ["postgres", "generic"])
def test_the_newest_import_wins(app_ctx, regions, tmp_path, method):
    centro, barreiro = regions
    a, b, c, d = new_titulos(4)
    first = write(
        tmp_path,
        HEADER + f"{a},1980-01-01,centro-sul\n{b},1981-01-01,centro-sul\n{c},1982-01-01,barreiro\n",
    )
    report = import_registry(first, city=True, method=method)
    assert (report.inserted, report.updated, report.unchanged) == (3, 0, 0)
    # b moved to Barreiro, c's birth date was corrected, a is unchanged, d is new.
    second = write(
        tmp_path,
        HEADER
        + f"{a},1980-01-01,centro-sul\n{b},1981-01-01,barreiro\n{c},1982-02-02,barreiro\n"
        + f"{d},1983-01-01,centro-sul\n",
        name="second.csv",
    )
    report = import_registry(second, city=True, method=method)
    assert (report.rows, report.inserted, report.updated, report.unchanged) == (4, 1, 2, 1)
    assert not report.rejected
    got = {key: (born, region) for _, _, key, born, region, _ in entries("city")}
    assert got == {
        voter_key(a, PEPPER): (date(1980, 1, 1), centro.id),
        voter_key(b, PEPPER): (date(1981, 1, 1), barreiro.id),
        voter_key(c, PEPPER): (date(1982, 2, 2), barreiro.id),
        voter_key(d, PEPPER): (date(1983, 1, 1), centro.id),
    }
    # An extract adds to the roll: entries missing from a later file stay.
    only_a = write(tmp_path, HEADER + f"{a},1980-01-01,centro-sul\n", name="third.csv")
    report = import_registry(only_a, city=True, method=method)
    assert (report.inserted, report.updated, report.unchanged) == (0, 0, 1)
    assert len(entries("city")) == 4


def test_city_and_cycle_rolls_are_separate(app_ctx, runner, regions, tmp_path):
    [number] = new_titulos(1)
    path = write(tmp_path, HEADER + f"{number},1980-01-01,centro-sul\n")
    cycle = factories.cycle()
    assert invoke(runner, "--city", path).exit_code == 0
    assert invoke(runner, cycle.slug, path).exit_code == 0
    scopes = sorted(scope for _, scope, *_ in entries())
    assert scopes == ["city", f"cycle:{cycle.id}"]


def test_opca_roll_by_school_and_enrolment(app_ctx, runner, regions, tmp_path):
    centro, barreiro = regions
    sol = factories.school(centro, slug="em-sol")
    lua = factories.school(barreiro, slug="em-lua")
    cycle = factories.cycle(kind="opca")
    path = write(
        tmp_path,
        "school,enrolment,birth_date\n"
        "em-sol,00123,2014-03-01\n"
        "EM-LUA,45.678-9,2012-07-15\n"
        "em-sol,123,2014-03-01\n"  # 4 the same pupil: leading zeros do not count
        "em-mar,1,2014-03-01\n"  # 5 unknown school
        "em-lua,abc,2014-03-01\n"  # 6 not a number
        "em-lua,1,2014-13-01\n",  # 7 bad date
    )
    result = invoke(runner, cycle.slug, path)
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[:4] == [
        "line 4: same school and enrolment as line 2",
        "line 5: unknown school 'em-mar'",
        "line 6: the enrolment number must have 1 to 20 digits",
        "line 7: the birth date must be YYYY-MM-DD",
    ]
    got = {(key, born, region, school) for _, _, key, born, region, school in entries()}
    assert got == {
        (voter_key("em-sol:123", PEPPER), date(2014, 3, 1), centro.id, sol.id),
        (voter_key("em-lua:456789", PEPPER), date(2012, 7, 15), barreiro.id, lua.id),
    }
    # A título roll is the wrong file for an OPCA cycle.
    wrong = write(tmp_path, HEADER + "102385010671,1980-01-01,centro-sul\n", name="w.csv")
    assert invoke(runner, cycle.slug, wrong).exit_code == 2


@pytest.mark.parametrize(
    ("content", "encoding", "message"),
    [
        ("numero,nascimento,regiao\n102385010671,1980-01-01,centro-sul\n", "utf-8", "header"),
        ("titulo,birth_date\n", "utf-8", "header"),
        ("", "utf-8", "header"),
        (HEADER + "102385010671,1980-01-01,São Bento\n", "latin-1", "not UTF-8"),
        (HEADER + '102385010671,"1980-01-01\n', "utf-8", "not valid CSV"),
    ],
)
def test_unusable_file_exits_2_and_imports_nothing(
    app_ctx, runner, regions, tmp_path, content, encoding, message
):
    path = write(tmp_path, content, encoding=encoding)
    result = invoke(runner, "--city", path)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Nothing was imported." in result.stderr
    assert "Traceback" not in result.output
    assert entries() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


def test_bad_byte_late_in_the_file_rolls_everything_back(app_ctx, runner, regions, tmp_path):
    numbers = new_titulos(30)
    body = "".join(f"{n},1980-01-01,centro-sul\n" for n in numbers)
    path = tmp_path / "late.csv"
    path.write_bytes((HEADER + body).encode() + b"102385010671,1980-01-01,s\xe3o\n")
    result = invoke(runner, "--city", path)
    assert result.exit_code == 2
    assert entries() == []


def test_missing_file_unknown_cycle_and_usage(app_ctx, runner, regions, tmp_path):
    path = write(tmp_path, HEADER)
    missing = invoke(runner, "--city", tmp_path / "nope.csv")
    assert missing.exit_code == 2 and "Cannot open the file" in missing.stderr
    unknown = invoke(runner, "no-such-cycle", path)
    assert unknown.exit_code == 2 and "There is no cycle 'no-such-cycle'." in unknown.stderr
    assert invoke(runner, "ciclo", path, "--city").exit_code == 2  # --city takes no cycle
    assert invoke(runner, path).exit_code == 2  # a cycle roll needs the cycle
    # A header alone is an empty roll, not an error.
    empty = invoke(runner, "--city", path)
    assert empty.exit_code == 0 and "0 rows read" in empty.stdout


def test_no_raw_number_is_stored_anywhere(app_ctx, runner, regions, tmp_path):
    numbers = new_titulos(50)
    forms = set()
    for n in numbers:
        forms |= {n, n[:8], f"{n[:4]} {n[4:8]} {n[8:]}", f"{n[:4]}.{n[4:8]}.{n[8:]}"}
    path = write(tmp_path, HEADER + "".join(f"{n},1980-01-01,centro-sul\n" for n in numbers))
    assert invoke(runner, "--city", path).exit_code == 0
    dumps = []
    with db.engine.connect() as conn:
        for table in ("registry_entry", "audit_entry"):
            rows = conn.execute(sa.text(f"SELECT * FROM {table}")).all()  # noqa: S608
            assert rows
            dumps.extend(" ".join(str(value) for value in row) for row in rows)
    text = "\n".join(dumps)
    assert not [form for form in forms if form in text]
    # The stored key is the keyed hash, which cannot be recomputed without the pepper.
    assert {key for _, _, key, *_ in entries()} == {titulo_key(n, PEPPER) for n in numbers}


def test_progress_is_reported(app_ctx, regions, tmp_path):
    numbers = new_titulos(20_000)
    path = write(tmp_path, HEADER + "".join(f"{n},1980-01-01,centro-sul\n" for n in numbers))
    ticks = []
    report = import_registry(path, city=True, progress=ticks.append)
    assert report.inserted == 20_000
    assert sum(ticks) == 20_000 and len(ticks) >= 3


def test_console_script_against_the_test_database(app, app_ctx, database_url, regions, tmp_path):
    numbers = new_titulos(5)
    bad = wrong_check_digit(numbers[0])
    path = write(
        tmp_path,
        HEADER + "".join(f"{n},1980-01-01,barreiro\n" for n in numbers) + f"{bad},1980-01-01,x\n",
    )
    env = {"OPDIGITAL_CONFIG": "testing", "DATABASE_URL": database_url}
    result = console_script("registry", "import", "--city", str(path), env=env, timeout=120)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines()[0] == "line 7: wrong check digits in the título"
    assert "5 inserted" in result.stdout
    db.session.expire_all()
    assert {key for _, _, key, *_ in entries("city")} == {voter_key(n, PEPPER) for n in numbers}


# --- The fast path: parts, the loader thread, the merge (issue 16) ---------------------------


def numbers(n: int, start: int = 0) -> list[str]:
    """`n` distinct valid títulos (sequential part = index), mostly MG, cheap to make."""
    out = []
    for i in range(start, start + n):
        sequential, state = f"{i:08d}", "02" if i % 3 else f"{i % 28 + 1:02d}"
        out.append(sequential + state + titulo.check_suffix(sequential, state))
    return out


@pytest.fixture
def small_parts(monkeypatch):
    """Parts of a few hundred rows, so that a test file goes to the database in many parts."""
    monkeypatch.setattr(importer, "_CHUNK", 64)
    monkeypatch.setattr(importer, "_FIRST_PART", 200)
    monkeypatch.setattr(importer, "_PART", 700)


def loader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "roll-import" and t.is_alive()]


def roll_with_every_kind_of_bad_line(good: list[str]) -> tuple[str, list[tuple], int]:
    """The CSV text, the rejections expected (line, code, message) and the rows to be read:
    a bad line of each kind after every 97 good ones, blank lines here and there."""
    bad = [
        ("titulo_length", "{short},1990-01-01,centro-sul", "the título must have 12 digits"),
        ("titulo_state", "{state_29},1990-01-01,leste", "unknown state code 29 in the título"),
        ("titulo_check_digits", "{wrong},1990-01-01,x", "wrong check digits in the título"),
        ("birth_date", "{n},1990-02-30,centro-sul", "the birth date must be YYYY-MM-DD"),
        ("birth_date_future", "{n},2999-01-01,barreiro", "the birth date is in the future"),
        ("birth_date_old", "{n},1899-12-31,barreiro", "the birth date is before 1900"),
        ("region", "{n},1990-01-01,pampulha", "unknown region 'pampulha'"),
        ("fields", "{n},1990-01-01", "expected 3 fields, found 2"),
    ]
    lines, expected, first_line, rows = [HEADER.strip()], [], {}, 0
    for i, number in enumerate(good):
        region = "centro-sul" if i % 2 else "barreiro"
        lines.append(f"{number[:4]} {number[4:8]} {number[8:]},19{50 + i % 40}-03-01,{region}")
        first_line[number] = len(lines)
        rows += 1
        if i % 97 == 96:
            code, template, message = bad[(i // 97) % len(bad)]
            n = good[i - 50]
            short, state_29, wrong = n[:11], n[:8] + "29" + n[10:], wrong_check_digit(n)
            lines.append(template.format(n=n, short=short, state_29=state_29, wrong=wrong))
            expected.append((len(lines), code, message))
            # ... and the same título again, formatted otherwise: a duplicate.
            lines.append(f"{good[i - 10]},1990-01-01,barreiro")
            expected.append(
                (len(lines), "duplicate", f"same título as line {first_line[good[i - 10]]}")
            )
            rows += 2
        if i % 501 == 0:
            lines.append("")
    return "\n".join(lines) + "\n", expected, rows


@pytest.mark.parametrize("method", ["postgres", "generic"])
def test_every_bad_line_is_reported_when_the_roll_goes_in_parts(
    app_ctx, regions, tmp_path, small_parts, method
):
    centro, barreiro = regions
    good = numbers(3000)
    text, expected, rows = roll_with_every_kind_of_bad_line(good)
    assert len(expected) == 2 * (3000 // 97) and {code for _, code, _ in expected} >= {
        "titulo_length", "titulo_state", "titulo_check_digits", "birth_date",
        "birth_date_future", "birth_date_old", "region", "fields", "duplicate",
    }  # fmt: skip
    report = import_registry(write(tmp_path, text), city=True, method=method)
    assert [(r.line, r.code, r.message) for r in report.rejected] == expected
    assert (report.rows, report.inserted, report.updated, report.unchanged) == (rows, 3000, 0, 0)
    assert set(report.seconds) == {"reading", "after_reading", "total"}
    # The keys are the reference HMAC of each number, whatever order the parts went in.
    stored = {key: (born, region) for _, _, key, born, region, _ in entries("city")}
    assert stored == {
        voter_key(n, PEPPER): (date(1950 + i % 40, 3, 1), centro.id if i % 2 else barreiro.id)
        for i, n in enumerate(good)
    }
    assert not loader_threads()


@pytest.mark.parametrize("method", ["postgres", "generic"])
def test_an_import_into_a_roll_with_entries_counts_each_row_once(
    app_ctx, regions, tmp_path, small_parts, method
):
    centro, barreiro = regions
    old = numbers(2000)
    first = write(tmp_path, HEADER + "".join(f"{n},1980-01-01,centro-sul\n" for n in old))
    assert import_registry(first, city=True, method=method).inserted == 2000
    ids = {key: entry_id for entry_id, _, key, *_ in entries("city")}
    # 300 moved to Barreiro, 200 with a corrected birth date, 1,500 as they were, 700 new.
    new = numbers(700, start=5000)
    second = write(
        tmp_path,
        HEADER
        + "".join(f"{n},1980-01-01,barreiro\n" for n in old[:300])
        + "".join(f"{n},1981-02-02,centro-sul\n" for n in old[300:500])
        + "".join(f"{n},1980-01-01,centro-sul\n" for n in old[500:] + new),
        name="second.csv",
    )
    report = import_registry(second, city=True, method=method)
    assert (report.rows, report.inserted, report.updated, report.unchanged) == (
        2700, 700, 500, 1500,
    )  # fmt: skip
    assert not report.rejected
    db.session.expire_all()
    stored = {key: (entry_id, born, region) for entry_id, _, key, born, region, _ in entries()}
    expected = {voter_key(n, PEPPER): (date(1980, 1, 1), barreiro.id) for n in old[:300]}
    expected |= {voter_key(n, PEPPER): (date(1981, 2, 2), centro.id) for n in old[300:500]}
    expected |= {voter_key(n, PEPPER): (date(1980, 1, 1), centro.id) for n in old[500:] + new}
    assert {key: values[1:] for key, values in stored.items()} == expected
    # Updated rows keep their entry (same id); only the new ones got new ids.
    assert all(stored[key][0] == entry_id for key, entry_id in ids.items())
    assert not loader_threads()


def test_a_bad_byte_after_several_parts_leaves_nothing(app_ctx, regions, tmp_path, small_parts):
    path = tmp_path / "late.csv"
    body = "".join(f"{n},1980-01-01,centro-sul\n" for n in numbers(5000))
    path.write_bytes((HEADER + body).encode() + b"102385010671,1980-01-01,s\xe3o\n")
    with pytest.raises(importer.UnusableFile, match="not UTF-8"):
        import_registry(path, city=True)
    assert entries() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0
    assert not loader_threads()


@pytest.mark.parametrize("roll_had_entries", [False, True])
def test_a_database_failure_half_way_leaves_the_roll_as_it_was(
    app_ctx, regions, tmp_path, small_parts, roll_had_entries
):
    centro, _ = regions
    if roll_had_entries:  # the merge path; else the rows are copied straight in
        one = write(tmp_path, HEADER + f"{numbers(1, start=9000)[0]},1980-01-01,centro-sul\n")
        import_registry(one, city=True)
    before = entries()
    rows = [(voter_key(n, PEPPER), "1980-01-01", centro.id, None) for n in numbers(3000)]
    rows[1234] = (rows[1234][0], "1980-01-01", centro.id + 999_999, None)  # no such region
    batches = [rows[start : start + 64] for start in range(0, 3000, 64)]
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        importer.write_postgres(batches, "city")
    db.session.rollback()
    assert entries() == before
    assert not loader_threads()


def test_make_run_imports_on_sqlite_with_the_same_report(make_app, tmp_path, small_parts):
    from flask_migrate import upgrade

    sqlite_app = make_app(
        "development", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'dev.sqlite3'}"
    )
    with sqlite_app.app_context():
        upgrade()
        centro = factories.region(slug="centro-sul")
        barreiro = factories.region(slug="barreiro")
        good = numbers(1500)
        text, expected, rows = roll_with_every_kind_of_bad_line(good)
        path = write(tmp_path, text)
        report = import_registry(path, city=True)  # "auto": the generic path on SQLite
        assert [(r.line, r.code, r.message) for r in report.rejected] == expected
        assert (report.rows, report.inserted, report.updated, report.unchanged) == (
            rows, 1500, 0, 0,
        )  # fmt: skip
        again = import_registry(path, city=True)
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1500)
        pepper = sqlite_app.config["VOTER_KEY_PEPPER"]
        stored = {key: (born, region) for _, _, key, born, region, _ in entries("city")}
        assert stored == {
            voter_key(n, pepper): (date(1950 + i % 40, 3, 1), centro.id if i % 2 else barreiro.id)
            for i, n in enumerate(good)
        }
        db.session.remove()
