"""What groups hear of work opened in bulk and what the area's group gets every morning: the
day-3 calls opened by the daily job are summed up per store group (one post per store and start,
never one per task, nothing without a group), and at 09:00 each area's group gets its stores'
numbers. Real database, a real local receiver, a controlled clock; no member data in a post."""
from datetime import datetime, timezone

import time_machine
from sqlalchemy import select

from tests.sales.builders import bulk_members, sale
from webapp.extensions import db
from webapp.models import Member, StaffPost
from webapp.services import aftersale, digest, sales, staff_channels, staff_posts

SUNDAY = datetime(2026, 11, 22, 6, 0, tzinfo=timezone.utc)  # 14:00 in Shanghai: the sales
TUESDAY_EARLY = datetime(2026, 11, 24, 0, 30, tzinfo=timezone.utc)  # 08:30: the daily job
TUESDAY_NINE = datetime(2026, 11, 24, 1, 5, tzinfo=timezone.utc)  # 09:05: the digests
WEDNESDAY_EARLY = datetime(2026, 11, 25, 0, 30, tzinfo=timezone.utc)
WEDNESDAY_NINE = datetime(2026, 11, 25, 1, 5, tzinfo=timezone.utc)


def _buyers(org, per_store: dict[int, int], at: datetime) -> list[dict]:
    """`per_store[i]` members of store i who each buy once at `at`."""
    members, rows = [], []
    for ix, n in per_store.items():
        for m in bulk_members(org.stores[ix], n):
            members.append(m)
            rows.append(sale(org.stores[ix].code, f"B{m['id']}", f"{at:%Y-%m-%d} 14:00", "100.00",
                             card=m["card_no"]))
    with time_machine.travel(at, tick=False):
        sales.record(rows=rows, actor=org["hq"], source="import")
    return members


def _store_robot(org, ix: int, receiver):
    return staff_channels.add_robot(actor=org["admin"], scope=f"store:{org.stores[ix].id}",
                                    kind="wecom", name=f"{ix + 1}号店群", url=receiver.wecom_url)


def _area_robot(org, ix: int, receiver):
    return staff_channels.add_robot(actor=org["admin"], scope=f"area:{org.areas[ix].id}",
                                    kind="wecom", name=org.areas[ix].name, url=receiver.wecom_url)


def _posts(event: str) -> list[StaffPost]:
    return list(db.session.scalars(select(StaffPost).where(StaffPost.event == event)
                                   .order_by(StaffPost.id)))


def _calls(now: datetime) -> int:
    with time_machine.travel(now, tick=False):
        return aftersale.start_due_calls(now=now)


def _no_member_data(text: str, members: list[dict]) -> None:
    names = db.session.scalars(select(Member.name).where(
        Member.id.in_([m["id"] for m in members]))).all()
    for m in members:
        assert m["card_no"] not in text and m["mobile"] not in text and m["mobile"][-4:] not in text
    assert not any(name in text for name in names)


def test_day_3_calls_opened_in_bulk_are_summed_up_once_per_store_group(org, receiver):
    one, two = _store_robot(org, 0, receiver), _store_robot(org, 1, receiver)  # none for 3号店
    members = _buyers(org, {0: 3, 1: 2, 2: 4}, SUNDAY)
    assert _calls(TUESDAY_EARLY) == 9
    posts = sorted(_posts("opened"), key=lambda p: p.robot_id)
    assert [(p.robot_id, p.store_id) for p in posts] == [(one.id, org.stores[0].id),
                                                          (two.id, org.stores[1].id)]
    assert "1号店：今日新增 3 个售后第3天电话回访任务" in posts[0].body
    assert "2号店：今日新增 2 个售后第3天电话回访任务" in posts[1].body
    assert "期限：11-24 24:00" in posts[0].body
    assert "http://localhost:5000/?process=aftersale_call)" in posts[0].body
    for post in posts:
        assert post.payload is None
        _no_member_data(post.body, members)
    assert _calls(TUESDAY_EARLY) == 0 and len(_posts("opened")) == 2  # again: nothing new, no post
    with time_machine.travel(TUESDAY_EARLY, tick=False):
        assert staff_posts.deliver_due(now=TUESDAY_EARLY) == 2
    assert receiver.problems == [] and len(receiver.accepted) == 2
    # The next day's calls are another start: one more post for the store that has new ones.
    _buyers(org, {0: 1}, datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc))
    assert _calls(WEDNESDAY_EARLY) == 1
    newest = _posts("opened")[-1]
    assert len(_posts("opened")) == 3 and newest.robot_id == one.id
    assert "1号店：今日新增 1 个售后第3天电话回访任务" in newest.body


