"""Server-side SVG bar charts: no JavaScript, no CDN, and they print as they show."""
from __future__ import annotations

from decimal import Decimal
from markupsafe import Markup, escape

from .formatting import percent

COLOURS = ("#1f5fbf", "#2e9e6b", "#d68910", "#8e44ad", "#c0392b")


def bar_chart(categories: list[str], series: dict[str, list[Decimal | None]], *,
              maximum: Decimal | int = 100, unit: str = "%", width: int = 640, height: int = 260) -> Markup:
    """Grouped bars, one group per category; None values are left out (no bar, no zero)."""
    left, bottom, top = 40, 40, 24
    plot_w, plot_h = width - left - 10, height - bottom - top
    group_w = plot_w / max(1, len(categories))
    bar_w = max(4.0, group_w * 0.8 / max(1, len(series)))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'class="chart" role="img" font-size="11" font-family="sans-serif">']
    for tick in range(0, 101, 25):
        y = top + plot_h - plot_h * tick / 100
        parts.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e6ee"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="#6b7385">'
                     f'{Decimal(maximum) * tick / 100:g}{escape(unit)}</text>')
    for i, name in enumerate(categories):
        x0 = left + i * group_w + group_w * 0.1
        for j, values in enumerate(series.values()):
            value = values[i]
            if value is None:
                continue
            h = plot_h * min(Decimal(value), Decimal(maximum)) / Decimal(maximum)
            x, y = x0 + j * bar_w, top + plot_h - float(h)
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{float(h):.1f}" '
                         f'fill="{COLOURS[j % len(COLOURS)]}"><title>{escape(name)} {escape(_value(value, unit))}'
                         f'</title></rect>')
        parts.append(f'<text x="{x0 + group_w * 0.4:.1f}" y="{height - bottom + 16}" text-anchor="middle">'
                     f'{escape(name)}</text>')
    for j, label in enumerate(series):
        parts.append(f'<rect x="{left + j * 130}" y="4" width="10" height="10" fill="{COLOURS[j % len(COLOURS)]}"/>'
                     f'<text x="{left + j * 130 + 14}" y="13">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _value(value, unit: str) -> str:
    """A bar's value as the tables show it (the one percent format)."""
    return percent(value) if unit == "%" else f"{value}{unit}"
