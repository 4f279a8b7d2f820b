"""PDF rendering of printable forms (WeasyPrint + Jinja2, no Flask needed).

    from webapp.pdf import render_pdf, render_many
    pdf: bytes = render_pdf("application_form.html", forms=[form_dict])
    pdf: bytes = render_many("application_form.html", list_of_form_dicts,
                             progress=lambda done, total: ...)

Design (see scripts/build_fonts.py for the font side):

* Templates live in ``<project>/pdf_templates`` and are rendered by a plain,
  module-level Jinja2 Environment (autoescape on), so RQ jobs, scripts and
  tests can render without an app context.
* The CJK text is set in "CRM Sans GB", a GB2312 subset of Noto Sans CJK SC
  built once into FONT_DIR; characters outside it fall back (per character,
  CSS font-family) to the full system Noto Sans CJK SC.  Fonts are always
  embedded (WeasyPrint embeds a subset of what is used).
* The WeasyPrint FontConfiguration and the parsed stylesheets (fonts @font-face
  + base.css) are built once per process and reused: re-parsing the CSS and
  re-registering the 1.7 MB font for every document costs more than the layout
  of a one-page form.
* Batches (render_many) are laid out chunk by chunk (progress reported per
  chunk) and all pages are written as ONE PDF, so each font is subset and
  embedded once for the whole batch.

* CPython's GC thresholds are raised while rendering (see GC_THRESHOLDS):
  -10 % on one form, -50 % on a 200-form batch.

Thread-safety: a module-level lock serialises renders inside one process
(WeasyPrint/Pango objects are shared); scale with processes (gunicorn sync
workers, RQ workers).  Call warm_up() at worker start to pay the ~0.6 s
one-off setup there instead of on the first request.
"""
from __future__ import annotations

import atexit
import contextlib
import gc
import importlib.util
import logging
import os
import threading
from pathlib import Path
from typing import Any, Callable

from jinja2 import Environment, FileSystemLoader, select_autoescape

PROJECT_DIR = Path(__file__).resolve().parent.parent
TEMPLATE_DIR = PROJECT_DIR / "pdf_templates"
BUILDER_PATH = PROJECT_DIR / "scripts" / "build_fonts.py"
BASE_CSS = TEMPLATE_DIR / "base.css"

log = logging.getLogger(__name__)

# WeasyPrint allocates hundreds of thousands of small container objects per
# page, most of them alive until the page is written: with CPython's default
# GC thresholds (700, 10, 10) the collector keeps rescanning them.  Raising the
# thresholds while rendering measured -10..15 % for one form and ~-50 % for a
# 200-form batch.  Thresholds are restored afterwards.  PDF_GC_TUNING=0 disables.
GC_THRESHOLDS = (50_000, 20, 100)
GC_TUNING = os.environ.get("PDF_GC_TUNING", "1") not in ("0", "false", "no", "")


def _resolve_font_dir() -> Path:
    """$PDF_FONT_DIR, else $INSTANCE_DIR/fonts (as config.py), else <project>/instance/fonts."""
    if os.environ.get("PDF_FONT_DIR"):
        return Path(os.environ["PDF_FONT_DIR"]).resolve()
    if os.environ.get("INSTANCE_DIR"):
        return (Path(os.environ["INSTANCE_DIR"]) / "fonts").resolve()
    return PROJECT_DIR / "instance" / "fonts"


FONT_DIR: Path = _resolve_font_dir()

_lock = threading.RLock()
_fonts_ready = False
_fonts_failed = False
_builder = None
_font_config = None
_stylesheets: list | None = None
_stylesheets_key: tuple | None = None


# --------------------------------------------------------------------------- fonts

def _load_builder():
    """Import scripts/build_fonts.py by path (scripts/ is not a package)."""
    global _builder
    if _builder is None:
        spec = importlib.util.spec_from_file_location("_crm_build_fonts", BUILDER_PATH)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _builder = module
    return _builder


def ensure_fonts(*, force: bool = False) -> Path:
    """Build the subset font(s) into FONT_DIR unless already up to date.

    Cheap after the first call of the process (result cached).  The first build
    takes ~10 s; run ``python scripts/build_fonts.py`` at deploy time to avoid
    paying it on a request.  Returns the regular font file path.
    """
    global _fonts_ready
    builder = _load_builder()
    regular = FONT_DIR / builder.FONT_FILES["regular"][0]
    with _lock:
        if _fonts_ready and not force and regular.is_file():
            return regular
        builder.build(FONT_DIR, force=force, verbose=False)
        _fonts_ready = True
        _reset_stylesheets()
    return regular


def _fonts_css() -> str:
    builder = _load_builder()
    rules = []
    for weight, (filename, _ps, _style, css_weight) in builder.FONT_FILES.items():
        path = FONT_DIR / filename
        if weight != "regular" and not path.is_file():
            continue  # bold is optional (not built by default)
        rules.append(
            f"@font-face {{ font-family: {_css_string(builder.FAMILY)}; "
            f"src: url({_css_string(path.as_uri())}); font-weight: {css_weight}; "
            f"font-style: normal; }}")
    return "\n".join(rules)


def _css_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _reset_stylesheets() -> None:
    global _stylesheets, _stylesheets_key
    _stylesheets = None
    _stylesheets_key = None


def font_config():
    """The process-wide WeasyPrint FontConfiguration."""
    global _font_config
    if _font_config is None:
        from weasyprint.text.fonts import FontConfiguration
        _font_config = FontConfiguration()
        atexit.register(_cleanup_font_config)
    return _font_config


