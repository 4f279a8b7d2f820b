"""An analysis Report as a chart (inline SVG), an A4 PDF and an xlsx with a native Excel chart."""
from __future__ import annotations

import io
from decimal import Decimal

from markupsafe import Markup, escape

from .. import clock, formatting, settings, spreadsheet
from ..formatting import DASH, local_time
from .analyses import Report, show
from ..i18n_labels import say as _

COLORS = ("#1f5fbf", "#c77700")
# On the SVG itself: WeasyPrint does not apply the page's CSS to inline SVG text, so without it the
# PDF chart fell back to Noto Sans CJK JP and DejaVu. The product's Simplified Chinese subset first
# (webapp/pdf.py, scripts/build_fonts.py), then the full system font; a browser uses the latter.
FONT = "CRM Sans GB, Noto Sans CJK SC, sans-serif"


# ------------------------------------------------------------------ SVG chart

def chart_svg(report: Report, width: int = 680) -> Markup:
    """The report's chart drawn from its figures: horizontal bars, or a line for a trend."""
    chart = report.chart
    if chart.kind == "line":
        return _line_svg(chart, width)
    return _bar_svg(chart, width)


def _scale(values: list[Decimal | None]) -> tuple[Decimal, Decimal]:
    known = [v for v in values if v is not None] or [Decimal(0)]
    low, high = min(Decimal(0), min(known)), max(Decimal(0), max(known))
    return low, (high if high != low else low + 1)


