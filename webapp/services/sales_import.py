"""Import of till exports (CSV or xlsx): read, preview with per-row errors, then write all or nothing.

The uploaded file is kept under instance/sales_imports/ between the upload and the confirmation,
named by a random token and the uploader's id, so only the uploader can see and confirm it. An
upload is never read in the request: a worker job reads it in a child process of its own with
hard limits (bytes, unpacked size, lines, columns, memory, wall time) that exits afterwards, and
leaves the rows (or the refusal) beside the file; the preview page checks those rows and the
confirmation writes them (checked again: the data may have changed); everything is deleted once
written, or after a day by the daily job.
"""
from __future__ import annotations

import csv
import io
import itertools
import json
import multiprocessing
import os
import pickle
import re
import resource
import secrets
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from ..models import User
from . import sales
from ..i18n_labels import N_ as _
from ..i18n_labels import Refusal

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
MAX_CELL = 1000  # characters in a cell (the longest field the import knows is a name)
MAX_UNPACKED = 200 * 1024 * 1024  # an xlsx's unpacked size
MAX_SECONDS = 60  # reading the file
MAX_MEMORY = 1024 * 1024 * 1024  # what the reading child may allocate beyond what it inherits
KINDS = {".csv": "csv", ".xlsx": "xlsx"}
ROWS, ERROR = ".rows", ".error"  # beside an upload: what the job read, or why it could not


class ImportFileError(Refusal, ValueError):
    """The file as a whole cannot be read (wrong type, no header, too large)."""


class UploadGone(ImportFileError):
    """No upload of this user's under that token (expired, confirmed, or someone else's)."""


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


def _check_kind_and_size(data: bytes, filename: str) -> str:
    kind = KINDS.get(Path(filename or "").suffix.lower())
    if kind is None:
        raise ImportFileError(_("只支持 .csv 或 .xlsx 文件"))
    if len(data) > MAX_BYTES:
        raise ImportFileError(_("文件太大(最大50MB)"))
    return kind


def read_rows(data: bytes, filename: str) -> list[dict]:
    """Rows as dicts keyed by column key, each with its spreadsheet line number in `_line`.

    In this process: for files this program made. An upload is read by read_rows_isolated."""
    kind = _check_kind_and_size(data, filename)
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
            raise ImportFileError(_("文件行数过多（最多 %(n)s 行，含空行）"), n=MAX_LINES)
        if line % 1000 == 0 and time.monotonic() - started > MAX_SECONDS:
            raise ImportFileError(_("文件过于复杂，%(n)s 秒内未能读完，请删去多余的行列后重试"), n=MAX_SECONDS)
        if not any(c not in (None, "") for c in cells):
            continue
        if any(isinstance(c, str) and len(c) > MAX_CELL for c in cells):
            raise ImportFileError(_("第 %(line)s 行有单元格过长（最多 %(n)s 个字符）"), line=line, n=MAX_CELL)
        row = {key: (cells[i] if i < len(cells) else None) for key, i in index.items()}
        row["_line"] = line
        rows.append(row)
        if len(rows) > MAX_ROWS:
            raise ImportFileError(_("一次最多导入 %(n)s 行"), n=MAX_ROWS)
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
        raise ImportFileError(_("缺少列:%(cols)s"), cols="、".join(missing))
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
        raise ImportFileError(_("第 %(line)s 行无法读取：单元格过长或引号不配对"), line=reader.line_num) from None


