"""PostgreSQL: the references of a case, its tasks, audits and timers checked per statement

start_many writes 100,000 cases with a task, a start audit and a timer each; every row fired
one trigger per foreign key (eleven per case, four of them on NULL columns), about half the
time of the whole start. On PostgreSQL these eleven keys become statement-level checks over
the inserted rows (a transition table), with the same guarantees a foreign key gives:
- an INSERT naming a row that does not exist fails (foreign_key_violation, SQLSTATE 23503),
  the rows it names are locked FOR KEY SHARE until commit, as a foreign key locks them, so a
  concurrent DELETE of the parent waits and then fails;
- an UPDATE that changes one of these columns is checked row by row (rare: only then);
- deleting (or renumbering) a parent row that is still referenced fails.
SQLite keeps its foreign keys (it has no transition tables); the models keep theirs, and
migrations/env.py leaves these eleven out of `flask db check` on PostgreSQL.

Revision ID: c4e1d7a9b352
Revises: a5aab2a92c56
Create Date: 2026-11-30 04:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c4e1d7a9b352'
down_revision = 'a5aab2a92c56'
branch_labels = None
depends_on = None

# child table -> (column, parent table); a frozen copy of webapp.models.references.STATEMENT_CHECKED
CHILDREN = {
    "case": (("store_id", "store"), ("area_id", "area"), ("member_id", "member"),
             ("created_by_id", "user")),
    "task": (("case_id", "case"), ("assignee_id", "user"), ("closed_by_id", "user")),
    "audit_event": (("case_id", "case"), ("actor_id", "user"), ("on_behalf_of_id", "user")),
    "case_timer": (("case_id", "case"),),
}


def _fk_name(child, column, parent):
    return f"fk_{child}_{column}_{parent}"


def _raise(child, column, parent, value):
    return (f"RAISE foreign_key_violation USING MESSAGE = format("
            f"'insert or update on table \"{child}\" violates reference {child}.{column} "
            f"-> {parent}.id (%s)', {value}), TABLE = '{child}', COLUMN = '{column}';")


def _statement_check(child, refs):
    """After INSERT, per statement: every named parent exists, and is locked FOR KEY SHARE."""
    body = []
    for column, parent in refs:
        body.append(f"""
  SELECT count(DISTINCT n."{column}") INTO wanted FROM new_rows n;
  IF wanted > 0 THEN
    SELECT count(*) INTO found FROM (SELECT 1 FROM "{parent}" p
      WHERE p.id IN (SELECT n."{column}" FROM new_rows n) FOR KEY SHARE OF p) locked;
    IF found <> wanted THEN
      SELECT min(n."{column}") INTO missing FROM new_rows n
        WHERE NOT EXISTS (SELECT 1 FROM "{parent}" p WHERE p.id = n."{column}");
      {_raise(child, column, parent, "missing")}
    END IF;
  END IF;""")
    return f"""
CREATE OR REPLACE FUNCTION refs_check_{child}() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE wanted bigint; found bigint; missing bigint;
BEGIN{''.join(body)}
  RETURN NULL;
END $fn$;
CREATE TRIGGER refs_check_{child} AFTER INSERT ON "{child}"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION refs_check_{child}();"""


def _row_check(child, refs):
    """After an UPDATE that changed one of the columns: that row's parents exist (locked)."""
    body = "".join(f"""
  IF NEW."{column}" IS NOT NULL AND NEW."{column}" IS DISTINCT FROM OLD."{column}" THEN
    PERFORM 1 FROM "{parent}" p WHERE p.id = NEW."{column}" FOR KEY SHARE OF p;
    IF NOT FOUND THEN {_raise(child, column, parent, 'NEW."' + column + '"')} END IF;
  END IF;""" for column, parent in refs)
    columns = ", ".join(f'"{column}"' for column, _ in refs)
    return f"""
CREATE OR REPLACE FUNCTION refs_check_{child}_update() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN{body}
  RETURN NULL;
END $fn$;
CREATE TRIGGER refs_check_{child}_update AFTER UPDATE OF {columns} ON "{child}"
  FOR EACH ROW EXECUTE FUNCTION refs_check_{child}_update();"""


def _parents():
    parents = {}
    for child, refs in CHILDREN.items():
        for column, parent in refs:
            parents.setdefault(parent, []).append((child, column))
    return parents


def _parent_guard(parent, children):
    """After DELETE (per statement) or a changed id (per row): nothing still refers to it."""
    deleted = "".join(f"""
  IF EXISTS (SELECT 1 FROM "{child}" c WHERE c."{column}" IN (SELECT o.id FROM old_rows o)) THEN
    RAISE foreign_key_violation USING MESSAGE = 'delete on table "{parent}" leaves {child}.{column} referring to it',
      TABLE = '{child}', COLUMN = '{column}';
  END IF;""" for child, column in children)
    renumbered = "".join(f"""
  IF EXISTS (SELECT 1 FROM "{child}" c WHERE c."{column}" = OLD.id) THEN
    RAISE foreign_key_violation USING MESSAGE = 'update on table "{parent}" leaves {child}.{column} referring to an old id',
      TABLE = '{child}', COLUMN = '{column}';
  END IF;""" for child, column in children)
    return f"""
CREATE OR REPLACE FUNCTION refs_guard_{parent}() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN{deleted}
  RETURN NULL;
END $fn$;
CREATE TRIGGER refs_guard_{parent} AFTER DELETE ON "{parent}"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION refs_guard_{parent}();
CREATE OR REPLACE FUNCTION refs_guard_{parent}_id() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN{renumbered}
  RETURN NULL;
END $fn$;
CREATE TRIGGER refs_guard_{parent}_id AFTER UPDATE OF id ON "{parent}"
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refs_guard_{parent}_id();"""


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for child, refs in CHILDREN.items():
        for column, parent in refs:
            op.drop_constraint(_fk_name(child, column, parent), child, type_="foreignkey")
        op.execute(_statement_check(child, refs))
        op.execute(_row_check(child, refs))
    for parent, children in _parents().items():
        op.execute(_parent_guard(parent, children))


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for parent in _parents():
        op.execute(f'DROP TRIGGER refs_guard_{parent} ON "{parent}"; '
                   f'DROP TRIGGER refs_guard_{parent}_id ON "{parent}"; '
                   f"DROP FUNCTION refs_guard_{parent}(); DROP FUNCTION refs_guard_{parent}_id();")
    for child, refs in CHILDREN.items():
        op.execute(f'DROP TRIGGER refs_check_{child} ON "{child}"; '
                   f'DROP TRIGGER refs_check_{child}_update ON "{child}"; '
                   f"DROP FUNCTION refs_check_{child}(); DROP FUNCTION refs_check_{child}_update();")
        for column, parent in refs:
            op.create_foreign_key(_fk_name(child, column, parent), child, parent, [column], ["id"])
