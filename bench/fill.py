"""Fill a bench database fast: N members with registration cases and review tasks.

Rows are generated in Python in chunks and written with PostgreSQL COPY (or executemany on
SQLite), bypassing the ORM and the Encrypted column type: a few thousand real ciphertexts
(made with the app's key through webapp.crypto) are reused, mobile_hash stays unique.

Shape (defaults): 200 stores in 10 areas, 2 associates + 1 manager per store; members
registered over the last 3 years; the newest `pending` share (2 %) registered within the last
48 h and waiting for HQ review (open task, reminded when past remind time, escalated when
overdue, with their unread notifications); every older member approved (case closed, review
task done, every 10th with a read reminder).
"""
from __future__ import annotations

import io
import time
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import func, select, text

NAMES = ["王小明", "李娜", "张伟", "刘洋", "陈静", "杨帆", "赵敏", "黄磊", "周杰", "吴芳",
         "徐婷", "孙浩", "马丽", "朱军", "胡静", "郭强", "何敏", "高峰", "林琳", "罗刚"]
CHUNK = 50_000
STORES, AREAS, CIPHERS = 200, 10, 2000


def _pg_value(v) -> str:
    if v is None:
        return "\\N"
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, (datetime, date)):
        return v.isoformat()
    return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _sqlite_value(v):
    if isinstance(v, datetime):  # SQLAlchemy's SQLite DateTime storage format, in UTC
        return v.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, bool):
        return int(v)
    return v


class Writer:
    """COPY on PostgreSQL, executemany on SQLite, through the session's own connection."""

    def __init__(self, session):
        self.session = session
        self.pg = session.get_bind().dialect.name == "postgresql"
        self.raw = session.connection().connection.dbapi_connection

    def write(self, table: str, columns: tuple[str, ...], rows) -> int:
        n = 0
        cols = ", ".join(f'"{c}"' for c in columns)
        if self.pg:
            with self.raw.cursor() as cur:
                with cur.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                    buf = io.StringIO()
                    for row in rows:
                        buf.write("\t".join(map(_pg_value, row)))
                        buf.write("\n")
                        n += 1
                        if n % CHUNK == 0:
                            copy.write(buf.getvalue())
                            buf = io.StringIO()
                    copy.write(buf.getvalue())
        else:
            marks = ", ".join("?" for _ in columns)
            cur = self.raw.cursor()
            batch = []
            for row in rows:
                batch.append(tuple(_sqlite_value(v) for v in row))
                if len(batch) == CHUNK:
                    cur.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', batch)
                    n += len(batch)
                    batch = []
            if batch:
                cur.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', batch)
                n += len(batch)
        return n

    def fix_sequences(self, tables) -> None:
        if not self.pg:
            return
        for table in tables:
            self.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM \"{table}\"))"))


def _organisation():
    """200 stores in 10 areas, 2 associates + 1 manager per store, area supervisors, HQ; flushed.
    Returns (stores, associate ids per store, area per store, code per store, HQ users)."""
    from werkzeug.security import generate_password_hash

    from webapp.extensions import db
    from webapp.models import Area, Role, Store, User

    pw = generate_password_hash("pw")
    areas = [Area(name=f"{i + 1}区") for i in range(AREAS)]
    stores = [Store(code=f"S{i + 1:03d}", name=f"{i + 1}号店", area=areas[i % AREAS])
              for i in range(STORES)]
    db.session.add_all(areas + stores)
    db.session.flush()
    users = []
    for s in stores:
        users += [User(username=f"assoc{s.id}{x}", display_name=f"导购{s.id}{x}", role=Role.ASSOCIATE,
                       store_id=s.id) for x in "ab"]
        users.append(User(username=f"manager{s.id}", display_name=f"店长{s.id}",
                          role=Role.STORE_MANAGER, store_id=s.id))
    users += [User(username=f"supervisor{a.id}", display_name=f"督导{a.id}", role=Role.AREA_SUPERVISOR,
                   area_id=a.id) for a in areas]
    hq = [User(username=n, display_name=f"{n}名", role=r) for n, r in (
        ("hq", Role.HQ_SPECIALIST), ("hq2", Role.HQ_SPECIALIST), ("hq_manager", Role.HQ_MANAGER),
        ("admin", Role.ADMIN))]
    for u in users + hq:
        u.password_hash = pw
    db.session.add_all(users + hq)
    db.session.flush()
    store_assocs = {s.id: [u.id for u in users if u.store_id == s.id and u.role == Role.ASSOCIATE]
                    for s in stores}
    store_area = {s.id: s.area_id for s in stores}
    store_code = {s.id: s.code for s in stores}
    return stores, store_assocs, store_area, store_code, hq


