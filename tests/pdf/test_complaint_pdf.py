"""The complaint handling forms print as PDFs with the right title, stages and filing note."""
import io
import subprocess

from pypdf import PdfReader

from tests.complaint_helpers import record, step
from webapp.services.complaint_forms import complaint_pdf


def text_of(data: bytes) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def test_store_variant_and_direct_variant(org, tmp_path):
    store_case = record(org, username="assoc1", kind="store", name="钱女士")
    direct_case = record(org, name="孙先生")
    step(org, direct_case, "reply", reply_text="已致电道歉")
    data = complaint_pdf([store_case.complaint, direct_case.complaint])
    text = text_of(data)
    assert len(PdfReader(io.BytesIO(data)).pages) == 2
    assert text.count("顾客投诉意见处理表") == 2 and text.count("(客服部用)") == 1
    assert "门店/区域填写,提交客服部" in text and "客服部存档" in text
    assert "已致电道歉" in text and "钱女士" in text
    path = tmp_path / "c.pdf"
    path.write_bytes(data)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(" yes " in row for row in rows)
