"""Demo data: two areas with two stores each, one user per role, members in every state.

Loaded by `make run` only when the database has no users; never part of a production set-up.
Deterministic (seeded random) for a given day. Each store has a few hundred members who joined
over the past four years (written in bulk, as an import from the old system would) and twelve
recent registrations that went through the workflow (approved, sent back, waiting for review).
"""
from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import insert, update
from werkzeug.security import generate_password_hash

from . import clock, settings
from .calendar import add_months, local_date, local_midnight_utc
from .crypto import lookup_hash
from .extensions import db
from .models import Area, Member, Role, Store, User
from .services import registration, sales
from .workflows import engine

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
# Given names by gender, so that 先生/女士 in the SMS agrees with the name.
GIVEN = {"M": ["伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "浩", "鹏", "斌", "宇", "俊",
               "建华", "志强", "晓东", "国栋", "文博", "子轩", "喆", "堃"],
         "F": ["芳", "娜", "敏", "静", "艳", "婷", "雪", "慧", "玲", "颖", "琳", "倩", "秀英", "丽娟",
               "桂英", "晓燕", "欣怡", "雨桐", "佳怡", "婉清"]}
PREFERENCES = {"M": ["L码 商务休闲 深蓝", "XL 衬衫 白色", "52码 西装 藏青", "M码 夹克 卡其", ""],
               "F": ["M码 连衣裙 米白", "S码 针织衫 浅灰", "38码 风衣 驼色", "L码 衬衫 淡蓝", ""]}
CITIES = {"SH01": "上海市", "HZ01": "杭州市", "GZ01": "广州市", "SZ01": "深圳市"}
ROADS = ["中山路", "人民路", "解放路", "建设路", "南京路", "延安路", "文化路", "新华路"]
MOBILE_PREFIXES = ["138", "139", "137", "136", "135", "150", "151", "158", "186", "188", "189",
                   "133", "177", "182", "187"]
# The demo company's names: the same brand in the SMS, the printed forms and the settings page.
COMPANY = {"brand_name": "青松服饰", "company_name": "青松服饰有限公司", "hotline": "400-820-6688"}
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
# What a recent registration bought first (the till's category; the day-3 call names it).
FIRST_BUYS = ["纯棉衬衫", "针织衫", "休闲裤", "真丝衬衫", "POLO衫", "牛仔裤"]
# Members who joined before the recent registrations, per store (the busier stores have more).
MEMBERS_PER_STORE = {"SH01": 900, "HZ01": 600, "GZ01": 800, "SZ01": 650}


def load(members_per_store: int = 12, seed: int = 7) -> None:
    """Create the demo company; assumes an empty database."""
    rng = random.Random(seed)
    for key, value in COMPANY.items():
        settings.put(key, value)
    areas = [Area(name="华东片区"), Area(name="华南片区")]
    stores = [Store(code="SH01", name="上海南京路店", area=areas[0]),
              Store(code="HZ01", name="杭州湖滨店", area=areas[0]),
              Store(code="GZ01", name="广州天河店", area=areas[1]),
              Store(code="SZ01", name="深圳万象城店", area=areas[1])]
    db.session.add_all(areas + stores)
    db.session.flush()
    # One hash for every demo user: each scrypt costs ~0.3 s and they share the password anyway.
    password = generate_password_hash("demo")
    users = {}
    for username, name, role, store_ix, area_ix in DEMO_USERS:
        users[username] = User(username=username, display_name=name, role=role,
                               password_hash=password,
                               store_id=stores[store_ix].id if store_ix is not None else None,
                               area_id=areas[area_ix].id if area_ix is not None else None)
    for store in stores[1:]:  # every store gets an associate so its members have one
        if not any(u.store_id == store.id for u in users.values()):
            users[f"assoc_{store.code}"] = User(username=f"assoc_{store.code.lower()}",
                                               display_name=f"{store.name[:2]}导购",
                                               role=Role.ASSOCIATE, store_id=store.id,
                                               password_hash=password)
    db.session.add_all(users.values())
    db.session.commit()
    mobiles: set[str] = set()
    _past_members(rng, stores, users, mobiles)
    _members(rng, stores, users, mobiles, members_per_store)
    from . import demo_complaints, demo_lifecycle, demo_sales, demo_visits

    demo_sales.load()  # two years of sales, their points through the ledger
    demo_complaints.load()
    demo_visits.load()  # last month's visit plan cycle complete, this month's under way
    demo_lifecycle.load()  # tiers and an upgrade to decide, formal cards to hand over, day-3 calls
    _care()
    from . import demo_routine

    demo_routine.load()  # this week's routine under way (SPEC §3.8)


def _care() -> None:
    """The care batches of the coming occasions (SPEC §3.4) by the members' tiers, a store's
    opening anniversary among them: they wait for each demo store manager's approval."""
    from sqlalchemy import select

    from .services import care

    # the first store's opening anniversary falls within the week: its invitation batch waits too
    store = db.session.scalars(select(Store).order_by(Store.id)).first()
    if store is not None and store.opened_on is None:
        day = local_date(clock.now()) + timedelta(days=5)
        store.opened_on = date(day.year - 6, day.month, min(day.day, 28))
    db.session.commit()
    care.generate_due()