def fill(members: int, *, pending_share: float = 0.02, log=print) -> dict:
    """Empty schema -> organisation, users, members, cases, tasks, notifications. Returns ids."""
    from webapp import crypto
    from webapp.extensions import db

    t0 = time.perf_counter()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    stores, store_assocs, store_area, store_code, hq = _organisation()
    hq_id, hq2_id, mgr_id = hq[0].id, hq[1].id, hq[2].id

    def returned(i: int) -> bool:
        """Every 10th pending registration was sent back: the associate completes it."""
        return i >= first_pending and i % 10 == 5

    def claimer(i: int) -> int | None:
        """Who claimed the task (services/tasks.claim): half the closed ones, 20 % of the open."""
        if i < first_pending:
            return (hq_id, None, hq2_id, None)[i % 4]
        return {3: hq_id, 7: hq2_id}.get(i % 10)

    cipher_mobile = [crypto.encrypt(f"139{i:08d}") for i in range(CIPHERS)]
    cipher_birth = [crypto.encrypt(date(1960 + i % 45, 1 + i % 12, 1 + i % 28).isoformat())
                    for i in range(CIPHERS)]
    cipher_addr = [crypto.encrypt(f"上海市南京西路{i}号") for i in range(CIPHERS)]

    n_pending = int(members * pending_share)
    first_pending = members - n_pending
    old_span = timedelta(days=3 * 365).total_seconds()
    recent = timedelta(hours=48).total_seconds()

    def created(i: int) -> datetime:
        if i < first_pending:
            return now - timedelta(days=3 * 365) + timedelta(seconds=old_span * i / max(1, first_pending))
        return now - timedelta(hours=48) + timedelta(seconds=recent * (i - first_pending) / max(1, n_pending))

    writer = Writer(db.session)
    member_cols = ("id", "card_no", "card_type", "status", "store_id", "associate_id", "name", "gender",
                   "birth_year", "birth_month_day", "birth_date", "mobile", "mobile_hash", "address", "work_address",
                   "email", "occupation", "preferences", "heard_from", "applied_on",
                   "points", "tier", "card_expires_on", "created_at")

    def member_rows():
        for i in range(members):
            sid = stores[i % STORES].id
            c = created(i)
            k = i % CIPHERS
            yield (i + 1, f"T{store_code[sid]}{i + 1:08d}", "temporary",
                   "pending" if i >= first_pending else "active", sid, store_assocs[sid][i % 2],
                   NAMES[i % len(NAMES)], "MF"[i % 2], 1960 + k % 45, (1 + k % 12) * 100 + 1 + k % 28, cipher_birth[k],
                   cipher_mobile[k],
                   f"{i + 1:064x}", cipher_addr[k], "", "", "", "", "", c.date(), 0, "C",
                   None, c)

    case_cols = ("id", "process", "state", "version", "title", "store_id", "area_id", "member_id",
                 "created_by_id", "created_at", "updated_at", "closed_at", "data")

    def case_rows():
        for i in range(members):
            sid = stores[i % STORES].id
            c = created(i)
            done = i < first_pending
            closed = c + timedelta(hours=20) if done else None
            state = "approved" if done else "returned" if returned(i) else "review"
            yield (i + 1, "registration", state, 1 if state == "review" else 2,
                   f"入会登记 {NAMES[i % len(NAMES)]}", sid, store_area[sid], i + 1,
                   store_assocs[sid][i % 2], c, closed or c, closed, "{}")

    task_cols = ("id", "case_id", "name", "role", "store_id", "area_id", "assignee_id", "status",
                 "due_at", "remind_at", "reminded_at", "escalate_to", "escalated_at", "created_at",
                 "closed_at", "closed_by_id")

    def task_rows():
        for i in range(members):
            sid = stores[i % STORES].id
            c = created(i)
            due = c + timedelta(hours=36)
            remind = due - timedelta(hours=2)
            who = claimer(i)
            if i < first_pending:
                reminded = remind if i % 10 == 0 else None
                yield (i + 1, i + 1, "review", "HQ_SPECIALIST", sid, store_area[sid], who, "done",
                       due, remind, reminded, "HQ_MANAGER", None, c, c + timedelta(hours=20),
                       who or hq_id)
            elif returned(i):  # back at the store: the associate who registered completes it
                remind = due - timedelta(hours=4)
                yield (i + 1, i + 1, "complete", "ASSOCIATE", sid, store_area[sid],
                       store_assocs[sid][i % 2], "open", due, remind,
                       remind if remind <= now else None, "STORE_MANAGER",
                       due if due <= now else None, c, None, None)
            else:
                yield (i + 1, i + 1, "review", "HQ_SPECIALIST", sid, store_area[sid], who, "open",
                       due, remind, remind if remind <= now else None, "HQ_MANAGER",
                       due if due <= now else None, c, None, None)

    note_cols = ("task_id", "kind", "role", "user_id", "store_id", "area_id", "created_at", "read_at")

    def note_rows():
        for i in range(members):
            sid = stores[i % STORES].id
            due = created(i) + timedelta(hours=36)
            remind = due - timedelta(hours=2)
            who = claimer(i)  # a reminder goes to the claimer of the task, if any
            if i < first_pending:
                if i % 10 == 0:
                    yield (i + 1, "remind", "HQ_SPECIALIST", who, sid, store_area[sid], remind,
                           remind + timedelta(hours=1))
            elif returned(i):
                if due - timedelta(hours=4) <= now:
                    yield (i + 1, "remind", "ASSOCIATE", store_assocs[sid][i % 2], sid,
                           store_area[sid], due - timedelta(hours=4), None)
                if due <= now:
                    yield (i + 1, "escalate", "STORE_MANAGER", None, sid, store_area[sid], due, None)
            else:
                if remind <= now:
                    yield (i + 1, "remind", "HQ_SPECIALIST", who, sid, store_area[sid], remind, None)
                if due <= now:
                    yield (i + 1, "escalate", "HQ_MANAGER", None, sid, store_area[sid], due, None)

    counts = {}
    for table, cols, rows in (("member", member_cols, member_rows()), ("case", case_cols, case_rows()),
                              ("task", task_cols, task_rows()), ("notification", note_cols, note_rows())):
        t = time.perf_counter()
        counts[table] = writer.write(table, cols, rows)
        log(f"  {table:<13}{counts[table]:>10,} rows in {time.perf_counter() - t:6.1f}s")
    writer.fix_sequences(["member", "case", "task", "notification"])
    db.session.commit()
    t = time.perf_counter()
    if writer.pg:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    log(f"  analyze      {time.perf_counter() - t:6.1f}s   (fill total {time.perf_counter() - t0:.0f}s)")
    return {"hq": hq_id, "hq_manager": mgr_id, **counts}


