"""The inbox page: its rows in deadline order over all four parts, and its badges, read in one
statement (services/inbox.py), agree with the plain OR query and with other pages' badges."""
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import Case, Notification, Role, Task
from webapp.permissions import inbox_filter
from webapp.services import inbox

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)


def add_tasks(org, n: int, *, role=Role.HQ_SPECIALIST, start: int = 0, **task_fields) -> list[Task]:
    """n open tasks, due an hour apart from T0 + start hours, each on its own case in store 1."""
    store = org.stores[0]
    made = []
    for i in range(start, start + n):
        case = Case(process="registration", state="review", version=1, title=f"待办{i:03d}",
                    store_id=store.id, area_id=store.area_id, created_at=T0, updated_at=T0)
        db.session.add(case)
        db.session.flush()
        task = Task(case_id=case.id, name="hq_review", role=role, store_id=store.id,
                    area_id=store.area_id, due_at=T0 + timedelta(hours=i), **task_fields)
        db.session.add(task)
        made.append(task)
    db.session.commit()
    return made


def reference_ids(user, limit=50, offset=0):
    return db.session.scalars(select(Task.id).where(inbox_filter(user))
                              .order_by(Task.due_at.asc().nulls_last(), Task.id)
                              .limit(limit).offset(offset)).all()


def badge(html: str) -> str:
    return re.search(r'id="nav-inbox">([^<]*)<', html).group(1)


def test_page_merges_all_parts_in_deadline_order(org):
    hq = org["hq"]
    add_tasks(org, 3, start=10)                                        # HQ pool
    add_tasks(org, 2, start=5, assignee_id=hq.id)                      # claimed by me
    add_tasks(org, 2, start=1, role=Role.ASSOCIATE, escalate_to=Role.HQ_SPECIALIST,
              escalated_at=T0)                                         # escalated to HQ
    add_tasks(org, 2, start=0, role=Role.ASSOCIATE)                    # not HQ's: left out
    page = inbox.inbox_page(hq)
    assert [r.id for r in page.rows] == reference_ids(hq)
    assert [r.title for r in page.rows] == ["待办001", "待办002", "待办005", "待办006",
                                            "待办010", "待办011", "待办012"]
    assert page.rows[2].assignee_name == "hq名" and page.rows[0].store_name == "1号店"
    assert page.nav == {"inbox": 7, "notifications": 0}


def test_badge_is_capped_and_pages_go_past_the_cap(org):
    hq = org["hq"]
    add_tasks(org, inbox.NAV_CAP + 5)
    first, third = inbox.inbox_page(hq), inbox.inbox_page(hq, offset=100)
    assert first.nav["inbox"] == "99+" and third.nav["inbox"] == "99+"
    assert [r.id for r in third.rows] == reference_ids(hq, offset=100) and len(third.rows) == 5
    assert inbox.inbox_count(hq) == inbox.NAV_CAP + 5


def test_unread_notifications_counted_with_the_page(org):
    hq = org["hq"]
    task = add_tasks(org, 1)[0]
    db.session.add_all([Notification(task_id=task.id, kind="remind", role=Role.HQ_SPECIALIST,
                                     created_at=T0),                   # to my role
                        Notification(task_id=task.id, kind="escalate", role=Role.HQ_SPECIALIST,
                                     user_id=hq.id, created_at=T0)])   # to me
    db.session.commit()
    assert inbox.inbox_page(hq).nav == {"inbox": 1, "notifications": 2}


def test_inbox_and_other_pages_show_the_same_badge(org, login):
    add_tasks(org, 4)
    client = login("hq")
    assert badge(client.get("/").data.decode()) == "4"
    assert badge(client.get("/notifications").data.decode()) == "4"


def test_empty_inbox_and_a_page_past_the_end(org, login):
    client = login("hq")
    html = client.get("/").data.decode()
    assert badge(html) == "0" and "暂无待办事项" in html
    add_tasks(org, 3)
    html = client.get("/?page=2").data.decode()
    assert badge(html) == "3" and "暂无待办事项" in html


def _member_case_tasks(org, tiers: str) -> dict[str, Task]:
    """One HQ pool task per tier letter, its case concerning a member of that tier, due in the
    letters' order (A at T0+20h, then +21h…)."""
    from tests.sales.builders import bulk_members
    from sqlalchemy import update

    from webapp.models import Member

    tasks = {}
    for i, tier in enumerate(tiers):
        (m,) = bulk_members(org.stores[0], 1)
        db.session.execute(update(Member).where(Member.id == m["id"]).values(tier=tier))
        (task,) = add_tasks(org, 1, start=20 + i)
        task.case.member_id, task.case.title = m["id"], f"会员{tier}{i}"
        tasks[f"{tier}{i}"] = task
    db.session.commit()
    return tasks


def test_the_tier_filter_keeps_one_tiers_members_tasks_in_deadline_order(org):
    hq = org["hq"]
    plain = add_tasks(org, 2)                           # no member: shown under "all" only
    made = _member_case_tasks(org, "ABCA")
    page = inbox.inbox_page(hq, tier="A")
    assert [r.id for r in page.rows] == [made["A0"].id, made["A3"].id]
    assert {r.tier for r in page.rows} == {"A"} and page.nav is None  # badges counted apart
    assert [r.title for r in inbox.inbox_tasks(hq, tier="B")] == ["会员B1"]
    everything = inbox.inbox_page(hq)
    assert [r.id for r in everything.rows] == reference_ids(hq)
    assert [r.tier for r in everything.rows] == [None, None, "A", "B", "C", "A"]
    assert plain[0].id in [r.id for r in everything.rows] and everything.nav["inbox"] == 6
    # kept per user, page and filter: a second call is the same statement object
    assert inbox.page_statement(hq, tier="C") is inbox.page_statement(hq, tier="C")
    assert inbox.page_statement(hq, tier="C") is not inbox.page_statement(hq)


def test_the_inbox_page_filters_by_tier_as_the_user_sees_it(org, login):
    _member_case_tasks(org, "ABC")
    add_tasks(org, 1)                                   # "待办000", no member
    client = login("hq")
    html = client.get("/").data.decode()
    assert all(t in html for t in ("会员A0", "会员B1", "会员C2", "待办000"))
    assert '<span class="tag tier">B级</span>' in html and badge(html) == "4"
    html = client.get("/?tier=B").data.decode()
    assert "会员B1" in html and not any(t in html for t in ("会员A0", "会员C2", "待办000"))
    assert 'aria-current="page">B级会员' in html and badge(html) == "4"  # the whole inbox's badge
    html = client.get("/?tier=Z").data.decode()         # unknown: the whole inbox
    assert "待办000" in html and 'aria-current="page">全部' in html
    client.get("/")  # nothing cached wrongly between filters
    html = client.get("/?tier=A&page=2").data.decode()
    assert "该级别会员暂无待办事项" in html