def _cleanup_font_config() -> None:
    """Remove the font config's temp folder while the interpreter is alive.

    FontConfiguration.__del__ would otherwise run at interpreter teardown, when
    shutil.rmtree may already be gone ("TypeError: 'NoneType' object is not
    callable" printed on exit).
    """
    import shutil

    folder = getattr(_font_config, "_folder", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        _font_config._folder = None


def _get_stylesheets() -> list:
    """@font-face rules + base.css, parsed once (re-parsed if base.css changes)."""
    global _stylesheets, _stylesheets_key
    from weasyprint import CSS

    try:
        key = (BASE_CSS.stat().st_mtime_ns, str(FONT_DIR))
    except FileNotFoundError:
        key = (None, str(FONT_DIR))
    if _stylesheets is None or _stylesheets_key != key:
        fc = font_config()
        sheets = [CSS(string=_fonts_css(), base_url=FONT_DIR.as_uri() + "/",
                      font_config=fc)]
        if key[0] is not None:
            sheets.append(CSS(filename=str(BASE_CSS), font_config=fc))
        _stylesheets, _stylesheets_key = sheets, key
    return _stylesheets


def _prepare() -> list:
    global _fonts_failed
    if not _fonts_ready and not _fonts_failed:
        try:
            ensure_fonts()
        except Exception:  # noqa: BLE001 - still print, with the (slower) system font
            _fonts_failed = True  # don't retry on every render of this process
            log.exception("PDF font subset unavailable; falling back to system fonts")
    return _get_stylesheets()


def warm_up() -> None:
    """Pay the one-off costs (font build check, FontConfiguration, CSS parsing,
    fontconfig/Pango font loading: ~0.6 s) up front, e.g. when an RQ worker or a
    gunicorn worker starts, instead of on the first request."""
    render_pdf("application_form.html", forms=[{"name": "预热 Warm-up"}])


# ----------------------------------------------------------------------- templates

_env = Environment(
    loader=FileSystemLoader(str(TEMPLATE_DIR)),
    autoescape=select_autoescape(enabled_extensions=("html", "htm", "xml", "j2"),
                                 default_for_string=True, default=True),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=True,
)


def jinja_env() -> Environment:
    return _env


def render_html(template_name: str, **context: Any) -> str:
    """The HTML a PDF is made from (handy for previews/debugging)."""
    return _env.get_template(template_name).render(**context)


def _layout(html: str, stylesheets: list):
    from weasyprint import HTML

    return HTML(string=html, base_url=TEMPLATE_DIR.as_uri() + "/").render(
        stylesheets=stylesheets, font_config=font_config())


def _write(document) -> bytes:
    return document.write_pdf()


@contextlib.contextmanager
def _gc_tuned():
    if not GC_TUNING:
        yield
        return
    old = gc.get_threshold()
    gc.set_threshold(*(max(a, b) for a, b in zip(old, GC_THRESHOLDS)))
    try:
        yield
    finally:
        gc.set_threshold(*old)


# ----------------------------------------------------------------------------- API

def render_pdf(template_name: str, **context: Any) -> bytes:
    """Render ``pdf_templates/<template_name>`` with ``context`` to PDF bytes."""
    html = render_html(template_name, **context)
    with _lock, _gc_tuned():
        stylesheets = _prepare()
        return _write(_layout(html, stylesheets))


def render_many(template_name: str, items: list[dict], *, key: str = "forms",
                progress: Callable[[int, int], None] | None = None,
                chunk: int = 50, **context: Any) -> bytes:
    """Render many items (one or more pages each) into ONE PDF.

    ``items`` are passed to the template in chunks of ``chunk`` as
    ``context[key]``; each chunk is laid out separately (bounded HTML size,
    progress feedback) and the pages of all chunks are written together, so the
    fonts are subset and embedded once.  ``progress(done, total)`` is called
    after each laid-out chunk except the last (``done`` = items laid out so far),
    then ``(total, total)`` once the PDF bytes are written: that call means
    finished.  Extra keyword arguments are passed to the template as is.

    Measured (2 vCPU, bench/bench_pdf.py): 200 forms in ~10 s (~50 ms/form),
    1 MB PDF; chunk size barely matters between 50 and 200 (10 is ~10 % slower).
    Merging per-chunk PDFs with pypdf was slower and embedded the font once
    per chunk (+30 % size).  Memory: laid-out pages are kept until the single
    write, ~1.1 MB per page (200 forms: ~330 MB peak RSS), so split jobs of
    more than ~1000 forms into several files.
    """
    items = list(items)
    total = len(items)
    if total == 0:  # a valid (blank) one-page PDF rather than an error
        data = render_pdf(template_name, **{**context, key: []})
        if progress is not None:
            progress(0, 0)
        return data
    chunk = max(1, int(chunk))
    pages = []
    first = None
    done = 0
    with _lock, _gc_tuned():
        stylesheets = _prepare()
        for start in range(0, total, chunk):
            part = items[start:start + chunk]
            html = render_html(template_name, **{**context, key: part})
            document = _layout(html, stylesheets)
            if first is None:
                first = document
            pages.extend(document.pages)
            done += len(part)
            if progress is not None and done < total:
                progress(done, total)
        pdf = _write(first.copy(pages))
    if progress is not None:
        progress(total, total)
    return pdf


__all__ = ["FONT_DIR", "TEMPLATE_DIR", "ensure_fonts", "render_pdf", "render_many",
           "render_html", "jinja_env", "font_config", "warm_up"]
