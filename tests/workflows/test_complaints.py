"""Complaint processes: the limits, escalation, consent before carrying out, store path, reopening."""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from tests.complaint_helpers import new, record, step
from webapp.extensions import db
from webapp.models import Case, Complaint, OutboxMessage, Role, Task
from webapp.services import complaints
from webapp.workflows import engine

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai


def open_task(case):
    return db.session.scalars(select(Task).where(Task.case_id == case.id, Task.status == "open")).one()


def test_clocks_run_from_receipt(org):
    received = T0 - timedelta(hours=3)
    case = record(org, now=T0, received_at=received)
    c = case.complaint
    assert c.reply_due_at == received + timedelta(hours=24)
    assert c.solution_due_at == received + timedelta(hours=48)
    task = open_task(case)
    assert (task.name, task.role, task.due_at) == ("reply", Role.HQ_SPECIALIST, c.reply_due_at)
    assert task.escalate_to == Role.HQ_MANAGER


def test_full_direct_path_with_escalation(org):
    with time_machine.travel(T0, tick=False):
        case = record(org, now=T0)
        step(org, case, "reply", reply_text="已收到,正在核实")
        agreed = T0 + timedelta(hours=30)
        step(org, case, "escalate", agreed_reply_at=agreed)
        assert case.state == "escalated" and open_task(case).role == Role.HQ_MANAGER
        with pytest.raises(engine.NotAllowed):
            step(org, case, "propose", solution_text="退货", username="hq")
        step(org, case, "propose", username="hq_manager", solution_text="全额退款并赠送洗衣券")
        with pytest.raises(engine.WorkflowError):  # not before the customer agreed
            step(org, case, "carry_out")
        step(org, case, "consent", consent_by="赵先生", consent_how="phone")
        step(org, case, "carry_out")
        c = case.complaint
        assert c.revisit_due_at == T0 + timedelta(days=7)
        step(org, case, "revisit", revisit_note="顾客已收到退款")
        step(org, case, "survey", survey_score=4, survey_comment="处理及时")
    assert case.state == "filed" and c.filed_at == T0 and not c.breaches(T0)
    bodies = [m.body for m in db.session.scalars(select(OutboxMessage))]
    assert any("已收到,正在核实" in b for b in bodies)
    assert any("您同意的解决方案我们已经办理完毕" in b for b in bodies)


def test_carry_out_is_unreachable_without_consent(org):
    case = record(org)
    step(org, case, "reply", reply_text="收到")
    step(org, case, "propose", solution_text="换货")
    assert "carry_out" not in [t.name for t in engine.allowed_transitions(org["hq"], case)]
    with pytest.raises(engine.Conflict):
        step(org, case, "carry_out")
    step(org, case, "reject")  # the customer said no: back to a new proposal
    assert case.state == "replied" and case.complaint.consent_at is None


def test_escalating_before_reply_needs_the_agreed_time_which_becomes_the_answers_deadline(org):
    with time_machine.travel(T0, tick=False):
        case = record(org, now=T0, received_at=T0)
        with pytest.raises(engine.WorkflowError, match="约定的回复时间"):
            step(org, case, "escalate")
        agreed = T0 + timedelta(hours=36)
        step(org, case, "escalate", agreed_reply_at=agreed)
    c = case.complaint
    assert c.reply_due_at == T0 + timedelta(hours=24)  # the 24 h limit itself does not move
    assert c.contacted_at == T0 and not c.reply_late  # agreeing the time met it
    assert open_task(case).due_at == agreed and open_task(case).remind_at == agreed - timedelta(hours=4)


def test_escalating_after_24h_leaves_the_reply_breach_standing(org):
    """Issue #9.1: escalated at +30 h, reply time agreed for +40 h, answered at +35 h."""
    case = record(org, now=T0, received_at=T0)
    with time_machine.travel(T0 + timedelta(hours=30), tick=False):
        step(org, case, "escalate", agreed_reply_at=T0 + timedelta(hours=40))
        assert case.complaint.open_breaches() == []
        assert case.complaint.breaches() == ["reply"]
    with time_machine.travel(T0 + timedelta(hours=35), tick=False):
        step(org, case, "propose", username="hq_manager", solution_text="全额退款")
    c = case.complaint
    assert c.reply_late and c.breaches(T0 + timedelta(hours=35)) == ["reply"]


