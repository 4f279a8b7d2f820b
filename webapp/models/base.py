"""Shared model vocabulary: roles and their scopes, ids from requests, aware UTC times."""
from __future__ import annotations

import enum

from .. import clock
from ..extensions import db
from ..i18n_labels import N_


class Role(str, enum.Enum):
    ASSOCIATE = "associate"
    STORE_MANAGER = "store_manager"
    AREA_SUPERVISOR = "area_supervisor"
    AREA_MANAGER = "area_manager"
    HQ_SPECIALIST = "hq_specialist"
    HQ_MANAGER = "hq_manager"
    ADMIN = "admin"


ROLE_LABELS = {Role.ASSOCIATE: N_("导购"), Role.STORE_MANAGER: N_("店长"),
               Role.AREA_SUPERVISOR: N_("片区主管"), Role.AREA_MANAGER: N_("区域经理"),
               Role.HQ_SPECIALIST: N_("总部客服专员"), Role.HQ_MANAGER: N_("客服经理"),
               Role.ADMIN: N_("管理员")}
STORE_ROLES = {Role.ASSOCIATE, Role.STORE_MANAGER}
AREA_ROLES = {Role.AREA_SUPERVISOR, Role.AREA_MANAGER}
COMPANY_ROLES = {Role.HQ_SPECIALIST, Role.HQ_MANAGER, Role.ADMIN}
# Ids are integer columns (PostgreSQL's 4 bytes). A number beyond that names no row, but asking
# the database for it raises (SQLite: above 64 bits) instead of finding nothing.
MAX_ID = 2**31 - 1


def parse_id(raw) -> int | None:
    """An id from a form or a query string; None unless it could name a row."""
    text_value = str(raw if raw is not None else "").strip()
    if not text_value.isdecimal() or len(text_value) > 10:  # isdecimal: what int() can read
        return None
    value = int(text_value)
    return value if 0 < value <= MAX_ID else None


class TZDateTime(db.TypeDecorator):
    """DateTime stored as UTC and always read back timezone-aware (SQLite drops tzinfo)."""

    impl = db.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return clock.as_utc(value)

    def process_result_value(self, value, dialect):
        return clock.as_utc(value)


def insert_ignoring_duplicates(table, index_elements=None):
    """INSERT … ON CONFLICT DO NOTHING on either database (a unique key as the guard: a NOT EXISTS
    on the table being filled makes PostgreSQL rescan the rows the same statement wrote);
    `index_elements` names the one unique key whose conflict is ignored."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(table).on_conflict_do_nothing(index_elements=index_elements)