def _xlsx_table(data: bytes):
    from openpyxl import load_workbook

    try:
        unpacked = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ImportFileError(_("无法读取该 xlsx 文件")) from None
    if unpacked > MAX_UNPACKED:  # a few KB that unpack to gigabytes (huge shared strings)
        raise ImportFileError(_("文件解压后过大（最大 %(n)s MB）"), n=MAX_UNPACKED // 2**20)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        # The declared dimension (A1:XFD1048576 in a 5 KB file) would pad every row to 16,384
        # cells; read what is there, and no column beyond the ones an import can use.
        sheet.reset_dimensions()
        with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(sheet._worksheet_path) as xml:
            lines = _count_rows(xml)
    except MemoryError:  # the child's address-space limit (read_rows_isolated)
        raise ImportFileError(_("文件解压后过大，读取时超出内存上限")) from None
    except Exception:  # noqa: BLE001 - any unreadable upload is the same answer to the user
        raise ImportFileError(_("无法读取该 xlsx 文件")) from None
    if lines > MAX_LINES:  # millions of empty rows: refused before openpyxl walks them
        raise ImportFileError(_("文件行数过多（最多 %(n)s 行，含空行）"), n=MAX_LINES)
    header = next(sheet.iter_rows(min_row=1, max_row=1, max_col=MAX_COLUMNS, values_only=True), ())
    # No column to the right of the header's last name: each row is padded only that far.
    width = max((i + 1 for i, name in enumerate(header) if name not in (None, "")), default=1)
    rows = sheet.iter_rows(min_row=2, max_row=MAX_LINES + 1, max_col=width, values_only=True)
    # max_row bounds the read (openpyxl pads up to it only when the file has more rows: refused)
    return itertools.chain([list(header)], (list(r) for r in rows))


PREFIXED_ROW = re.compile(rb"<([A-Za-z_][\w.-]{0,30}):row[\s/>]")


def _count_rows(xml) -> int:
    """The <row> elements of a worksheet's XML (<x:row> too), counted while it is decompressed,
    with bytes.count (a regex match per row would take seconds for millions of them)."""
    count, tail, tags = 0, b"", {b"<row"}
    while chunk := xml.read(1 << 20):
        block = tail + chunk
        if b":row" in block:
            tags.update(b"<" + prefix + b":row" for prefix in set(PREFIXED_ROW.findall(block)))
        tail = block[-64:]  # a tag cut by the chunk boundary is seen whole in the next block …
        count += sum(block.count(t) - tail.count(t) for t in tags)  # … and counted there only
    return count + sum(tail.count(t) for t in tags)


def read_rows_isolated(data: bytes, filename: str) -> list[dict]:
    """read_rows in a child process that exits afterwards, under an address-space limit, killed
    after MAX_SECONDS: a file built to exhaust memory or time costs the child, never the caller
    (a 400 MB shared string would leave a long-lived worker holding the memory)."""
    _check_kind_and_size(data, filename)
    context = multiprocessing.get_context("fork")  # inherits the loaded code and the bytes
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_read_in_child, args=(sender, data, filename), daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(MAX_SECONDS):
            raise ImportFileError(_("文件过于复杂，%(n)s 秒内未能读完，请删去多余的行列后重试"),
                                  n=MAX_SECONDS)
        try:
            outcome, value = receiver.recv()
        except (EOFError, OSError, pickle.UnpicklingError):
            raise ImportFileError(_("无法读取该文件（读取时超出内存或时间上限）")) from None
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join(5)
    if outcome == "error":
        raise ImportFileError(value[0], **value[1])
    return value


def _read_in_child(sender, data: bytes, filename: str) -> None:
    try:
        with open("/proc/self/statm") as statm:  # what the fork inherited, plus the allowance
            inherited = int(statm.read().split()[0]) * resource.getpagesize()
        limit = inherited + MAX_MEMORY
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CPU, (MAX_SECONDS + 5, MAX_SECONDS + 5))
        try:
            result = ("rows", read_rows(data, filename))
        except ImportFileError as exc:
            result = ("error", (exc.message, exc.values))
        except MemoryError:
            result = ("error", (_("文件解压后过大，读取时超出内存上限"), {}))
        sender.send(result)
    except BaseException:  # noqa: BLE001 - whatever happened, the parent answers for it
        pass
    finally:
        os._exit(0)


def _job_id(token: str) -> str:
    return f"sales-import-{token}"


def upload(*, actor: User, data: bytes, filename: str) -> str:
    """Keep an uploaded file and queue the job that reads it; returns the upload's token.

    Only the name and the size are checked here: the file is read by the worker (read_upload)."""
    if not data:
        raise ImportFileError(_("文件是空的"))
    _check_kind_and_size(data, filename)
    token = secrets.token_hex(12)
    path = _folder() / f"{token}-{actor.id}{Path(filename).suffix.lower()}"
    path.write_bytes(data)
    (path.parent / (path.name + ".name")).write_text(Path(filename).name[:200], encoding="utf-8")
    _enqueue(path, token)
    return token