def test_the_promised_answer_has_its_own_breach(org):
    case = record(org, now=T0, received_at=T0)
    with time_machine.travel(T0 + timedelta(hours=10), tick=False):
        step(org, case, "escalate", agreed_reply_at=T0 + timedelta(hours=20))
    assert case.complaint.open_breaches(T0 + timedelta(hours=21)) == ["promise"]
    with time_machine.travel(T0 + timedelta(hours=22), tick=False):
        step(org, case, "propose", username="hq_manager", solution_text="全额退款")
    assert case.complaint.breaches(T0 + timedelta(hours=22)) == ["promise"]


def test_the_48h_limit_is_met_when_the_solution_is_put_to_the_customer(org):
    """Issue #9.2: proposed at +10 h, the customer agreed at +50 h: on time."""
    case = record(org, now=T0, received_at=T0)
    with time_machine.travel(T0 + timedelta(hours=10), tick=False):
        step(org, case, "reply", reply_text="收到")
        step(org, case, "propose", solution_text="换货")
        assert open_task(case).escalate_to is None  # the customer's time: no escalation
    with time_machine.travel(T0 + timedelta(hours=50), tick=False):
        step(org, case, "consent", consent_by="赵先生", consent_how="phone")
        assert open_task(case).due_at == T0 + timedelta(hours=74)  # carrying out: 24 h from consent
        step(org, case, "carry_out")
    c = case.complaint
    assert not c.solution_late and c.breaches(T0 + timedelta(hours=50)) == []


def test_a_late_proposal_and_a_late_carrying_out_are_breaches(org):
    case = record(org, now=T0, received_at=T0)
    with time_machine.travel(T0 + timedelta(hours=49), tick=False):
        step(org, case, "reply", reply_text="收到")
        assert case.complaint.open_breaches() == ["solution"]
        step(org, case, "propose", solution_text="换货")
        step(org, case, "consent", consent_by="赵先生", consent_how="phone")
    with time_machine.travel(T0 + timedelta(hours=49 + 25), tick=False):
        assert case.complaint.open_breaches() == ["carry_out"]
        step(org, case, "carry_out")
    assert case.complaint.breaches(T0 + timedelta(hours=75)) == ["reply", "solution", "carry_out"]


def test_consent_cannot_be_dated_before_the_proposal(org):
    with time_machine.travel(T0, tick=False):
        case = record(org, now=T0)
        step(org, case, "reply", reply_text="收到")
        step(org, case, "propose", solution_text="换货")
        with pytest.raises(engine.WorkflowError, match="早于提出方案"):
            step(org, case, "consent", consent_by="赵先生", consent_how="phone",
                 consent_at=T0 - timedelta(hours=1))
    assert case.state == "proposed" and case.complaint.consent_at is None


def test_received_at_in_the_future_is_refused(org):
    with pytest.raises(complaints.Invalid, match="受理时间"):
        record(org, now=T0, received_at=T0 + timedelta(hours=2))


def test_late_reply_stays_a_breach_after_it_is_done(org):
    case = record(org, now=T0, received_at=T0)
    with time_machine.travel(T0 + timedelta(hours=30), tick=False):
        assert case.complaint.open_breaches() == ["reply"]
        step(org, case, "reply", reply_text="抱歉回复晚了")
        assert case.complaint.open_breaches() == []
        assert case.complaint.breaches() == ["reply"]


def test_store_complaint_goes_through_the_store_then_hq(org):
    case = record(org, username="assoc1", kind="store", channel="in_store")
    assert case.process == "complaint_store"
    task = open_task(case)
    assert (task.role, task.escalate_to, task.escalate_also) == (
        Role.STORE_MANAGER, Role.AREA_SUPERVISOR, Role.HQ_SPECIALIST)
    step(org, case, "reply", username="manager1", reply_text="店长已致电道歉")
    step(org, case, "propose", username="supervisor1", solution_text="免费修改裤长")
    step(org, case, "consent", username="assoc1", consent_by="赵先生", consent_how="in_person")
    step(org, case, "carry_out", username="manager1")
    with pytest.raises(engine.NotAllowed):
        step(org, case, "revisit", username="manager1", revisit_note="x")
    with pytest.raises(engine.WorkflowError, match="请填写门店处理情况"):
        step(org, case, "submit", username="manager1")
    step(org, case, "submit", username="manager1", store_handling="店长当面致歉，已修改裤长",
         area_opinion="处理得当")
    assert open_task(case).role == Role.HQ_SPECIALIST
    step(org, case, "revisit", revisit_note="顾客满意")
    step(org, case, "survey", survey_score=5)
    assert case.state == "filed"


