"""Import of till exports (CSV or xlsx): read, preview with per-row errors, then write all or nothing.

The uploaded file is kept under instance/sales_imports/ between the preview and the confirmation,
named by a random token and the uploader's id, so only the uploader can confirm it; it is checked
again on confirmation (the data may have changed) and deleted once written.
"""
from __future__ import annotations

import csv
import io
import re
import secrets
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from ..models import User
from . import sales
from ..i18n_labels import say as _

# (key, Chinese header as the tills export it, English header also accepted, required)
COLUMNS = (
    ("store_code", "门店编码", "store_code", True),
    ("sale_no", "销售单号", "sale_no", True),
    ("sold_at", "销售时间", "sold_at", True),
    ("member_card", "会员卡号", "member_card", False),
    ("member_mobile", "会员手机", "member_mobile", False),
    ("amount", "金额", "amount", True),
    ("items", "件数", "items", True),
    ("associate", "导购", "associate", False),
    ("return_of", "原单号", "return_of", False),
    ("category", "品类", "category", False),  # what was bought (the day-3 call names it)
)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_ROWS = 200_000
MAX_BYTES = 50 * 1024 * 1024
MAX_LINES = MAX_ROWS + 10_000  # lines read, empty ones included
MAX_COLUMNS = 64  # columns read per line (the import knows a dozen)
MAX_UNPACKED = 200 * 1024 * 1024  # an xlsx's unpacked size
MAX_SECONDS = 60  # reading the file
KINDS = {".csv": "csv", ".xlsx": "xlsx"}


class ImportFileError(ValueError):
    """The file as a whole cannot be read (wrong type, no header, too large)."""


@dataclass
class Preview:
    token: str
    filename: str
    rows: int
    checked: sales.Checked
    sample: list[dict]


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "sales_imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def read_rows(data: bytes, filename: str) -> list[dict]:
    """Rows as dicts keyed by column key, each with its spreadsheet line number in `_line`."""
    kind = KINDS.get(Path(filename or "").suffix.lower())
    if kind is None:
        raise ImportFileError(_("只支持 .csv 或 .xlsx 文件"))
    if len(data) > MAX_BYTES:
        raise ImportFileError(_("文件太大(最大50MB)"))
    table = _csv_table(data) if kind == "csv" else _xlsx_table(data)
    header = next(table, None)
    if not header:
        raise ImportFileError(_("文件是空的"))
    index = _header_index(header)
    rows, started = [], time.monotonic()
    for line, cells in enumerate(table, start=2):
        # Hard limits, whatever the file declares: lines (empty ones too: a sheet can claim a
        # million), and time; columns and unpacked size are bounded in _xlsx_table.
        if line > MAX_LINES:
            raise ImportFileError(_("文件行数过多（最多 %(n)s 行，含空行）", n=MAX_LINES))
        if line % 1000 == 0 and time.monotonic() - started > MAX_SECONDS:
            raise ImportFileError(_("文件过于复杂，%(n)s 秒内未能读完，请删去多余的行列后重试",
                                    n=MAX_SECONDS))
        if not any(c not in (None, "") for c in cells):
            continue
        row = {key: (cells[i] if i < len(cells) else None) for key, i in index.items()}
        row["_line"] = line
        rows.append(row)
        if len(rows) > MAX_ROWS:
            raise ImportFileError(_("一次最多导入 %(n)s 行", n=MAX_ROWS))
    return rows


def _header_index(header) -> dict[str, int]:
    names = [str(h or "").strip() for h in header]
    index, missing = {}, []
    for key, zh, en, required in COLUMNS:
        for i, name in enumerate(names):
            if name in (zh, en):
                index[key] = i
                break
        else:
            if required:
                missing.append(zh)
    if missing:
        raise ImportFileError(_("缺少列:%(cols)s", cols="、".join(missing)))
    return index


def _csv_table(data: bytes):
    for encoding in ("utf-8-sig", "gb18030"):  # Excel on Chinese Windows saves CSV as GBK
        try:
            text_data = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError(_("无法识别文件编码,请另存为 UTF-8 CSV"))
    return _csv_rows(csv.reader(io.StringIO(text_data)))


def _csv_rows(reader):
    """The reader's rows; a line csv cannot read (a field over its limit) is a clear refusal."""
    try:
        yield from reader
    except csv.Error:
        raise ImportFileError(_("第 %(line)s 行无法读取：单元格过长或引号不配对", line=reader.line_num)) from None


def _xlsx_table(data: bytes):
    from openpyxl import load_workbook

    try:
        unpacked = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ImportFileError(_("无法读取该 xlsx 文件")) from None
    if unpacked > MAX_UNPACKED:  # a few KB that unpack to gigabytes (huge shared strings)
        raise ImportFileError(_("文件解压后过大（最大 %(n)s MB）", n=MAX_UNPACKED // 2**20))
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        # The declared dimension (A1:XFD1048576 in a 5 KB file) would pad every row to 16,384
        # cells; read what is there, and no column beyond the ones an import can use.
        sheet.reset_dimensions()
    except Exception:  # noqa: BLE001 - any unreadable upload is the same answer to the user
        raise ImportFileError(_("无法读取该 xlsx 文件")) from None
    # max_row bounds the read (openpyxl pads up to it only when the file has more rows: refused)
    return (list(r) for r in sheet.iter_rows(min_row=1, max_row=MAX_LINES + 1, max_col=MAX_COLUMNS,
                                             values_only=True))


def preview(*, actor: User, data: bytes, filename: str) -> Preview:
    """Check an uploaded file without writing anything; keep it for the confirmation."""
    rows = read_rows(data, filename)
    if not rows:
        raise ImportFileError(_("文件中没有数据行"))
    checked = sales.check(rows, actor=actor)
    token = secrets.token_hex(12)
    suffix = Path(filename).suffix.lower()
    (_folder() / f"{token}-{actor.id}{suffix}").write_bytes(data)
    sample = [_sample(s) for s in (checked.new + checked.existing)[:20]]
    return Preview(token=token, filename=filename, rows=len(rows), checked=checked, sample=sample)


def _sample(sale: sales.SaleIn) -> dict:
    return {"line": sale.line, "sale_no": sale.sale_no, "sold_at": sale.sold_at,
            "amount_fen": sale.amount_fen, "items": sale.items, "member": bool(sale.member_id),
            "return_of": sale.return_of_no, "existing": sale.existing}


def _stashed(token: str, actor: User) -> Path:
    if not token.isalnum():
        raise ImportFileError(_("导入已过期,请重新上传文件"))
    for path in _folder().glob(f"{token}-{actor.id}.*"):
        return path
    raise ImportFileError(_("导入已过期,请重新上传文件"))


def confirm(*, actor: User, token: str) -> sales.Checked:
    """Write a previewed file all or nothing (SaleError when it no longer checks out)."""
    path = _stashed(token, actor)
    rows = read_rows(path.read_bytes(), path.name)
    checked = sales.record(rows=rows, actor=actor, source="import")
    path.unlink(missing_ok=True)
    return checked


def import_file(*, actor: User, data: bytes, filename: str) -> sales.Checked:
    """Check and write a file in one step (scripts, benchmarks, tests)."""
    return sales.record(rows=read_rows(data, filename), actor=actor, source="import")


def template_csv() -> bytes:
    """An empty import file with the header row (UTF-8 with BOM so Excel reads it)."""
    return ("\ufeff" + ",".join(zh for _k, zh, _e, _r in COLUMNS) + "\r\n").encode()
