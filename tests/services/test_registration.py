"""Registration service on the real database: encryption, look-up, duplicates, approval effects."""
from datetime import date, datetime, timezone

import pytest
import time_machine
from sqlalchemy import select, text

from tests.factories import member_data, register
from webapp.extensions import db
from webapp.models import Member, OutboxMessage
from webapp.services import registration
from webapp.services.cases import fire


def test_mobile_and_personal_data_are_not_stored_in_plain_text(org):
    case = register(org, mobile="13912345678", address="上海市静安区愚园路88号")
    raw = db.session.execute(text("SELECT mobile, address, mobile_hash FROM member WHERE id = :i"),
                             {"i": case.member_id}).one()
    assert "13912345678" not in raw.mobile and "愚园路" not in raw.address
    assert "13912345678" not in raw.mobile_hash
    assert case.member.mobile == "13912345678"  # decrypts transparently


@pytest.mark.commits  # reads the file: the rows must be committed
def test_database_file_holds_no_plain_mobile(org, app):
    register(org, mobile="13712345679")
    db.session.commit()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite"):
        pytest.skip("file check applies to the SQLite file")
    db.session.remove()
    db.engine.dispose()
    blob = open(url.removeprefix("sqlite:///"), "rb").read()
    assert b"13712345679" not in blob and "13712345679".encode("utf-16-le") not in blob


def test_lookup_by_mobile_uses_the_keyed_hash(org):
    case = register(org, mobile="13612345670")
    assert registration.find_by_mobile("+86 136 1234 5670").id == case.member_id
    assert registration.find_by_mobile("13612345671") is None


def test_same_mobile_is_refused_with_the_existing_member(org):
    first = register(org, mobile="13512345678")
    with pytest.raises(registration.DuplicateMember) as err:
        register(org, username="assoc3", mobile="135 1234 5678")
    assert err.value.member_id == first.member_id
    assert str(err.value) == "该手机号已登记为会员（所属门店：1号店），如有疑问请联系该门店。"
    db.session.rollback()
    assert db.session.scalar(select(db.func.count(Member.id))) == 1


@pytest.mark.parametrize("mobile", ["12345", "02112345678", "+1 415 555 2671", "1381234567a"])
def test_invalid_mobiles_are_refused(mobile):
    with pytest.raises(registration.InvalidMobile):
        registration.normalise_mobile(mobile)


def test_temporary_card_number_is_assigned(org):
    case = register(org)
    assert case.member.card_no == f"TS1{case.member_id:07d}"
    assert case.member.status == "pending"


def test_approval_activates_and_puts_the_welcome_sms_in_the_outbox(org):
    # approved on the day of application (a controlled clock: validity runs from approval)
    with time_machine.travel(datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc), tick=False):
        case = register(org, name="李雷", gender="M")
        fire(actor=org["hq"], case=case, transition="approve", version=case.version)
    member = db.session.get(Member, case.member_id)
    assert member.status == "active"
    assert member.card_expires_on == date(2027, 11, 20)
    [sms] = db.session.scalars(select(OutboxMessage)).all()
    assert sms.body.startswith("李先生，诚挚感谢您选择XX男装") and member.card_no in sms.body
    assert sms.recipient == member.mobile


def test_completion_records_which_fields_changed_not_their_values(org):
    case = register(org, address="")
    fire(actor=org["hq"], case=case, transition="send_back", version=case.version, comment="缺地址")
    data = member_data(org["assoc1"], mobile=case.member.mobile, address="杭州市西湖路2号")
    registration.complete(actor=org["assoc1"], case=case, data=data, version=case.version)
    assert case.state == "review"
    from webapp.models import AuditEvent
    last = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert last.data == {"changed": ["address"]}


def test_plain_mobiles_are_judged_like_phonenumbers_judges_them():
    """The per-range shortcut for 11-digit numbers gives phonenumbers' verdict and E.164 form."""
    import random

    from webapp.services.registration import InvalidMobile, _normalised, normalise_mobile

    def verdict(fn, raw):
        try:
            return fn(raw)
        except InvalidMobile as exc:
            return exc.message

    rng = random.Random(11)
    numbers = ["1" + "".join(rng.choice("0123456789") for _ in range(10)) for _ in range(3000)]
    numbers += ["+86" + n for n in numbers[:300]] + ["13800138000", "19912345678", "10012345678"]
    for raw in numbers:
        assert verdict(normalise_mobile, raw) == verdict(_normalised, raw), raw
