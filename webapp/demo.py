"""Demo data: two areas with two stores each, one user per role, members in every state.

Loaded by `make run` only when the database has no users; never part of a production set-up.
"""
from __future__ import annotations

import random
from datetime import date, timedelta

from . import clock
from .extensions import db
from .models import Area, Role, Store, User
from .services import registration
from .services.cases import fire

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超",
         "秀英", "建华", "志强", "晓东", "丽娟", "喆", "堃"]
DEMO_USERS = [  # username, display name, role, store index, area index
    ("associate", "张导购", Role.ASSOCIATE, 0, None),
    ("associate1b", "钱导购", Role.ASSOCIATE, 0, None),
    ("associate2", "李导购", Role.ASSOCIATE, 2, None),
    ("manager", "王店长", Role.STORE_MANAGER, 0, None),
    ("manager3", "赵店长", Role.STORE_MANAGER, 2, None),
    ("supervisor", "刘主管", Role.AREA_SUPERVISOR, None, 0),
    ("area_manager", "陈经理", Role.AREA_MANAGER, None, 0),
    ("hq", "周客服", Role.HQ_SPECIALIST, None, None),
    ("hq_manager", "吴客服经理", Role.HQ_MANAGER, None, None),
    ("admin", "系统管理员", Role.ADMIN, None, None),
]


def load(members_per_store: int = 12, seed: int = 7) -> None:
    """Create the demo company; assumes an empty database."""
    rng = random.Random(seed)
    areas = [Area(name="华东片区"), Area(name="华南片区")]
    stores = [Store(code="SH01", name="上海南京路店", area=areas[0]),
              Store(code="HZ01", name="杭州湖滨店", area=areas[0]),
              Store(code="GZ01", name="广州天河店", area=areas[1]),
              Store(code="SZ01", name="深圳万象城店", area=areas[1])]
    db.session.add_all(areas + stores)
    db.session.flush()
    users = {}
    for username, name, role, store_ix, area_ix in DEMO_USERS:
        user = User(username=username, display_name=name, role=role,
                    store_id=stores[store_ix].id if store_ix is not None else None,
                    area_id=areas[area_ix].id if area_ix is not None else None)
        user.set_password("demo")
        users[username] = user
    for store in stores[1:]:  # every store gets an associate so its members have one
        if not any(u.store_id == store.id for u in users.values()):
            users[f"assoc_{store.code}"] = User(username=f"assoc_{store.code.lower()}",
                                               display_name=f"{store.name[:2]}导购",
                                               role=Role.ASSOCIATE, store_id=store.id)
            users[f"assoc_{store.code}"].set_password("demo")
    db.session.add_all(users.values())
    db.session.commit()
    _members(rng, stores, users)
    from . import demo_complaints, demo_sales

    demo_sales.load()  # two years of sales
    demo_complaints.load()


def _members(rng: random.Random, stores, users) -> None:
    hq = users["hq"]
    today = clock.now().date()
    for store in stores:
        staff = [u for u in users.values() if u.store_id == store.id and u.role == Role.ASSOCIATE]
        for i in range(12):
            actor = staff[i % len(staff)]
            data = _person(rng, actor, today - timedelta(days=rng.randint(0, 400)))
            case = registration.register(actor=actor, store=store, data=data)
            case.member.points = rng.choice([120, 800, 1500, 2600, 4200, 5600, 9000])
            case.member.tier = "A" if case.member.points >= 5000 else (
                "B" if case.member.points >= 2000 else "C")
            db.session.commit()
            if i < 8:
                fire(actor=hq, case=case, transition="approve", version=case.version)
            elif i == 8:
                fire(actor=hq, case=case, transition="send_back", version=case.version,
                     comment="缺少家庭地址,请补全")


def _person(rng: random.Random, actor: User, applied: date) -> dict:
    prefix = rng.choice(["138", "139", "137", "136", "150", "151", "158", "186", "188", "189", "133"])
    mobile = f"{prefix}{rng.randint(10000000, 99999999)}"
    return {"name": rng.choice(SURNAMES) + rng.choice(GIVEN), "mobile": mobile,
            "gender": rng.choice("MF"), "birth_date": date(rng.randint(1960, 2004), rng.randint(1, 12),
                                                           rng.randint(1, 28)),
            "associate_id": actor.id, "applied_on": applied,
            "address": f"{rng.choice(['上海市', '杭州市', '广州市', '深圳市'])}某某路{rng.randint(1, 999)}号",
            "work_address": "", "email": "", "preferences": rng.choice(["L码 商务休闲 深蓝", "XL 衬衫", ""]),
            "occupation": rng.choice(["", "teacher", "military", "business"]), "anniversary": None,
            "heard_from": rng.choice(["passing", "friend", ""])}
