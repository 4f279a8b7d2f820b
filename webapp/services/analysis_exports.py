"""An analysis Report as a chart (inline SVG), an A4 PDF and an xlsx with a native Excel chart."""
from __future__ import annotations

import io
from decimal import Decimal

from markupsafe import Markup, escape

from .. import clock, settings
from ..formatting import local_time
from .analyses import Report
from .sales import _

COLORS = ("#1f5fbf", "#c77700")


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


def _fmt(value: Decimal | None, unit: str) -> str:
    if value is None:
        return "—"
    text = f"{value}"
    if unit == "%":
        return (text[:-2] if text.endswith(".0") else text) + "%"
    return text


def _bar_svg(chart, width: int) -> Markup:
    label_w, row_h, top, right = 210, 24, 30, 70
    height = top + row_h * len(chart.values) + 10
    low, high = _scale(chart.values)
    span = width - label_w - right
    x0 = label_w + float((0 - low) / (high - low)) * span  # display geometry only, not money
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-label="{escape(chart.title)}">',
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
                         f'{escape(_fmt(value, chart.unit))}</text>')
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
             f'width="{width}" height="{height}" role="img" aria-label="{escape(chart.title)}">',
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
                     f'{escape(_fmt(v, chart.unit))}</text>')
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
    return f"{report.title}-{report.scope.label}-{report.period.code}.{ext}"


def ascii_filename(report: Report, ext: str) -> str:
    """The same file named in ASCII, for clients that ignore `filename*`."""
    return f"analysis-{report.kind}-{report.scope.code.replace(':', '')}-{report.period.code}.{ext}"


# ------------------------------------------------------------------ PDF

def pdf(report: Report) -> bytes:
    """The report on A4, laid out like the seed's table, with its chart."""
    from ..pdf import render_pdf

    return render_pdf("analysis_report.html", report=report, svg=chart_svg(report, 640),
                      h=headings(), company=settings.get("company_name"),
                      printed=local_time(clock.now()), lang=_lang())


def _lang() -> str:
    from flask_babel import get_locale

    return "en" if str(get_locale()) == "en" else "zh-CN"


# ------------------------------------------------------------------ xlsx

def xlsx(report: Report) -> bytes:
    """The table, its inputs and a native Excel chart, so HQ can keep working in Excel."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("分析表")
    h = headings()
    sheet.append([report.title])
    sheet["A1"].font = Font(size=14, bold=True)
    sheet.append([h["scope"], report.scope.label, h["period"], report.period.label])
    sheet.append([])
    first = sheet.max_row + 1
    sheet.append([h["no"], h["label"], h["formula"], h["inputs"], h["result"], h["reason"]])
    for f in report.figures:
        sheet.append([f.no, f.label, f.formula, f.inputs, _cell(f.value, f.unit), f.reason])
        _number_format(sheet.cell(row=sheet.max_row, column=5), f.unit)
    last = sheet.max_row
    for cell in sheet[first]:
        cell.font = Font(bold=True)
    sheet.append([])
    sheet.append([h["data"], h["value"]])
    for label, value in report.inputs:
        sheet.append([label, value])
    if report.trend:
        _trend_sheet(book, report, h)
    else:
        _bar_chart(sheet, report, first, last)
    for column, w in zip("ABCDEF", (8, 30, 40, 26, 12, 24)):
        sheet.column_dimensions[column].width = w
    for row in sheet.iter_rows(min_row=first, max_row=last):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="center")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value: Decimal | None, unit: str):
    if value is None:
        return "—"
    return value / 100 if unit == "%" else value


def _number_format(cell, unit: str) -> None:
    cell.number_format = {"%": "0.0%", "yuan": "#,##0.00", "ratio": "0.00", "count": "0"}[unit]


def _bar_chart(sheet, report: Report, first: int, last: int) -> None:
    from openpyxl.chart import BarChart, Reference

    chart = BarChart()
    chart.type = "bar"
    chart.title = report.chart.title
    chart.y_axis.numFmt = "0%"
    chart.legend = None
    rows = [i for i, f in enumerate(report.figures, start=first + 1) if f.unit == "%"]
    lo, hi = min(rows), max(rows)
    chart.add_data(Reference(sheet, min_col=5, min_row=lo, max_row=hi), titles_from_data=False)
    chart.set_categories(Reference(sheet, min_col=2, min_row=lo, max_row=hi))
    chart.height, chart.width = 9 + 0.4 * (hi - lo), 18
    sheet.add_chart(chart, f"H{first}")


def _trend_sheet(book, report: Report, h: dict) -> None:
    """The monthly churn on its own sheet; its line chart goes there and beside the table."""
    sheet = book.create_sheet(h["trend"])
    sheet.append([h["month"], h["members"], h["lapsed_start"], h["lapsed_end"], h["churn"], h["rate"]])
    for row in report.trend:
        sheet.append([row["month"], row["members"], row["lapsed_start"], row["lapsed_end"],
                      row["churn"], _cell(row["rate"], "%")])
        _number_format(sheet.cell(row=sheet.max_row, column=6), "%")
    sheet.add_chart(_trend_chart(sheet, report), "H2")
    book.active.add_chart(_trend_chart(sheet, report), "H4")


def _trend_chart(sheet, report: Report):
    from openpyxl.chart import LineChart, Reference

    chart = LineChart()
    chart.title = report.chart.title
    chart.y_axis.numFmt = "0.0%"
    chart.legend = None
    chart.add_data(Reference(sheet, min_col=6, min_row=1, max_row=sheet.max_row),
                   titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=sheet.max_row))
    chart.width = 20
    return chart