def test_other_area_cannot_act_on_a_store_complaint(org):
    case = record(org, username="assoc1", kind="store")
    for username in ("assoc3", "manager3", "supervisor2"):
        with pytest.raises(engine.NotAllowed):
            step(org, case, "reply", username=username, reply_text="x")


def test_reopen_with_reason_needs_a_new_solution(org):
    case = record(org)
    for name, data in (("reply", {"reply_text": "收到"}), ("propose", {"solution_text": "退款"}),
                       ("consent", {"consent_by": "赵", "consent_how": "phone"}), ("carry_out", {}),
                       ("revisit", {"revisit_note": "好"}), ("survey", {"survey_score": 2})):
        step(org, case, name, **data)
    with pytest.raises(engine.WorkflowError, match="意见"):
        step(org, case, "reopen")
    step(org, case, "reopen", comment="顾客来电表示退款未到账")
    c = case.complaint
    assert case.state == "replied" and c.solved_at is None and c.filed_at is None


@pytest.mark.parametrize("field,overrides,message", [
    ("contact", {"contact": ""}, "联系方式"),
    ("store_id", {"store": None}, "门店"),
    ("description", {"description": "   "}, "投诉内容"),
    ("customer_name", {"contact": "someone@example.com", "name": ""}, "非会员顾客请填写姓名"),
])
def test_bad_input_is_refused_and_nothing_saved(org, field, overrides, message):
    with pytest.raises(complaints.Invalid) as err:
        record(org, **overrides)
    assert message in err.value.errors[field]
    assert db.session.scalar(select(db.func.count(Complaint.id))) == 0
    assert db.session.scalar(select(db.func.count(Case.id))) == 0


def test_unknown_store_and_store_outside_scope(org):
    bad = new(org)
    bad.store_id = 9999
    with pytest.raises(complaints.Invalid, match="门店"):
        complaints.record(actor=org["hq"], new=bad)
    with pytest.raises(complaints.Invalid, match="范围"):
        record(org, username="assoc1", kind="store", store=2)


def test_member_is_found_by_mobile(org):
    from tests.factories import register
    member_case = register(org, mobile="13700002222", name="钱会员")
    case = record(org, contact="137 0000 2222", name="")
    assert case.complaint.member_id == member_case.member_id
    assert case.complaint.customer_name == "钱会员"


def test_declarations_are_consistent():
    for process in (engine.get_process("complaint_direct"), engine.get_process("complaint_store")):
        states = set(process.states)
        for t in process.transitions:
            assert set(t.source) <= states and t.target in states, t.name
        assert set(process.tasks) <= states


def test_escalated_after_reply_the_manager_has_until_the_solution_limit(org):
    case = record(org)
    step(org, case, "reply", reply_text="收到")
    step(org, case, "escalate", agreed_reply_at=case.complaint.received_at + timedelta(hours=5))
    assert open_task(case).due_at == case.complaint.solution_due_at
    assert case.complaint.agreed_reply_at is None  # answered already: no reply time to agree


def test_reply_sms_greets_once_and_speaks_to_the_customer(org):
    case = record(org, name="王喆")
    step(org, case, "reply", reply_text="王先生您好，我们已核实，衬衫可以换货")
    body = db.session.scalars(select(OutboxMessage)).one().body
    assert body.startswith("王喆您好，") and body.count("您好") == 1
    assert "衬衫可以换货。" in body and "," not in body and ":" not in body


def test_a_store_complaint_is_the_store_and_the_areas_from_the_start(org):
    """Issue #9.3 (004 §6.2.2 "由门店和区域处理"): the associate who recorded it, the store
    manager and the area supervisor have it in their inbox before any breach; HQ does not."""
    from webapp.services import inbox

    case = record(org, username="assoc1", kind="store", now=T0, received_at=T0)

    def holders():
        return {name for name in ("assoc1", "assoc1b", "manager1", "supervisor1", "supervisor2", "hq")
                if case.id in [t.case_id for t in inbox.inbox_tasks(org[name])]}

    assert holders() == {"assoc1", "manager1", "supervisor1"}
    step(org, case, "reply", username="supervisor1", reply_text="区域主管已致电道歉")
    assert holders() == {"assoc1", "manager1", "supervisor1"}