def _members(rng: random.Random, stores, users, mobiles: set, count: int) -> None:
    """The recent registrations, through the workflow: most approved by HQ (welcome SMS), one
    sent back to the store, the rest waiting for review."""
    hq = users["hq"]
    now = clock.now()
    today = local_date(now)
    threshold = settings.get_int("formal_points_threshold")
    rate = max(1, settings.get_int("points_per_yuan"))
    for store in stores:
        staff = [u for u in users.values() if u.store_id == store.id and u.role == Role.ASSOCIATE]
        for i in range(count):
            actor = staff[i % len(staff)]
            # HQ reviews by the end of the next working day: what waits was entered today.
            applied = today - timedelta(days=rng.randint(1, 20) if i < 8 else 0)
            data = _person(rng, store, actor, applied, mobiles)
            if data["birth_date"].day % 3 == 0:  # some are married (no extra draw: same demo)
                born = data["birth_date"]
                data["anniversaries"] = [("结婚纪念日", (born.month % 12 + 1) * 100 + born.day)]
            case = registration.register(actor=actor, store=store, data=data)
            # A temporary member: points from the first purchase (a till sale, credited through
            # the ledger), below the formal threshold (the welcome SMS says how far there is to go).
            first = min(local_midnight_utc(applied) + timedelta(hours=10, minutes=7 * i),
                        now - timedelta(minutes=30 - i))
            sales.record(rows=[{"store_code": store.code, "sale_no": f"{store.code}-N{case.member.id}",
                                "sold_at": first.isoformat(), "items": 1,
                                "amount": f"{rng.randrange(threshold // 10, threshold, 10) // rate}.00",
                                "member_card": case.member.card_no, "associate": actor.username,
                                "category": FIRST_BUYS[i % len(FIRST_BUYS)]}],
                         actor=hq, source="till")  # commits
            if i < 8:
                engine.fire(case, "approve", hq, version=case.version)
                db.session.commit()
            elif i == 8:
                engine.fire(case, "send_back", hq, version=case.version,
                            comment="缺少家庭地址,请补全")
                db.session.commit()


def _person(rng: random.Random, store: Store, actor: User, applied: date, mobiles: set) -> dict:
    gender = rng.choice("MMFFF")  # a clothing store's members are more often women
    return {"name": rng.choice(SURNAMES) + rng.choice(GIVEN[gender]), "gender": gender,
            "mobile": _mobile(rng, mobiles),
            "birth_date": date(rng.randint(1962, 2004), rng.randint(1, 12), rng.randint(1, 28)),
            "associate_id": actor.id, "applied_on": applied,
            "address": f"{CITIES[store.code]}{rng.choice(ROADS)}{rng.randint(1, 999)}号",
            "work_address": "", "email": "", "preferences": "",
            **dict(zip(("pref_sizes", "pref_styles", "pref_colours"),
                       (rng.choice(PREFERENCES[gender]) or "  ").split(" "))),
            "occupation": rng.choice(["", "", "teacher", "military", "business", "civil_servant",
                                      "self_employed"]),
            "anniversaries": [], "heard_from": rng.choice(["passing", "friend", "ad", "online", ""])}


def _mobile(rng: random.Random, taken: set) -> str:
    while True:
        mobile = f"{rng.choice(MOBILE_PREFIXES)}{rng.randint(10000000, 99999999)}"
        if mobile not in taken:
            taken.add(mobile)
            return mobile


def _past_members(rng: random.Random, stores, users, mobiles: set) -> None:
    """Members who joined over the past four years, in one bulk insert per store; their points,
    tier and card type are set from their purchases by demo_sales. Cards are renewed each year
    (valid today) except for a member who stopped buying: theirs ran out a year after."""
    today = local_date(clock.now())
    for store in stores:
        staff = [u.id for u in users.values() if u.store_id == store.id and u.role == Role.ASSOCIATE]
        rows = []
        for _ in range(MEMBERS_PER_STORE[store.code]):
            applied = today - timedelta(days=rng.randint(45, 4 * 365))
            data = _person(rng, store, users["admin"], applied, mobiles)
            expires = add_months(applied, 12)
            while expires < today:
                expires = add_months(expires, 12)
            rows.append({
                "store_id": store.id, "status": "active", "card_type": "temporary",
                "card_no": f"old-{data['mobile']}", "associate_id": rng.choice(staff),
                "name": data["name"], "gender": data["gender"],
                "birth_year": data["birth_date"].year, "birth_date": data["birth_date"].isoformat(),
                "mobile": data["mobile"], "mobile_hash": lookup_hash("+86" + data["mobile"]),
                # Many customers leave their home address out of the form.
                "address": data["address"] if rng.random() < 0.6 else "", "occupation": data["occupation"],
                "preferences": data["preferences"], "heard_from": data["heard_from"],
                "pref_sizes": data["pref_sizes"], "pref_styles": data["pref_styles"],
                "pref_colours": data["pref_colours"],
                "applied_on": applied, "card_expires_on": expires, "points": 0, "tier": "C",
                "created_at": local_midnight_utc(applied) + timedelta(hours=12)})
        ids = db.session.scalars(insert(Member).returning(Member.id, sort_by_parameter_order=True),
                                 rows).all()
        db.session.execute(update(Member), [{"id": i, "card_no": f"T{store.code}{i:07d}"}
                                            for i in ids])
    db.session.commit()
