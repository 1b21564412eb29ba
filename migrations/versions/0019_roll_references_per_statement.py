"""roll references per statement: the roll's region and school checked once per statement

Revision ID: 0019rollrefs
Revises: 0018turnoutconn
Create Date: 2026-12-06 08:00:00.000000

`registry_entry` named its region and school with foreign keys, and PostgreSQL checks a foreign
key row by row: for each row written, an after-trigger event, a query on the referred table and
a `FOR KEY SHARE` lock of its row. Importing a roll of two million rows, that was half of the
database's work, for a handful of distinct regions and no school (issue 16, target 6: the
import's PostgreSQL CPU went from 21.3-21.6 s to 11.6-12.1 s with this migration).

The foreign keys go; in their place, on PostgreSQL, a statement-level trigger after each INSERT
and each UPDATE of `registry_entry` (a COPY and a MERGE fire them too) does the same check once
for all the rows the statement wrote (its transition table, `written`): it locks the regions and
schools they name `FOR KEY SHARE`, as a foreign key does, and refuses the statement
(`foreign_key_violation`) if any of them does not exist. On the other side, as for the votes
(0017), a trigger refuses to delete or renumber a region or a school that the roll names. The
lock taken by the first makes the second wait for the writing transaction, and then see its rows;
a region deleted first makes the writer's lock wait, and then its check see the region gone (or,
in REPEATABLE READ, fail to serialize). At READ COMMITTED, that is: a deletion's check sees only
what its snapshot shows, so migration 0020 refuses deletions at stronger isolation levels.
SQLite (`make run`) keeps no check: its roll is written only by the importer and the delegate
codes, with the ids of regions and schools the app has just read.
"""

from alembic import op

revision = "0019rollrefs"
down_revision = "0018turnoutconn"
branch_labels = None
depends_on = None

# (column, referred table)
REFERENCES = (("region_id", "region"), ("school_id", "school"))

# For one referred table: lock the rows of the ids a statement named, and refuse a missing one.
REQUIRE_NAMED = """
CREATE OR REPLACE FUNCTION require_named(referred text, ids integer[]) RETURNS void AS $$
DECLARE
    missing integer;
BEGIN
    -- As a foreign key does: the named rows cannot be deleted or renumbered until this
    -- transaction ends. Then (a new snapshot: the function is VOLATILE) each must exist.
    EXECUTE format('SELECT 1 FROM %I WHERE id = ANY ($1) FOR KEY SHARE', referred) USING ids;
    EXECUTE format(
        'SELECT n FROM unnest($1) AS n WHERE NOT EXISTS (SELECT 1 FROM %I WHERE id = n) LIMIT 1',
        referred) INTO missing USING ids;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'registry_entry names % %, which does not exist', referred, missing
            USING ERRCODE = 'foreign_key_violation';
    END IF;
END;
$$ LANGUAGE plpgsql
"""

CHECK_WRITTEN = """
CREATE OR REPLACE FUNCTION check_roll_references() RETURNS trigger AS $$
DECLARE
    regions integer[];
    schools integer[];
BEGIN
    -- One pass over the rows the statement wrote: the few distinct ids they name.
    SELECT array_agg(DISTINCT region_id) FILTER (WHERE region_id IS NOT NULL),
           array_agg(DISTINCT school_id) FILTER (WHERE school_id IS NOT NULL)
      INTO regions, schools
      FROM (SELECT DISTINCT region_id, school_id FROM written) AS named;
    PERFORM require_named('region', regions);
    PERFORM require_named('school', schools);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""

# TG_ARGV[0]: the roll's column that names the table the trigger is on.
KEEP_NAMED = """
CREATE OR REPLACE FUNCTION keep_rolled() RETURNS trigger AS $$
DECLARE
    named boolean;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
        RETURN NEW;
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM registry_entry WHERE %I = $1)', TG_ARGV[0])
        INTO named USING OLD.id;
    IF named THEN
        RAISE EXCEPTION 'a % that the electoral roll names is kept', TG_TABLE_NAME
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$ LANGUAGE plpgsql
"""


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    with op.batch_alter_table("registry_entry", schema=None) as batch_op:
        for column, referred in REFERENCES:
            batch_op.drop_constraint(f"fk_registry_entry_{column}_{referred}", type_="foreignkey")
    if _postgresql():
        op.execute(REQUIRE_NAMED)
        op.execute(CHECK_WRITTEN)
        op.execute(KEEP_NAMED)
        for event in ("INSERT", "UPDATE"):
            op.execute(
                f"CREATE TRIGGER registry_entry_{event.lower()}_references AFTER {event}"
                " ON registry_entry REFERENCING NEW TABLE AS written"
                " FOR EACH STATEMENT EXECUTE FUNCTION check_roll_references()"
            )
        for column, referred in REFERENCES:
            op.execute(
                f"CREATE TRIGGER {referred}_kept_while_on_roll BEFORE DELETE OR UPDATE OF id"
                f" ON {referred} FOR EACH ROW EXECUTE FUNCTION keep_rolled('{column}')"
            )


def downgrade():
    if _postgresql():
        for _, referred in REFERENCES:
            op.execute(f"DROP TRIGGER {referred}_kept_while_on_roll ON {referred}")
        for event in ("insert", "update"):
            op.execute(f"DROP TRIGGER registry_entry_{event}_references ON registry_entry")
        op.execute("DROP FUNCTION keep_rolled()")
        op.execute("DROP FUNCTION check_roll_references()")
        op.execute("DROP FUNCTION require_named(text, integer[])")
    with op.batch_alter_table("registry_entry", schema=None) as batch_op:
        for column, referred in REFERENCES:
            batch_op.create_foreign_key(
                f"fk_registry_entry_{column}_{referred}", referred, [column], ["id"]
            )

