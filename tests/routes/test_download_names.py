"""Every download carries an ASCII filename that means something, beside its Chinese `filename*`:
a client that ignores `filename*` would otherwise save "--2026-10.pdf"."""
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.factories import register
from webapp.extensions import db
from webapp.models import BatchJob


def names(response) -> tuple[str, str]:
    header = response.headers["Content-Disposition"]
    plain = header.split('filename="')[1].split('"')[0]
    return plain, header.split("filename*=UTF-8''")[1]


def test_application_form_and_day_batch(org, login, app):
    case = register(org)
    client = login("hq")
    response = client.get(f"/members/{case.member_id}/application.pdf?download=1")
    card = case.member.card_no
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert names(response) == (f"application-{card}.pdf", quote(f"入会申请表-{card}.pdf"))
    path = Path(app.instance_path) / "batches" / "names.pdf"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"%PDF-1.4\n%%EOF\n")
    batch = BatchJob(kind="application_forms", requested_by_id=org["hq"].id, total=1,
                     params={"day": "2026-10-30"}, status="done", file_path=str(path))
    db.session.add(batch)
    db.session.commit()
    response = client.get(f"/batches/{batch.id}/download")
    assert names(response) == ("application-forms-2026-10-30.pdf",
                               quote("入会申请表-2026-10-30.pdf"))


@pytest.mark.parametrize("url,plain", [
    ("/complaints/compliance?scope=company&month=2026-10&format=xlsx",
     "complaint-compliance-2026-10.xlsx"),
    ("/analyses/consumption.xlsx?scope=company&period=2026-10",
     "analysis-consumption-company-2026-10.xlsx"),
])
def test_spreadsheets(org, login, url, plain):
    response = login("hq").get(url)
    assert response.status_code == 200
    assert names(response)[0] == plain


def test_the_inputs_card_of_an_analysis_is_not_called_an_export(org, login):
    page = login("hq").get("/analyses/consumption?scope=company&period=2026-10").data.decode()
    assert "计算所用数据" in page and "导出数据" not in page