def _bar_svg(chart, width: int) -> Markup:
    label_w, row_h, top, right = 210, 24, 30, 70
    height = top + row_h * len(chart.values) + 10
    low, high = _scale(chart.values)
    span = width - label_w - right
    x0 = label_w + float((0 - low) / (high - low)) * span  # display geometry only, not money
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-label="{escape(chart.title)}" font-family="{FONT}">',
             f'<text x="0" y="16" font-size="14">{escape(chart.title)}</text>',
             f'<line x1="{x0:.1f}" y1="{top - 4}" x2="{x0:.1f}" y2="{height - 6}" stroke="#888" '
             f'stroke-width="1"/>']
    for i, (label, value) in enumerate(zip(chart.labels, chart.values)):
        y = top + i * row_h
        parts.append(f'<text x="{label_w - 8}" y="{y + 15}" font-size="12" text-anchor="end">'
                     f'{escape(label)}</text>')
        if value is not None:
            x1 = label_w + float((value - low) / (high - low)) * span
            left, bar_w = min(x0, x1), max(abs(x1 - x0), 1)
            color = COLORS[1] if value < 0 else COLORS[0]
            parts.append(f'<rect x="{left:.1f}" y="{y + 4}" width="{bar_w:.1f}" height="{row_h - 8}" '
                         f'fill="{color}"/>')
            parts.append(f'<text x="{max(x0, x1) + 4:.1f}" y="{y + 15}" font-size="12">'
                         f'{escape(show(value, chart.unit))}</text>')
        else:
            parts.append(f'<text x="{x0 + 4:.1f}" y="{y + 15}" font-size="12" fill="#888">—</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _line_svg(chart, width: int) -> Markup:
    height, left, top, bottom = 240, 50, 30, 40
    low, high = _scale(chart.values)
    n = max(len(chart.values) - 1, 1)
    plot_w, plot_h = width - left - 20, height - top - bottom

    def xy(i, v):
        return left + plot_w * i / n, top + plot_h * (1 - float((v - low) / (high - low)))

    zero_y = xy(0, Decimal(0))[1]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-label="{escape(chart.title)}" font-family="{FONT}">',
             f'<text x="0" y="16" font-size="14">{escape(chart.title)}</text>',
             f'<line x1="{left}" y1="{zero_y:.1f}" x2="{width - 20}" y2="{zero_y:.1f}" stroke="#888"/>']
    points = [(i, v) for i, v in enumerate(chart.values) if v is not None]
    if points:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in points))
        parts.append(f'<polyline points="{path}" fill="none" stroke="{COLORS[0]}" stroke-width="2"/>')
    for i, v in points:
        x, y = xy(i, v)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{COLORS[0]}"/>')
        parts.append(f'<text x="{x:.1f}" y="{y - 7:.1f}" font-size="10" text-anchor="middle">'
                     f'{escape(show(v, chart.unit))}</text>')
    for i, label in enumerate(chart.labels):
        x = xy(i, Decimal(0))[0]
        parts.append(f'<text x="{x:.1f}" y="{height - 18}" font-size="10" text-anchor="middle">'
                     f'{escape(label[2:] if len(label) == 7 else label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


# ------------------------------------------------------------------ headings shared by PDF/xlsx

def headings() -> dict:
    return {"no": _("序列"), "label": _("指标"), "formula": _("计算公式/分析方法"), "inputs": _("数据"),
            "result": _("结果"), "reason": _("说明"), "data": _("计算所用数据"), "item": _("项目"),
            "value": _("数值"), "scope": _("范围"), "period": _("期间"), "printed": _("打印时间"),
            "month": _("月份"), "members": _("期末有效会员"), "lapsed_start": _("期初流失会员"),
            "lapsed_end": _("期末流失会员"), "churn": _("流失数"), "rate": _("流失率"),
            "trend": _("近12个月"), "chart": _("图表"), "reviewed": _("审核"), "filed": _("存档")}


def filename(report: Report, ext: str) -> str:
    """The download's name; control characters of a store's name would break the header."""
    name = f"{report.title}-{report.scope.label}-{report.period.code}"
    return "".join(c for c in name if c.isprintable() and c not in '/\\"') + f".{ext}"


def ascii_filename(report: Report, ext: str) -> str:
    """The same file named in ASCII, for clients that ignore `filename*`."""
    return f"analysis-{report.kind}-{report.scope.code.replace(':', '')}-{report.period.code}.{ext}"


# ------------------------------------------------------------------ PDF

def pdf(report: Report) -> bytes:
    """The report on A4, laid out like the seed's table, with its chart."""
    from ..pdf import render_pdf

    return render_pdf("analysis_report.html", report=report, svg=chart_svg(report, 640),
                      h=headings(), company=settings.get("company_name"),
                      printed=local_time(clock.now()), lang=_lang(), percent=formatting.percent)


def _lang() -> str:
    from flask_babel import get_locale

    return "en" if str(get_locale()) == "en" else "zh-CN"


# ------------------------------------------------------------------ xlsx

FORMATS = {"%": formatting.PERCENT_FORMAT, "yuan": formatting.MONEY_FORMAT, "ratio": "0.00",
           "count": "0"}


def xlsx(report: Report) -> bytes:
    """The table, its inputs and a native Excel chart of exactly the page's chart, printable on A4."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("分析表")
    h = headings()
    spreadsheet.append(sheet, [report.title])
    sheet["A1"].font = Font(size=14, bold=True)
    spreadsheet.append(sheet, [h["scope"], report.scope.label, h["period"], report.period.label])
    sheet.append([])
    first = spreadsheet.append(sheet, [h["no"], h["label"], h["formula"], h["inputs"], h["result"],
                                       h["reason"]])
    for f in report.figures:
        spreadsheet.append(sheet, [f.no, f.label, f.formula, f.inputs, _cell(f.value, f.unit), f.reason],
                           {5: FORMATS[f.unit]})
    last = sheet._current_row
    for cell in sheet[first]:
        cell.font = Font(bold=True)
    sheet.append([])
    # label under 指标 (B), value under 结果 (E): the wide and the number columns of the table
    spreadsheet.append(sheet, [None, h["data"], None, None, h["value"]])
    for label, value, unit in report.inputs:
        spreadsheet.append(sheet, [None, label, None, None, _cell(value, unit)], {5: FORMATS[unit]})
    if report.trend:
        _trend_sheet(book, report, h)
        chart_rows = 16
    else:
        chart_rows = _bar_chart(sheet, report, h)
    for column, w in zip("ABCDEF", (8, 30, 40, 26, 12, 24)):
        sheet.column_dimensions[column].width = w
    for row in sheet.iter_rows(min_row=first, max_row=last):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="center")
    spreadsheet.print_setup(sheet, header_row=first, last_column="F",
                            last_row=sheet._current_row + chart_rows)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value, unit: str):
    """A number as the spreadsheet keeps it (percentages in points, see PERCENT_FORMAT); '—' if none."""
    return DASH if value is None else value


def _bar_chart(sheet, report: Report, h: dict) -> int:
    """The page chart's own labels and values as a small block, and a bar chart of exactly those.

    Returns how many rows the chart covers below the block (for the print area).
    """
    from openpyxl.chart import BarChart, Reference

    sheet.append([])
    spreadsheet.append(sheet, [None, h["chart"], None, None, report.chart.title])
    lo = sheet._current_row + 1
    for label, value in zip(report.chart.labels, report.chart.values):
        spreadsheet.append(sheet, [None, label, None, None, _cell(value, report.chart.unit)],
                           {5: FORMATS[report.chart.unit]})
    hi = sheet._current_row
    chart = BarChart()
    chart.type = "bar"
    chart.title = report.chart.title
    chart.y_axis.numFmt = formatting.PERCENT_FORMAT if report.chart.unit == "%" else "0.00"
    chart.x_axis.scaling.orientation = "maxMin"  # first row on top, as in the table
    chart.legend = None
    chart.add_data(Reference(sheet, min_col=5, min_row=lo, max_row=hi), titles_from_data=False)
    chart.set_categories(Reference(sheet, min_col=2, min_row=lo, max_row=hi))
    chart.height, chart.width = 6 + 0.55 * (hi - lo + 1), 24
    sheet.add_chart(chart, f"A{hi + 2}")
    return int(chart.height / 0.5) + 2  # rows of the default height (about 0.5 cm)


def _trend_sheet(book, report: Report, h: dict) -> None:
    """The monthly churn on its own sheet; its line chart goes there and below the table."""
    sheet = book.create_sheet(h["trend"])
    spreadsheet.append(sheet, [h["month"], h["members"], h["lapsed_start"], h["lapsed_end"], h["churn"],
                               h["rate"]])
    for row in report.trend:
        spreadsheet.append(sheet, [row["month"], row["members"], row["lapsed_start"], row["lapsed_end"],
                                   row["churn"], _cell(row["rate"], "%")], {6: FORMATS["%"]})
    for column in "ABCDEF":
        sheet.column_dimensions[column].width = 14
    sheet.add_chart(_trend_chart(sheet, report), f"A{sheet.max_row + 2}")
    spreadsheet.print_setup(sheet, header_row=1, last_column="F", last_row=sheet.max_row + 18)
    book.active.add_chart(_trend_chart(sheet, report), f"A{book.active._current_row + 2}")


def _trend_chart(sheet, report: Report):
    from openpyxl.chart import LineChart, Reference

    chart = LineChart()
    chart.title = report.chart.title
    chart.y_axis.numFmt = formatting.PERCENT_FORMAT
    chart.legend = None
    chart.add_data(Reference(sheet, min_col=6, min_row=1, max_row=sheet.max_row),
                   titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=sheet.max_row))
    chart.width = 20
    return chart