def test_without_a_store_group_a_bulk_start_posts_nothing(org, receiver):
    _area_robot(org, 0, receiver)  # an area's group is not told of each store's new calls
    gone = _store_robot(org, 0, receiver)
    staff_channels.remove_robot(actor=org["admin"], robot_id=gone.id)
    _buyers(org, {0: 2, 1: 1}, SUNDAY)
    assert _calls(TUESDAY_EARLY) == 3
    assert _posts("opened") == []


def test_the_store_group_s_link_shows_those_calls_in_the_inbox(org, receiver, login):
    _store_robot(org, 0, receiver)
    _buyers(org, {0: 2}, SUNDAY)
    _calls(TUESDAY_EARLY)
    with time_machine.travel(TUESDAY_EARLY, tick=False):
        page = login("assoc1").get("/?process=aftersale_call").get_data(as_text=True)
        assert "只看：售后第3天电话回访" in page and page.count("售后回访 C") == 2
        other = login("assoc1").get("/?process=registration").get_data(as_text=True)
        assert "售后回访 C" not in other and "暂无这一类待办。" in other
        unknown = login("assoc1").get("/?process=<nope>")
        assert unknown.status_code == 200 and "只看" not in unknown.get_data(as_text=True)


def test_each_area_group_gets_its_stores_numbers_at_nine_once_a_day(org, receiver):
    first, second = _area_robot(org, 0, receiver), _area_robot(org, 1, receiver)
    members = _buyers(org, {0: 3}, SUNDAY)
    members += _buyers(org, {1: 2}, datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc))
    _calls(TUESDAY_EARLY)  # 1号店's 3 calls, due tonight
    assert digest.queue_digests(now=TUESDAY_EARLY) == 0  # 08:30: not yet
    assert digest.queue_digests(now=TUESDAY_NINE) == 2
    assert digest.queue_digests(now=TUESDAY_NINE.replace(hour=6)) == 0  # later that day: nothing
    posts = sorted(_posts("digest"), key=lambda p: p.robot_id)
    assert [p.robot_id for p in posts] == [first.id, second.id]
    text = posts[0].body
    assert "一区 11月24日 门店待办汇总" in text
    assert "1号店：未完成 3，今日到期 3，已超期 0" in text
    assert "2号店：未完成 0，今日到期 0，已超期 0" in text and "3号店" not in text
    # the other area has nothing open: its group still hears so, store by store
    assert "3号店：未完成 0，今日到期 0，已超期 0" in posts[1].body
    assert "4号店：未完成 0" in posts[1].body and "合计：未完成 0" in posts[1].body
    # Wednesday: yesterday's calls are late, 2号店's new ones due tonight
    _calls(WEDNESDAY_EARLY)
    assert digest.queue_digests(now=WEDNESDAY_NINE) == 2
    text = next(p.body for p in _posts("digest")[2:] if p.robot_id == first.id)
    assert "1号店：未完成 3，今日到期 0，已超期 3" in text
    assert "2号店：未完成 2，今日到期 2，已超期 0" in text
    assert "合计：未完成 5，今日到期 2，已超期 3" in text
    for post in _posts("digest"):
        assert post.payload is None and post.store_id is None
        _no_member_data(post.body, members)
        assert "售后回访" not in post.body  # numbers only, no case titles
    with time_machine.travel(WEDNESDAY_NINE, tick=False):
        assert staff_posts.deliver_due(now=WEDNESDAY_NINE) == 4
    assert receiver.problems == []


def test_a_bulk_start_of_head_office_tasks_is_not_posted_to_the_store_group(org, receiver):
    """Making formal cards (an HQ task started by each qualifying sale) is not the store's work."""
    from sqlalchemy import Integer, literal

    from webapp.models import Role, Store
    from webapp.workflows import engine
    from webapp.workflows.engine import Process, TaskSpec, Transition

    _store_robot(org, 0, receiver)
    process = engine.register(Process(
        name="hq_bulk", label="总部批量", states={"open": "待办", "done": "完成"}, initial="open",
        start_roles=frozenset(), transitions=(Transition("done", "完成", ("open",), "done",
                                                         frozenset({Role.HQ_SPECIALIST})),),
        tasks={"open": TaskSpec("make", "制卡", Role.HQ_SPECIALIST, due_setting="mailbox_check_due")},
        final=frozenset({"done"})))
    try:
        source = select(literal("制卡").label("title"), Store.id.label("store_id"),
                        Store.area_id.label("area_id"), literal(None, Integer).label("member_id"))
        with time_machine.travel(TUESDAY_EARLY, tick=False):
            assert len(engine.start_many(process, source)) == len(org.stores)
        assert _posts("opened") == []
    finally:
        engine.REGISTRY.pop("hq_bulk", None)
