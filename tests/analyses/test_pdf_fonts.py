"""Analysis PDFs set every character, chart labels included, in the product's Simplified Chinese
font (the GB2312 subset, falling back to the full Noto Sans CJK SC): no JP glyphs, no DejaVu."""
import io

import pytest
from pypdf import PdfReader

from tests.analyses.test_xlsx import october  # noqa: F401 - the fixture


def _fonts(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            names.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    return names


@pytest.mark.parametrize("kind", ["consumption", "churn"])
def test_analysis_pdf_uses_only_the_products_chinese_font(october, login, kind):
    pdf = login("hq").get(f"/analyses/{kind}.pdf?scope=store:{october.stores[0].id}&period=2026-10").data
    fonts = _fonts(pdf)
    assert "CRM-Sans-GB" in fonts
    assert fonts <= {"CRM-Sans-GB", "Noto-Sans-CJK-SC"}, fonts
