#!/usr/bin/env python3
"""Build the CJK font subset used by the PDF renderer (webapp/pdf.py).

Why: with the system Noto Sans CJK (a 65k-glyph CFF inside a 19 MB, 10-face
TTC) WeasyPrint copies and re-subsets the whole face for every document.  A
subset limited to GB2312 (+ ASCII, Latin-1, general/CJK punctuation, full-width
forms, a few symbol blocks): 8.4k glyphs, 1.7 MB, cuts the CJK-specific cost of
one form from ~40 ms to ~8 ms over the Latin/DejaVu page (bench/bench_pdf.py).
Characters outside the subset (rare name characters such as 喆 堃 镕 𠮷) are
*not* lost: the CSS font stack falls back to the full system "Noto Sans CJK SC"
(fonts-noto-cjk covers U+20BB7), which is then embedded only in those PDFs.

Usage:
    python scripts/build_fonts.py            # build if missing / out of date
    python scripts/build_fonts.py --force    # rebuild
    python scripts/build_fonts.py --out DIR  # other target directory
    python scripts/build_fonts.py --check    # exit 1 if a build is needed

Idempotent: a stamp file (fonts.json) records the inputs (source font
path/size/mtime, builder version, character-set digest); the build is skipped
when the outputs exist and the stamp matches.  Concurrent callers (several
workers calling ensure_fonts() at start-up) are serialised with a file lock and
outputs are written atomically.

Only depends on fontTools, so it can run outside the Flask app.

Weight decision: one weight (Regular) only.  WeasyPrint has no synthetic bold
(text is emitted with PDF text operators; fontconfig's "embolden" is ignored),
so bold needs a real Bold subset: a second 1.7 MB font loaded, re-subset and
embedded in every PDF, measured +5..7 ms per form (zh/latin ratio 1.12 ->
1.20).  The form marks hierarchy with size, letter-spacing and rules instead.
Pass ``--bold`` to also build CRMSansGB-Bold.otf; webapp/pdf.py then declares
it automatically (font-weight: 700).
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

BUILDER_VERSION = 3

PROJECT_DIR = Path(__file__).resolve().parent.parent
# Same resolution as webapp.pdf.FONT_DIR: $PDF_FONT_DIR, else $INSTANCE_DIR/fonts
# (config.py's instance dir), else <project>/instance/fonts.
DEFAULT_OUT = Path(os.environ.get("PDF_FONT_DIR")
                   or Path(os.environ.get("INSTANCE_DIR") or PROJECT_DIR / "instance")
                   / "fonts")

NOTO_DIR = Path("/usr/share/fonts/opentype/noto")
SOURCES = {
    "regular": Path(os.environ.get("PDF_CJK_SOURCE_REGULAR",
                                   NOTO_DIR / "NotoSansCJK-Regular.ttc")),
    "bold": Path(os.environ.get("PDF_CJK_SOURCE_BOLD",
                                NOTO_DIR / "NotoSansCJK-Bold.ttc")),
}
# The face we want inside the .ttc; its index is looked up by name (it is 2 in
# Debian's fonts-noto-cjk 1:20220127: JP, KR, SC, TC, HK, Mono JP, ...).
SOURCE_FAMILY = "Noto Sans CJK SC"

# Name of the subset font.  Deliberately *not* "Noto Sans CJK SC": WeasyPrint
# registers @font-face files in fontconfig under their internal family name too,
# and the fallback to the full system font must not resolve to the subset.
FAMILY = "CRM Sans GB"
FONT_FILES = {
    "regular": ("CRMSansGB-Regular.otf", "CRMSansGB-Regular", "Regular", 400),
    "bold": ("CRMSansGB-Bold.otf", "CRMSansGB-Bold", "Bold", 700),
}
STAMP = "fonts.json"
LAYOUT_FEATURES = ["ccmp", "calt", "clig", "liga", "rlig", "kern", "mark", "mkmk",
                   "palt", "halt", "chws", "frac", "numr", "dnom", "rvrn"]


def gb2312_chars() -> set[str]:
    """Every character of GB2312 (7445: 6763 hanzi + 682 symbols)."""
    chars = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                pass  # unassigned code
    return chars


def wanted_codepoints() -> list[int]:
    cps = {ord(c) for c in gb2312_chars()}
    ranges = [
        (0x0020, 0x007E),  # ASCII
        (0x00A0, 0x00FF),  # Latin-1 supplement (nbsp, ·, ×, é in e-mail/addresses)
        (0x2000, 0x206F),  # general punctuation (— ‘ ’ “ ” … ‰ ※)
        (0x2100, 0x218F),  # letterlike (℃ №), number forms (Ⅰ Ⅱ)
        (0x2190, 0x21FF),  # arrows
        (0x2460, 0x24FF),  # enclosed alphanumerics (① ⑴ ⒈)
        (0x2500, 0x257F),  # box drawing
        (0x25A0, 0x25FF),  # geometric shapes (□ ■ ○ ●)
        (0x2600, 0x26FF),  # misc symbols (☐ ☑ ★)
        (0x2700, 0x27BF),  # dingbats (✂ ✓ ✔ ✗)
        (0x3000, 0x303F),  # CJK symbols and punctuation
        (0x3200, 0x32FF),  # enclosed CJK (㈠ ㊣)
        (0xFE30, 0xFE4F),  # CJK compatibility forms
        (0xFF00, 0xFFEF),  # half-width and full-width forms
    ]
    for lo, hi in ranges:
        cps.update(range(lo, hi + 1))
    return sorted(cps)


def charset_digest(cps: list[int]) -> str:
    return hashlib.sha256(",".join(map(str, cps)).encode()).hexdigest()[:16]


def find_font_number(path: Path, family: str = SOURCE_FAMILY) -> int:
    from fontTools.ttLib import TTCollection, TTFont

    if path.suffix.lower() not in (".ttc", ".otc"):
        return 0
    collection = TTCollection(str(path), lazy=True)
    try:
        for index, font in enumerate(collection.fonts):
            names = {font["name"].getDebugName(i) for i in (1, 16)}
            if family in names:
                return index
    finally:
        collection.close()
    raise SystemExit(f"{family!r} not found in {path}")


def _source_info(path: Path) -> dict:
    st = path.stat()
    return {"path": str(path), "size": st.st_size, "mtime": int(st.st_mtime)}


def expected_stamp(weights: tuple[str, ...]) -> dict:
    cps = wanted_codepoints()
    return {
        "builder": BUILDER_VERSION,
        "family": FAMILY,
        "charset": charset_digest(cps),
        "features": LAYOUT_FEATURES,
        "sources": {w: _source_info(SOURCES[w]) for w in weights},
        "files": {w: FONT_FILES[w][0] for w in weights},
    }


def is_up_to_date(out_dir: Path, weights: tuple[str, ...] = ("regular",)) -> bool:
    stamp_path = out_dir / STAMP
    try:
        stamp = json.loads(stamp_path.read_text())
    except (OSError, ValueError):
        return False
    try:
        want = expected_stamp(weights)
    except OSError:  # source font missing: keep what we have if it is complete
        want = None
    if want is not None:
        for key in ("builder", "family", "charset", "features"):
            if stamp.get(key) != want[key]:
                return False
        for weight in weights:
            if stamp.get("sources", {}).get(weight) != want["sources"][weight]:
                return False
    return all((out_dir / FONT_FILES[w][0]).is_file() for w in weights)


def _rename(font, weight: str) -> None:
    """Give the subset its own names (OFL: modified version; avoids clashes)."""
    _file, ps_name, style, us_weight = FONT_FILES[weight]
    name = font["name"]
    keep = {0, 7, 8, 9, 11, 12, 13, 14}  # copyright, trademark, vendor, license...
    name.names = [n for n in name.names if n.nameID in keep]
    full = f"{FAMILY} {style}"
    for name_id, value in ((1, FAMILY), (2, style), (3, f"{ps_name};{BUILDER_VERSION}"),
                           (4, full), (5, f"Version {BUILDER_VERSION}; GB2312 subset "
                                          f"of {SOURCE_FAMILY}"), (6, ps_name)):
        name.setName(value, name_id, 3, 1, 0x409)
        name.setName(value, name_id, 1, 0, 0)
    font["OS/2"].usWeightClass = us_weight
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [ps_name]
        top = cff.topDictIndex[0]
        for attr, value in (("FullName", full), ("FamilyName", FAMILY)):
            if hasattr(top, attr):
                setattr(top, attr, value)


def build_one(weight: str, out_dir: Path, verbose: bool = True) -> Path:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    src = SOURCES[weight]
    number = find_font_number(src)
    cps = wanted_codepoints()
    options = subset.Options()
    options.font_number = number
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.name_legacy = True
    options.notdef_outline = True
    # Bounds are not recomputed: measuring 8k CFF glyphs took 9 of the build's 20 s, and the
    # source face's bounding box (a superset) is as good for PDF embedding.
    options.recalc_bounds = False
    options.hinting = False          # WeasyPrint drops hints anyway (hinting=False)
    options.desubroutinize = True    # saves WeasyPrint doing it at every render
    # Horizontal features only.  'locl' is left out on purpose: the SC face maps
    # to Simplified-Chinese glyphs already, and keeping locl would drag in the
    # JP/KR/TC/HK variants of thousands of hanzi (+6k glyphs); vertical-writing
    # features are not needed for a printed form.
    options.layout_features = LAYOUT_FEATURES
    options.ignore_missing_unicodes = True
    t0 = time.perf_counter()
    font = TTFont(str(src), fontNumber=number, lazy=False, recalcBBoxes=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=cps)
    subsetter.subset(font)
    _rename(font, weight)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / FONT_FILES[weight][0]
    fd, tmp = tempfile.mkstemp(prefix=target.name, suffix=".tmp", dir=out_dir)
    os.close(fd)
    try:
        font.save(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    if verbose:
        kept = len(font.getBestCmap())
        print(f"built {target} ({target.stat().st_size / 1e6:.2f} MB, {kept} chars, "
              f"face #{number} of {src.name}) in {time.perf_counter() - t0:.1f}s")
    return target


@contextlib.contextmanager
def _lock(out_dir: Path):
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / ".build.lock", "w") as fh:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - non-POSIX
            yield
            return
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build(out_dir: Path | str | None = None, *, force: bool = False,
          weights: tuple[str, ...] = ("regular",), verbose: bool = True) -> bool:
    """Build the subset(s) into out_dir. Return True if something was built."""
    out_dir = Path(out_dir or DEFAULT_OUT)
    if not force and is_up_to_date(out_dir, weights):
        if verbose:
            print(f"fonts up to date in {out_dir}")
        return False
    with _lock(out_dir):
        # Someone else may have built while we waited for the lock.
        if not force and is_up_to_date(out_dir, weights):
            return False
        for weight in weights:
            build_one(weight, out_dir, verbose)
        stamp = expected_stamp(weights)
        stamp["built_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        tmp = out_dir / (STAMP + ".tmp")
        tmp.write_text(json.dumps(stamp, indent=2, ensure_ascii=False) + "\n")
        os.replace(tmp, out_dir / STAMP)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument("--bold", action="store_true", help="also build a Bold subset")
    parser.add_argument("--check", action="store_true",
                        help="only check; exit 1 if a build is needed")
    args = parser.parse_args(argv)
    weights = ("regular", "bold") if args.bold else ("regular",)
    if args.check:
        ok = is_up_to_date(args.out, weights)
        print("up to date" if ok else "build needed")
        return 0 if ok else 1
    build(args.out, force=args.force, weights=weights)
    return 0


if __name__ == "__main__":
    sys.exit(main())
