#!/usr/bin/env python3
"""Benchmark of the 《入会申请表》 PDF (webapp/pdf.py).

    .venv/bin/python bench/bench_pdf.py [--n 20] [--batch 200] [--no-system]

Prints median / p95 wall-clock ms, in one process and interleaved (so machine
load hits all variants alike), for:
  * zh      the Chinese form, chosen strategy (GB2312 subset "CRM Sans GB",
            fallback to system Noto Sans CJK SC)
  * latin   the same template/layout with Latin text, in DejaVu Sans
  * ratio   zh / latin (target <= 1.3)
  * system  (reference) the Chinese form set in the full system Noto Sans CJK SC
and the time of one render_many() batch of --batch forms.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from webapp import pdf  # noqa: E402

TEMPLATE = "application_form.html"

ZH = {
    "brand": "衣尚", "store_name": "上海南京西路旗舰店", "associate_name": "李晓燕",
    "applied_on": "2024-05-12", "name": "张雨涵", "gender": "女",
    "birth_date": "1992-08-17", "mobile": "13812345678",
    "address": "上海市静安区南京西路1266号恒隆广场2座1805室",
    "work_address": "上海市浦东新区世纪大道100号环球金融中心36楼",
    "email": "zhang.yuhan@example.com", "occupation": "市场经理",
    "anniversary": "结婚纪念日 10-01；相识纪念日 05-20",
    "preferences": "偏好简约通勤风格，常穿M码；喜欢真丝衬衫、羊毛大衣，颜色以米白、藏青为主；"
                   "关注新品上市和会员活动通知。",
    "heard_from": "朋友推荐", "card_no": "SH0120240512007", "hotline": "400-820-1234",
    "points_threshold": 2000,
}
LATIN = {
    "brand": "Yishang", "store_name": "West Nanjing Rd Flagship",
    "associate_name": "Lisa Li", "applied_on": "2024-05-12", "name": "Jane Zhang",
    "gender": "女", "birth_date": "1992-08-17", "mobile": "13812345678",
    "address": "Room 1805, Tower 2, Plaza 66, 1266 West Nanjing Road, Shanghai",
    "work_address": "36F, World Financial Center, 100 Century Avenue, Shanghai",
    "email": "zhang.yuhan@example.com", "occupation": "Marketing manager",
    "anniversary": "wedding 10-01; first met 05-20",
    "preferences": "Minimalist office wear, size M; silk shirts and wool coats in "
                   "ivory and navy; wants new-arrival and member-event notices.",
    "heard_from": "Friend", "card_no": "SH0120240512007", "hotline": "400-820-1234",
    "points_threshold": 2000,
}


def render_zh() -> bytes:
    return pdf.render_pdf(TEMPLATE, forms=[ZH])


def render_latin() -> bytes:
    return pdf.render_pdf(TEMPLATE, forms=[LATIN], lang="en")


def make_render_system():
    """Same Chinese page, but set in the full system font (the old strategy)."""
    from weasyprint import CSS

    override = CSS(string='html { font-family: "Noto Sans CJK SC", sans-serif; }',
                   font_config=pdf.font_config())

    def render_system() -> bytes:
        html = pdf.render_html(TEMPLATE, forms=[ZH])
        with pdf._lock, pdf._gc_tuned():
            sheets = pdf._prepare() + [override]
            return pdf._write(pdf._layout(html, sheets))

    return render_system


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20, help="iterations per variant")
    parser.add_argument("--batch", type=int, default=200, help="forms in the batch (0: skip)")
    parser.add_argument("--chunk", type=int, default=50, help="render_many chunk size")
    parser.add_argument("--no-system", action="store_true",
                        help="skip the system-font reference variant")
    args = parser.parse_args()

    t0 = time.perf_counter()
    pdf.ensure_fonts()
    print(f"fonts ready in {pdf.FONT_DIR} ({time.perf_counter() - t0:.2f}s)")

    variants = {"zh": render_zh, "latin": render_latin}
    if not args.no_system:
        variants["system"] = make_render_system()
    t0 = time.perf_counter()
    sizes = {name: len(fn()) for name, fn in variants.items()}  # warm-up
    for fn in variants.values():
        fn()
    print(f"warm-up {time.perf_counter() - t0:.2f}s")

    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.n):
        for name, fn in variants.items():  # interleaved
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1000)

    print(f"\none A4 form, n={args.n} (wall ms)")
    print(f"  {'variant':<8} {'median':>8} {'p95':>8} {'min':>8} {'PDF KB':>8}")
    for name, values in times.items():
        print(f"  {name:<8} {statistics.median(values):8.1f} {pct(values, 0.95):8.1f} "
              f"{min(values):8.1f} {sizes[name] / 1024:8.0f}")
    med = {name: statistics.median(values) for name, values in times.items()}
    ratio = med["zh"] / med["latin"]
    print(f"  ratio zh/latin (median) = {ratio:.2f}  (target <= 1.30: "
          f"{'OK' if ratio <= 1.3 else 'MISSED'})")
    if "system" in med:
        print(f"  ratio system/latin      = {med['system'] / med['latin']:.2f}")

    if args.batch:
        items = [dict(ZH, name=ZH["name"][:2] + "一二三四五六七八九十"[i % 10],
                      card_no=f"SH01{20240512000 + i:011d}") for i in range(args.batch)]
        marks = []
        start = time.perf_counter()
        data = pdf.render_many(TEMPLATE, items, chunk=args.chunk,
                               progress=lambda d, t: marks.append(
                                   (d, time.perf_counter() - start)))
        elapsed = time.perf_counter() - start
        from io import BytesIO

        from pypdf import PdfReader
        pages = len(PdfReader(BytesIO(data)).pages)
        print(f"\nbatch of {args.batch} forms (render_many, chunk={args.chunk}): "
              f"{elapsed:.2f}s = {elapsed * 1000 / args.batch:.1f} ms/form, "
              f"{pages} pages, {len(data) / 1024:.0f} KB")
        print("  progress: " + ", ".join(f"{d}@{t:.1f}s" for d, t in marks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
