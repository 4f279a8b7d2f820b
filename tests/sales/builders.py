"""Builders for sales tests: members in bulk, till files, API calls."""
from __future__ import annotations

import csv
import io
from datetime import date
from itertools import count

from sqlalchemy import insert

from webapp.crypto import lookup_hash
from webapp.extensions import db
from webapp.models import Member

HEADER = ["门店编码", "销售单号", "销售时间", "会员卡号", "会员手机", "金额", "件数", "导购", "原单号",
          "品类"]
KEYS = ["store_code", "sale_no", "sold_at", "member_card", "member_mobile", "amount", "items",
        "associate", "return_of", "category"]
_serial = count(1)


def bulk_members(store, n: int, *, gender="M", birth_year=1990, applied_on=date(2020, 1, 1),
                 expires=date(2099, 12, 31), status="active") -> list[dict]:
    """Insert n members of a store directly (fast); returns their id, card number and mobile."""
    rows = []
    for _ in range(n):
        i = next(_serial)
        mobile = f"139{i:08d}"
        rows.append({"card_no": f"C{i:08d}", "card_type": "temporary", "status": status,
                     "store_id": store.id, "name": f"会员{i}", "gender": gender,
                     "birth_year": birth_year, "mobile": mobile,
                     "mobile_hash": lookup_hash("+86" + mobile), "mobile_last4": mobile[-4:],
                     "occupation": "",
                     "preferences": "", "heard_from": "", "applied_on": applied_on, "points": 0,
                     "tier": "C", "card_expires_on": expires})
    db.session.execute(insert(Member), rows)
    db.session.commit()
    cards = [r["card_no"] for r in rows]
    ids = dict(db.session.execute(db.select(Member.card_no, Member.id).where(Member.card_no.in_(cards))).all())
    return [{"id": ids[r["card_no"]], "card_no": r["card_no"], "mobile": r["mobile"]} for r in rows]


def sale(store_code: str, sale_no: str, sold_at: str, amount: str, items: int = 1, *,
         card: str = "", mobile: str = "", associate: str = "", return_of: str = "",
         category: str = "") -> dict:
    return {"store_code": store_code, "sale_no": sale_no, "sold_at": sold_at, "member_card": card,
            "member_mobile": mobile, "amount": amount, "items": items, "associate": associate,
            "return_of": return_of, "category": category}


def csv_file(sales: list[dict]) -> bytes:
    """A till export as the stores' tills write it (UTF-8 with BOM, Chinese headers)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for s in sales:
        writer.writerow([s.get(k, "") for k in KEYS])
    return ("\ufeff" + out.getvalue()).encode()


def xlsx_file(sales: list[dict]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for s in sales:
        sheet.append([s.get(k, "") for k in KEYS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def import_sales(actor, sales: list[dict]):
    """Load sales through the file import, as an HQ user would (check, then write)."""
    from webapp.services import sales_import

    return sales_import.import_file(actor=actor, data=csv_file(sales), filename="till.csv")


def post_sales(client, secret: str, sales: list[dict]):
    """Load sales through the till API in batches of 1,000."""
    last = None
    for i in range(0, len(sales), 1000):
        last = client.post("/api/v1/sales", json={"sales": sales[i:i + 1000]},
                           headers={"Authorization": f"Bearer {secret}"})
        assert last.status_code == 200, last.get_json()
    return last


def run_import_jobs() -> None:
    """A real worker (in this process, burst): reads the queued uploads (in its child processes)."""
    from rq import SimpleWorker

    from webapp.queue import queue

    SimpleWorker([queue()], connection=queue().connection).work(burst=True)


def upload_page(client, data: bytes, name: str = "till.csv"):
    """Upload a till file through the page, let the worker read it, return the preview page."""
    response = client.post("/sales/import", data={"file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    if response.status_code != 303:
        return response  # refused on its name or size, before any job
    run_import_jobs()
    return client.get(response.headers["Location"])


def preview_file(actor, data: bytes, name: str = "till.csv"):
    """The service path of the page: upload, the worker's read, the preview."""
    from webapp.services import sales_import

    token = sales_import.upload(actor=actor, data=data, filename=name)
    run_import_jobs()
    return sales_import.preview(actor=actor, token=token)
