"""Demo complaints: last month's, filed, and this month's in every state, so that the complaint
list, the inboxes and the compliance page have something to show. Each story is replayed through
the service with the time it happened; deadlines already passed (a complaint nobody answered) are
escalated by the sweeper once the worker runs, as they would be in real life."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from . import clock
from .calendar import add_months, local_date, local_midnight_utc
from .extensions import db
from .models import Store, User
from .services import complaints

H = timedelta(hours=1)
D = timedelta(days=1)
# A complaint handled to the end: reply, proposal, consent, carried out, then (submitted to HQ,)
# revisit and survey.
FILED = [
    ("reply", {"reply_text": "已致电顾客致歉,约定明天给出处理方案。"}),
    ("propose", {"cause": "衬衫首次洗涤即掉色，顾客认为质量有问题。",
                 "solution_text": "为顾客办理同款换货,并赠送洗护礼包。",
                 "solution_steps": "门店调同款同码衬衫，顾客到店换货并领取洗护礼包。",
                 "solution_time": "3天内", "solution_effect": "顾客拿到无质量问题的新衬衫。"}),
    ("consent", {"consent_by": "顾客本人", "consent_how": "phone"}),
    ("carry_out", {"carry_out_note": "顾客已到店换货，礼包已领取。"}),
]


def _closing(score: int, note: str) -> list[tuple]:
    """HQ's revisit three days after receipt, and the satisfaction survey an hour later."""
    return [("revisit", {"revisit_note": note}, 3 * D),
            ("survey", {"survey_score": score, "survey_comment": ""}, 3 * D + H)]


def _by(who: str, steps: list[tuple]) -> list[tuple]:
    return [(step, data, after, who) for step, data, after in steps]


def _story(kind, store, who, name, contact, product, text, wants, received, steps):
    return {"kind": kind, "store": store, "who": who, "name": name, "contact": contact,
            "product": product, "text": text, "wants": wants, "received": received, "steps": steps}


def _stories(now: datetime) -> list[dict]:
    """Times are offsets: `received` from now (this month) or from last month's start; each step's
    time from receipt."""
    last = local_midnight_utc(add_months(local_date(now).replace(day=1), -1))
    on_time = [(s, d, h * H) for (s, d), h in zip(FILED, (3, 20, 22, 30))]
    late_reply = [(s, d, h * H) for (s, d), h in zip(FILED, (30, 40, 42, 46))]
    late_solution = [(s, d, h * H) for (s, d), h in zip(FILED, (5, 50, 55, 60))]
    submit = [("submit", {"store_handling": "店长当面致歉并按方案处理完毕。",
                          "area_opinion": "处理得当，提醒门店加强商品检查。"}, 31 * H)]
    return [
        _story("direct", 0, "hq", "孙先生", "13911112222", "羊毛衫", "羊毛衫洗后缩水严重", "退货",
               last + 3 * D + 10 * H, _by("hq", on_time + _closing(5, "顾客对换货满意"))),
        _story("direct", 1, "hq", "钱女士", "13911113333", "连衣裙", "拉链第二次穿就坏了", "换货",
               last + 8 * D + 15 * H, _by("hq", late_reply + _closing(3, "接受方案,但嫌回复太慢"))),
        _story("store", 0, "manager", "李先生", "13911114444", "皮鞋", "鞋跟开胶", "维修",
               last + 12 * D + 11 * H,
               _by("manager", on_time + submit) + _by("hq", _closing(4, "维修后可正常穿着"))),
        _story("store", 2, "manager3", "何女士", "13911115555", "外套", "店员态度冷淡", "道歉",
               last + 20 * D + 16 * H,
               _by("manager3", late_solution + submit)
               + _by("hq", _closing(2, "顾客仍不满意店员态度"))),
        # this month, still moving
        _story("direct", 0, "hq", "周先生", "13922221111", "衬衫", "衬衫洗后掉色", "退货",
               now - 2 * H, []),
        _story("direct", 3, "hq", "郑女士", "13922222222", "围巾", "网购与门店价格不一致",
               "退差价", now - 5 * H, [("escalate", {"agreed_reply_at": now + 20 * H}, H, "hq")]),
        _story("store", 0, "manager", "冯女士", "13922223333", "牛仔裤", "裤长修改后不合适", "重新修改",
               now - 6 * H, [("reply", FILED[0][1], 2 * H, "manager")]),
        _story("store", 0, "associate", "陈先生", "13922224444", "夹克", "夹克袖口脱线", "换货",
               now - 30 * H, []),  # nobody answered: late, escalated to the supervisor and HQ
        _story("direct", 1, "hq", "韩女士", "13922225555", "毛衣", "毛衣起球", "退货",
               now - 26 * H, _by("hq", on_time[:2])),
        _story("store", 0, "manager", "杨先生", "13922226666", "西裤", "西裤褪色", "换货",
               now - 3 * D, _by("manager", on_time + submit)),
    ]


def load() -> None:
    now = clock.now()
    users = {u.username: u for u in db.session.scalars(select(User))}
    stores = db.session.scalars(select(Store).order_by(Store.id)).all()
    for story in _stories(now):
        received = story["received"]
        new = complaints.NewComplaint(
            kind=story["kind"], channel="phone" if story["kind"] == "direct" else "in_store",
            store_id=stores[story["store"]].id, customer_name=story["name"],
            contact=story["contact"], product=story["product"], description=story["text"],
            customer_wants=story["wants"], received_at=received)
        case = complaints.record(actor=users[story["who"]], new=new, now=received)
        for step, data, after, who in story["steps"]:
            when = received + after
            if step == "consent":
                data = {**data, "consent_at": when}
            complaints.act(actor=users[who], case=case, step=step, version=case.version,
                           data=data, now=when)
