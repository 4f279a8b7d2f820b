"""What every xlsx download shares: text stays text (never a live formula), A4 print setup.

Any text that Excel or LibreOffice would read as a formula (= + - @, or a leading tab or carriage
return, the OWASP "CSV injection" list) is stored as a plain string with Excel's quote prefix, so a
store named `=HYPERLINK(…)` shows its name and nothing is evaluated. Numbers stay numbers; how they
look is a number format (webapp/formatting.py has the product's formats).
"""
from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def put(sheet, row: int, column: int, value, number_format: str | None = None):
    """Write one cell; text is always text, a number gets its display format."""
    cell = sheet.cell(row=row, column=column)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would store "=…" as a formula
        if value.startswith(FORMULA_STARTS):
            cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
    elif number_format and value is not None:
        cell.number_format = number_format
    return cell


def append(sheet, values, formats: dict[int, str] | None = None) -> int:
    """Worksheet.append, but text stays text; formats maps 1-based columns to number formats."""
    sheet.append(list(values))
    row = sheet._current_row  # the row append() just wrote (also counts blank rows)
    for column, value in enumerate(values, start=1):
        put(sheet, row, column, value, (formats or {}).get(column))
    return row


def print_setup(sheet, *, header_row: int, last_column: str, last_row: int | None = None,
                landscape: bool = False) -> None:
    """A4, scaled to the page width, the table's header row repeated on every page."""
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as needed
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.print_area = f"A1:{last_column}{last_row or sheet.max_row}"
    sheet.print_options.horizontalCentered = True
    for side in ("left", "right"):
        setattr(sheet.page_margins, side, 0.5)