def _enqueue(path: Path, token: str) -> None:
    from ..queue import queue

    queue().enqueue("jobs.imports.read_upload", str(path), job_id=_job_id(token),
                    job_timeout=MAX_SECONDS + 60, result_ttl=60, failure_ttl=86400)


def read_upload(path: str) -> None:
    """The worker job: read an upload in a child process, leave its rows or the refusal beside it."""
    path = Path(path)
    if not path.is_file():
        return
    try:
        result = path.with_name(path.name + ROWS), pickle.dumps(read_rows_isolated(path.read_bytes(),
                                                                                    path.name))
    except ImportFileError as exc:
        result = path.with_name(path.name + ERROR), json.dumps([exc.message, exc.values]).encode()
    target, content = result
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(content)
    partial.replace(target)


def _upload_path(token: str, actor: User) -> Path:
    if not token.isalnum():
        raise UploadGone(_("导入已过期,请重新上传文件"))
    for path in _folder().glob(f"{token}-{actor.id}.*"):
        if path.suffix in KINDS:
            return path
    raise UploadGone(_("导入已过期,请重新上传文件"))


def _read_rows_of(path: Path) -> list[dict] | None:
    """The rows the job read from an upload; None while it has not finished."""
    error = path.with_name(path.name + ERROR)
    if error.is_file():
        message, values = json.loads(error.read_text())
        raise ImportFileError(message, **values)
    rows = path.with_name(path.name + ROWS)
    if rows.is_file():
        return pickle.loads(rows.read_bytes())  # written by our own job (read_upload)
    return None


def preview(*, actor: User, token: str) -> Preview | None:
    """Check an upload's rows without writing anything; None while the worker is still reading it."""
    path = _upload_path(token, actor)
    rows = _read_rows_of(path)
    if rows is None:
        from rq.job import Job
        from rq.exceptions import NoSuchJobError

        from ..queue import redis_conn

        try:
            status = Job.fetch(_job_id(token), connection=redis_conn()).get_status()
        except NoSuchJobError:  # Redis lost it (flushed, restarted): queue it again
            status = None
            _enqueue(path, token)
        if status == "failed":
            raise ImportFileError(_("无法读取该文件（读取时超出内存或时间上限）"))
        return None
    if not rows:
        raise ImportFileError(_("文件中没有数据行"))
    checked = sales.check(rows, actor=actor)
    name = path.with_name(path.name + ".name")
    filename = name.read_text(encoding="utf-8") if name.is_file() else path.name
    sample = [_sample(s) for s in (checked.new + checked.existing)[:20]]
    return Preview(token=token, filename=filename, rows=len(rows), checked=checked, sample=sample)


def _sample(sale: sales.SaleIn) -> dict:
    return {"line": sale.line, "sale_no": sale.sale_no, "sold_at": sale.sold_at,
            "amount_fen": sale.amount_fen, "items": sale.items, "member": bool(sale.member_id),
            "return_of": sale.return_of_no, "existing": sale.existing}


def confirm(*, actor: User, token: str) -> sales.Checked:
    """Write a previewed file all or nothing (SaleError when it no longer checks out)."""
    path = _upload_path(token, actor)
    rows = _read_rows_of(path)
    if rows is None:
        raise ImportFileError(_("文件尚未检查完，请稍候再确认"))
    checked = sales.record(rows=rows, actor=actor, source="import")
    for leftover in path.parent.glob(f"{path.name}*"):
        leftover.unlink(missing_ok=True)
    return checked


def import_file(*, actor: User, data: bytes, filename: str) -> sales.Checked:
    """Check and write a file in one step (scripts, benchmarks, tests), read in a child process."""
    return sales.record(rows=read_rows_isolated(data, filename), actor=actor, source="import")


def template_csv() -> bytes:
    """An empty import file with the header row (UTF-8 with BOM so Excel reads it)."""
    return ("\ufeff" + ",".join(zh for _k, zh, _e, _r in COLUMNS) + "\r\n").encode()