def fill_members(members: int, *, pending_share: float = 0.02, columns: dict[str, str] | None = None,
                 log=print) -> dict:
    """Empty schema -> organisation, users and N members, the members generated in one
    INSERT … SELECT over generate_series (PostgreSQL; fill() on SQLite). For the benches that
    need members but not their registration history (no cases, tasks or notifications): 1 M
    members take about a minute where fill() takes half an hour on this machine.

    Same shape as fill(): member g in store 1 + (g - 1) % 200, assigned to one of its two
    associates, the newest `pending_share` pending; encrypted columns hold real ciphertexts of
    the app's key (a few thousand, reused; mobile_hash stays unique). Birthdays are spread over
    the 366 days (29 February included), the encrypted birth date matching birth_month_day and
    birth_year. `columns` overrides a member column with an SQL expression of g (e.g.
    {"tier": "CASE g % 3 WHEN 0 THEN 'A' ELSE 'C' END"}). Foreign-key triggers are skipped for
    the generated rows (consistent by construction); statistics updated after."""
    from webapp import crypto
    from webapp.extensions import db

    if db.session.get_bind().dialect.name != "postgresql":
        return fill(members, pending_share=pending_share, log=log)
    t0 = time.perf_counter()
    stores, store_assocs, store_area, store_code, hq = _organisation()
    db.session.commit()
    store_ids = sorted(s.id for s in stores)  # the n-th store by id, as the SQL numbers them
    days = [date(2000, 1, 1) + timedelta(days=d) for d in range(366)]  # a leap year: 29 Feb too
    # day d of the year, born in 1960 + 4 * (g % 10) (all leap years)
    cipher_birth = [crypto.encrypt(date(1960 + 4 * y, day.month, day.day).isoformat())
                    for day in days for y in range(10)]
    cipher_mobile = [crypto.encrypt(f"139{i:08d}") for i in range(CIPHERS)]
    cipher_addr = [crypto.encrypt(f"上海市南京西路{i}号") for i in range(CIPHERS // 10)]
    n_pending = int(members * pending_share)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    values = {
        "id": "g", "card_no": "'T' || s.code || lpad(g::text, 8, '0')", "card_type": "'temporary'",
        "status": f"CASE WHEN g > {members - n_pending} THEN 'pending' ELSE 'active' END",
        "store_id": "s.id",
        "associate_id": "(CASE WHEN g % 2 = 1 THEN CAST(:assoc_a AS int[])"
                        " ELSE CAST(:assoc_b AS int[]) END)[s.n]",
        "name": "(CAST(:names AS text[]))[1 + (g - 1) % :n_names]",
        "gender": "CASE WHEN g % 2 = 1 THEN 'M' ELSE 'F' END",
        "birth_year": "1960 + 4 * (g % 10)",
        "birth_month_day": "extract(month FROM b.day)::int * 100 + extract(day FROM b.day)::int",
        "birth_date": "(CAST(:cipher_birth AS text[]))[1 + b.d * 10 + g % 10]",
        "mobile": "(CAST(:cipher_mobile AS text[]))[1 + (g - 1) % :n_mobile]",
        "mobile_last4": "lpad(((g - 1) % :n_mobile % 10000)::text, 4, '0')",
        "mobile_hash": "lpad(to_hex(g), 64, '0')",
        "address": "(CAST(:cipher_addr AS text[]))[1 + (g - 1) % :n_addr]",
        "work_address": "''", "email": "''",
        "occupation": "''", "preferences": "''", "heard_from": "''",
        # registered over the last 3 years, the pending ones within the last 48 h
        "applied_on": "(c.at AT TIME ZONE 'Asia/Shanghai')::date", "created_at": "c.at",
        "points": "0", "tier": "'C'", "card_expires_on": "NULL",
    }
    values.update(columns or {})
    names = ", ".join(f'"{c}"' for c in values)
    db.session.execute(text("SET LOCAL synchronous_commit = off"))
    db.session.execute(text("SET LOCAL session_replication_role = replica"))  # no per-row FK checks
    # The member table's ten secondary indexes are built after the rows (a sort each) rather than
    # row by row (random inserts into ten 1 M-entry B-trees: minutes on this machine).
    t = time.perf_counter()
    indexes = db.session.execute(text(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid), con.conname, "
        "pg_get_constraintdef(con.oid) "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid "
        "WHERE i.indrelid = 'member'::regclass AND NOT i.indisprimary")).all()
    for index, _definition, constraint, _condef in indexes:
        db.session.execute(text(f'ALTER TABLE member DROP CONSTRAINT "{constraint}"' if constraint
                                else f'DROP INDEX "{index}"'))
    db.session.execute(text(f"""
        INSERT INTO member ({names})
        SELECT {", ".join(values.values())}
        FROM generate_series(1, :members) g
        JOIN (SELECT id, code, row_number() OVER (ORDER BY id) AS n FROM store) s
          ON s.n = 1 + (g - 1) % {STORES}
        CROSS JOIN LATERAL (SELECT ((hashint4(g)::bigint + 2147483648) % 366)::int AS d) d
        CROSS JOIN LATERAL (SELECT d.d, date '2000-01-01' + d.d AS day) b
        CROSS JOIN LATERAL (SELECT CAST(:now AS timestamptz) - CASE WHEN g <= :old
                 THEN interval '1095 days' * (1 - (g - 1)::float8 / :old)
                 ELSE interval '48 hours' * (1 - (g - 1 - :old)::float8 / :pending) END AS at) c"""),
        {"members": members, "old": members - n_pending, "pending": max(1, n_pending), "now": now,
         "assoc_a": [store_assocs[i][0] for i in store_ids],
         "assoc_b": [store_assocs[i][1] for i in store_ids],
         "names": NAMES, "n_names": len(NAMES), "cipher_birth": cipher_birth,
         "cipher_mobile": cipher_mobile, "n_mobile": len(cipher_mobile),
         "cipher_addr": cipher_addr, "n_addr": len(cipher_addr)})
    db.session.execute(text("SELECT setval(pg_get_serial_sequence('member', 'id'), "
                            "(SELECT coalesce(max(id), 1) FROM member))"))
    log(f"  member    {members:>10,} rows in {time.perf_counter() - t:6.1f}s")
    t = time.perf_counter()
    db.session.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    for _index, definition, constraint, condef in indexes:
        db.session.execute(text(f'ALTER TABLE member ADD CONSTRAINT "{constraint}" {condef}' if constraint
                                else definition))
    db.session.commit()
    log(f"  {len(indexes)} indexes  {time.perf_counter() - t:6.1f}s")
    t = time.perf_counter()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    log(f"  analyze      {time.perf_counter() - t:6.1f}s   (fill total {time.perf_counter() - t0:.0f}s)")
    return {"hq": hq[0].id, "hq_manager": hq[2].id, "member": members}


def member_count() -> int:
    from webapp.extensions import db
    from webapp.models import Member

    try:
        return db.session.scalar(select(func.count(Member.id)))
    except Exception:  # noqa: BLE001 - no schema yet
        db.session.rollback()
        return -1
