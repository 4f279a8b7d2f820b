"""Preferences split as the seed lists them (000 §二2, SPEC §3.9): sizes, styles, colours, plus
"other" (其他喜好, which also keeps the single text entered before the split). Entered on the
form, shown on the member page and the memorisation page, printed on the application form."""
from sqlalchemy import select, update

from tests.factories import form_fields, member_data
from tests.pdf.test_pdf import text_of
from tests.sales.builders import bulk_members
from webapp import pdf
from webapp.extensions import db
from webapp.models import Member
from webapp.services.members import form_context

SPLIT = {"pref_sizes": "上衣XL，裤腰32", "pref_styles": "商务休闲、修身西装",
         "pref_colours": "藏青、深灰", "preferences": "不喜欢亮片"}


def _register(org, login, **overrides):
    client = login("assoc1")
    data = form_fields(member_data(org["assoc1"], **(SPLIT | overrides)))
    response = client.post("/members/new", data=data)
    assert response.status_code == 302, response.data.decode()
    return client, db.session.scalars(select(Member)).one()


def test_form_saves_each_part_and_the_member_page_shows_them(org, login):
    client, member = _register(org, login)
    assert (member.pref_sizes, member.pref_styles, member.pref_colours, member.preferences) == (
        "上衣XL，裤腰32", "商务休闲、修身西装", "藏青、深灰", "不喜欢亮片")
    page = client.get(f"/members/{member.id}").data.decode()
    for label, value in (("尺码", "上衣XL，裤腰32"), ("款式", "商务休闲、修身西装"),
                         ("颜色", "藏青、深灰"), ("其他喜好", "不喜欢亮片")):
        assert f"<th>{label}</th><td>{value}</td>" in page


def test_the_form_offers_the_three_fields(org, login):
    page = login("assoc1").get("/members/new").data.decode()
    for name in ("pref_sizes", "pref_styles", "pref_colours", "preferences"):
        assert f'name="{name}"' in page


def test_too_long_size_is_refused_and_nothing_saved(org, login):
    data = form_fields(member_data(org["assoc1"], pref_sizes="X" * 101))
    response = login("assoc1").post("/members/new", data=data)
    assert response.status_code == 422
    assert db.session.scalars(select(Member)).first() is None


def test_application_form_prints_each_part(org, login):
    _client, member = _register(org, login)
    text = text_of(pdf.render_pdf("application_form.html", forms=[form_context(member)]))
    assert len(text) == 1  # still one page
    flat = text[0].replace(" ", "").replace("\n", "")
    for label, value in (("尺码", "上衣XL，裤腰32"), ("款式", "商务休闲、修身西装"),
                         ("颜色", "藏青、深灰"), ("其他喜好", "不喜欢亮片")):
        assert label in flat and value in flat, (label, flat)


def test_blank_paper_form_has_the_three_boxes():
    text = text_of(pdf.render_pdf("application_form.html", forms=[{}]))[0]
    for label in ("尺码", "款式", "颜色", "其他喜好"):
        assert label in text


def test_memorisation_page_reads_the_parts(org, login):
    bulk_members(org.stores[0], 1)
    # a member from before the split: the single text shows as "other"
    db.session.execute(update(Member).values(associate_id=org["assoc1"].id,
                                             preferences="西装175/92A，喜欢深色"))
    db.session.commit()
    page = login("assoc1").get("/care/profiles").data.decode()
    assert "其他喜好：西装175/92A，喜欢深色" in page and "尺码：" not in page
    db.session.execute(update(Member).values(pref_sizes="XL", pref_colours="藏青"))
    db.session.commit()
    page = login("assoc1").get("/care/profiles").data.decode()
    assert "尺码：XL" in page and "颜色：藏青" in page and "款式：" not in page
