"""Test data builders: a two-area organisation, users per role, registered members."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from itertools import count

from webapp import clock
from webapp.calendar import local_date
from webapp.extensions import db
from webapp.models import Area, Role, Store, User

_mobiles = count(13800000001)
_PW_HASH: list[str] = []  # scrypt is slow on purpose; hash the shared test password once


def _pw_hash() -> str:
    if not _PW_HASH:
        from werkzeug.security import generate_password_hash
        # A cheap method for the test users: every login checks it, and scrypt costs 0.1-0.4 s
        # each on the 2-core machines (the app's own hashes stay scrypt).
        _PW_HASH.append(generate_password_hash("pw", method="pbkdf2:sha256:1000"))
    return _PW_HASH[0]


@dataclass
class Org:
    areas: list
    stores: list
    users: dict

    def __getitem__(self, username: str) -> User:
        return db.session.get(User, self.users[username].id)


def make_org() -> Org:
    """Area 1: stores S1, S2; area 2: S3, S4. Users: assoc1, assoc1b, manager1, assoc3,
    manager3, supervisor1, supervisor2, area_manager1, hq, hq_manager, admin — password 'pw'."""
    areas = [Area(name="一区"), Area(name="二区")]
    stores = [Store(code=f"S{i}", name=f"{i}号店", area=areas[0 if i <= 2 else 1]) for i in (1, 2, 3, 4)]
    db.session.add_all(areas + stores)
    db.session.flush()
    spec = [("assoc1", Role.ASSOCIATE, 0, None), ("assoc1b", Role.ASSOCIATE, 0, None),
            ("manager1", Role.STORE_MANAGER, 0, None), ("assoc3", Role.ASSOCIATE, 2, None),
            ("manager3", Role.STORE_MANAGER, 2, None), ("supervisor1", Role.AREA_SUPERVISOR, None, 0),
            ("supervisor2", Role.AREA_SUPERVISOR, None, 1), ("area_manager1", Role.AREA_MANAGER, None, 0),
            ("hq", Role.HQ_SPECIALIST, None, None), ("hq_manager", Role.HQ_MANAGER, None, None),
            ("admin", Role.ADMIN, None, None)]
    users = {}
    for name, role, store_ix, area_ix in spec:
        user = User(username=name, display_name=f"{name}名", role=role,
                    store_id=stores[store_ix].id if store_ix is not None else None,
                    area_id=areas[area_ix].id if area_ix is not None else None)
        user.password_hash = _pw_hash()
        users[name] = user
    db.session.add_all(users.values())
    db.session.commit()
    return Org(areas, stores, users)


def member_data(associate: User, **overrides) -> dict:
    """A complete, valid application form, applied for today (the test's clock)."""
    data = {"name": "王小明", "mobile": str(next(_mobiles)), "gender": "M",
            "birth_date": date(1988, 5, 17), "associate_id": associate.id,
            "applied_on": local_date(clock.now()), "address": "上海市南京西路1号", "work_address": "",
            "email": "", "occupation": "teacher", "anniversaries": [], "preferences": "L码",
            "heard_from": "friend"}
    data.update(overrides)
    return data


def form_fields(data: dict) -> dict:
    """The same data as the HTML form posts it."""
    out = {}
    for key, value in data.items():
        if key == "anniversaries":  # [(name, MMDD)]: the form's rows
            for i, (name, md) in enumerate(value):
                out[f"anniversaries-{i}-name"] = name
                out[f"anniversaries-{i}-day"] = f"{md // 100:02d}-{md % 100:02d}"
        elif value is None:
            out[key] = ""
        elif isinstance(value, date):
            out[key] = value.isoformat()
        else:
            out[key] = str(value)
    return out


def register(org: Org, username: str = "assoc1", **overrides):
    """Register a member through the service, as the associate would."""
    from webapp.services import registration

    actor = org[username]
    return registration.register(actor=actor, store=actor.store, data=member_data(actor, **overrides))
