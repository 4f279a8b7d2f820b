"""The complaint forms' missing parts (seed 004 §6.2.1 principles 2, 4, 5; §6.2.2): the cause,
the solution as explained to the customer, the CS manager's decision, the carry-out note, the
store's handling, the area supervisor's opinion and HQ's revisitor — recorded and printed; fax
is a channel."""
import io

import pytest
from pypdf import PdfReader

from tests.complaint_helpers import record, step
from webapp.services.complaint_forms import complaint_pdf
from webapp.workflows import engine


def text_of(data: bytes) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages).replace(" ", "")


def test_direct_complaint_records_and_prints_every_part(org):
    case = record(org, name="孙先生", channel="fax")
    step(org, case, "escalate", agreed_reply_at="2100-01-01T10:00:00+00:00")
    with pytest.raises(engine.WorkflowError, match="请填写客服经理的决定"):
        step(org, case, "hand_back", username="hq_manager")
    step(org, case, "hand_back", username="hq_manager", manager_decision="同意全额退款，由专员办理")
    step(org, case, "propose", solution_text="全额退款", cause="面料起球，顾客认为以次充好",
         solution_steps="顾客寄回商品，收到后原路退款", solution_time="5个工作日",
         solution_effect="款项退回顾客原支付账户")
    step(org, case, "consent", consent_by="孙先生", consent_how="phone")
    step(org, case, "carry_out", carry_out_note="已退款598元，财务单号R123")
    step(org, case, "revisit", username="hq_manager", revisit_note="顾客确认已收到退款")
    c = case.complaint
    assert (c.channel, c.cause, c.manager_decision, c.carry_out_note, c.revisited_by.username) == (
        "fax", "面料起球，顾客认为以次充好", "同意全额退款，由专员办理", "已退款598元，财务单号R123",
        "hq_manager")
    data = complaint_pdf(reader=org["hq"], complaints=[c])
    text = text_of(data)
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    for printed in ("传真", "不满原因", "面料起球", "顾客寄回商品", "5个工作日", "款项退回顾客原支付账户",
                    "客服经理决定", "同意全额退款", "执行情况", "财务单号R123", "回访人", "hq_manager名"):
        assert printed in text, printed


def test_store_complaint_prints_store_handling_and_area_opinion(org):
    case = record(org, username="assoc1", kind="store", channel="in_store")
    step(org, case, "reply", username="manager1", reply_text="店长已致电道歉")
    step(org, case, "propose", username="supervisor1", solution_text="免费修改裤长", cause="裤长不合适")
    step(org, case, "consent", username="assoc1", consent_by="赵先生", consent_how="in_person")
    step(org, case, "carry_out", username="manager1")
    step(org, case, "submit", username="supervisor1", store_handling="当天改好裤长并送到顾客单位",
         area_opinion="处理及时，同意")
    step(org, case, "revisit", revisit_note="顾客满意")
    data = complaint_pdf(reader=org["hq"], complaints=[case.complaint])
    text = text_of(data)
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    for printed in ("门店处理情况", "当天改好裤长", "区域主管意见", "处理及时，同意", "回访人", "hq名",
                    "裤长不合适"):
        assert printed in text, printed
    assert "客服经理决定" not in text


def test_fax_is_offered_where_the_channel_is_chosen(org, login):
    page = login("hq").get("/complaints/new/direct").get_data(as_text=True)
    assert 'value="fax"' in page and "传真" in page
