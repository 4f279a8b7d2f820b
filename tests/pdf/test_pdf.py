"""PDF printing of 《入会申请表》 (webapp/pdf.py + pdf_templates/ + scripts/build_fonts.py).

Run: cd /work/main && PYTHONPATH=. .venv/bin/python -m pytest tests/pdf -q
The first run builds the GB2312 font subset into instance/fonts (~10 s).
"""
from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from webapp import pdf

RARE_NAME = "王喆堃镕\U00020BB7"  # 喆 堃 镕 are outside GB2312, U+20BB7 (𠮷) is astral


def sample_form(**overrides) -> dict:
    form = {
        "brand": "衣尚",
        "store_name": "上海南京西路旗舰店",
        "associate_name": "李晓燕",
        "applied_on": "2024-05-12",
        "name": "张雨涵",
        "gender": "女",
        "birth_date": "1992-08-17",
        "mobile": "13812345678",
        "address": "上海市静安区南京西路1266号恒隆广场2座1805室",
        "work_address": "上海市浦东新区世纪大道100号环球金融中心36楼",
        "email": "zhang.yuhan@example.com",
        "occupation": "市场经理",
        "anniversary": "结婚纪念日 10-01；相识纪念日 05-20",
        "preferences": "偏好简约通勤风格，常穿M码；喜欢真丝衬衫、羊毛大衣。",
        "heard_from": "朋友推荐",
        "card_no": "SH0120240512007",
        "hotline": "400-820-1234",
        "points_threshold": 2000,
    }
    form.update(overrides)
    return form


@pytest.fixture(scope="module", autouse=True)
def fonts():
    return pdf.ensure_fonts()


def text_of(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def pdffonts(data: bytes, tmp_path) -> list[dict]:
    exe = shutil.which("pdffonts")
    if exe is None:
        pytest.skip("pdffonts (poppler-utils) not installed")
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    out = subprocess.run([exe, str(path)], check=True, capture_output=True,
                         text=True).stdout
    rows = []
    for line in out.splitlines()[2:]:  # header + dashes
        tokens = line.split()
        if len(tokens) < 6:
            continue
        # name ... type ... encoding | emb sub uni | object ID (2 tokens)
        rows.append({"name": tokens[0], "emb": tokens[-5], "sub": tokens[-4],
                     "uni": tokens[-3]})
    return rows


def test_render_one_form():
    form = sample_form()
    data = pdf.render_pdf("application_form.html", forms=[form])
    assert data.startswith(b"%PDF")
    pages = text_of(data)
    assert len(pages) == 1
    text = pages[0]
    assert "入会申请表" in text
    assert "衣尚" in text
    assert "临时会员卡" in text
    assert "沿此线剪下" in text
    assert form["name"] in text
    assert form["card_no"] in text
    assert form["mobile"] in text
    assert form["hotline"] in text
    assert "累计积分满2000分可升级为正式会员" in text
    assert "客户签名" in text
    assert "导购填写，客户签名除外" in text


def test_fonts_are_embedded_and_subset_is_used(tmp_path):
    data = pdf.render_pdf("application_form.html", forms=[sample_form()])
    fonts = pdffonts(data, tmp_path)
    assert fonts, "no font in the PDF"
    assert all(f["emb"] == "yes" for f in fonts), fonts
    # A GB2312-only form must only need the fast subset font.
    names = [f["name"].split("+", 1)[-1] for f in fonts]
    assert names == ["CRM-Sans-GB"], names


def test_name_outside_gb2312_prints(tmp_path):
    form = sample_form(name=RARE_NAME)
    data = pdf.render_pdf("application_form.html", forms=[form])
    text = text_of(data)[0]
    if RARE_NAME not in text:  # pypdf may mangle astral characters: ask poppler
        exe = shutil.which("pdftotext")
        assert exe, text
        path = tmp_path / "rare.pdf"
        path.write_bytes(data)
        text = subprocess.run([exe, "-layout", str(path), "-"], check=True,
                              capture_output=True, text=True).stdout
    assert text.count(RARE_NAME) == 2  # form + card
    fonts = pdffonts(data, tmp_path)
    assert all(f["emb"] == "yes" for f in fonts), fonts
    names = {f["name"].split("+", 1)[-1] for f in fonts}
    # 喆 堃 镕 𠮷 come from the full system font (CSS fallback), no tofu.
    assert names == {"CRM-Sans-GB", "Noto-Sans-CJK-SC"}, names


def test_batch_of_three_is_three_pages(tmp_path):
    forms = [sample_form(name=name, card_no=f"SH01202405120{i:02d}")
             for i, name in enumerate(["张雨涵", "刘洋", RARE_NAME])]
    calls = []
    data = pdf.render_many("application_form.html", forms, chunk=2,
                           progress=lambda done, total: calls.append((done, total)))
    assert data.startswith(b"%PDF")
    pages = text_of(data)
    assert len(pages) == 3
    for page, form in zip(pages, forms):
        assert form["card_no"] in page
        assert "入会申请表" in page
    assert calls == [(2, 3), (3, 3)]
    # Chunks are written as one document: each font embedded once.
    fonts = pdffonts(data, tmp_path)
    names = [f["name"].split("+", 1)[-1] for f in fonts]
    assert sorted(names) == ["CRM-Sans-GB", "Noto-Sans-CJK-SC"], names
    assert all(f["emb"] == "yes" for f in fonts), fonts


def test_values_are_escaped():
    data = pdf.render_pdf("application_form.html",
                          forms=[sample_form(occupation="<b>设计师</b> & 买手")])
    assert "<b>设计师</b> & 买手" in text_of(data)[0]


def test_gender_is_ticked():
    html = pdf.render_html("application_form.html", forms=[sample_form(gender="男")])
    assert '<span class="box">✓</span>男' in html
    assert '<span class="box">&nbsp;</span>女' in html


def test_font_subset_covers_gb2312_and_is_up_to_date(fonts):
    from fontTools.ttLib import TTFont

    builder = pdf._load_builder()
    assert builder.is_up_to_date(pdf.FONT_DIR)
    assert builder.build(pdf.FONT_DIR, verbose=False) is False  # idempotent
    cmap = TTFont(str(fonts), lazy=True).getBestCmap()
    missing = [c for c in builder.gb2312_chars() if ord(c) not in cmap]
    assert not missing
    assert len(builder.gb2312_chars()) == 7445
    for ch in " ~，。：；（）“”、《》·—…０Ａａ✂✓":
        assert ord(ch) in cmap, ch
    for ch in "喆堃镕\U00020BB7":
        assert ord(ch) not in cmap  # must come from the fallback font
