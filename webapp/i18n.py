"""Flask-Babel's translations, looked up once per request instead of once per string.

Flask-Babel 4 finds the catalogue anew for every `_()` / `gettext`: the babel namespace in `g`
three times, the locale, its identifier as a string, then its cache — about 20 µs, and a page
translates 40 to 80 strings (the navigation alone some twenty). `RequestDomain` keeps the
catalogue it found in that same namespace (`g._flask_babel.babel_translations`), beside the
locale Flask-Babel already keeps there, so both live and go together: `flask_babel.refresh()`
drops it with the locale, `force_locale` sets it aside and restores it (both already handle
this attribute), and a new request starts without it. Which catalogue a string gets is unchanged.

Asking the domain itself (`DOMAIN`) also skips `flask_babel.get_domain()`, which finds the
request's default domain through `g` again for every string (~7 of the remaining 8 µs): the
templates' `_()` (`install_jinja`) and the per-row helpers of `formatting` do. The app has one
domain ("messages") and never sets another as the request's default (`Domain.as_default`).
"""
from __future__ import annotations

from functools import lru_cache

from babel import support
from flask import Request as FlaskRequest
from flask import g
from flask_babel import Domain, _get_current_context, get_locale
from jinja2 import pass_context
from markupsafe import Markup


class RequestDomain(Domain):
    def get_translations(self):
        try:
            namespace = g._get_current_object().__dict__.get("_flask_babel")
        except RuntimeError:  # outside an application context: Flask-Babel's answer
            return support.NullTranslations()
        translations = getattr(namespace, "babel_translations", None)
        if translations is None:
            translations = super().get_translations()
            _get_current_context().babel_translations = translations
        return translations


DOMAIN = RequestDomain()  # Flask-Babel's own default domain (extensions.babel.domain_instance)


def gettext(message: str, **values) -> str:
    """flask_babel.gettext for hot paths (a string per inbox row)."""
    text = DOMAIN.get_translations().ugettext(message)
    return text % values if values else text


@pass_context
def _template_gettext(__context, __string: str, **variables):
    """Jinja's new-style gettext (jinja2.ext._make_new_gettext), without its two
    `Context.call` hops (`_` → "gettext" → the callable): a template's most frequent call."""
    text = DOMAIN.get_translations().ugettext(__string)
    if __context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables  # always a format string, as Jinja's own


def install_jinja(app) -> None:
    """The templates' `_()`, `gettext`, `ngettext`… as Flask-Babel installs them (new style:
    autoescaped, %-formatted), asking DOMAIN directly."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: DOMAIN.get_translations().ugettext(s),
        ngettext=lambda s, p, n: DOMAIN.get_translations().ungettext(s, p, n),
        pgettext=lambda c, s: DOMAIN.get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: DOMAIN.get_translations().unpgettext(c, s, p, n),
        newstyle=True)
    app.jinja_env.globals.update(gettext=_template_gettext, _=_template_gettext)


@lru_cache(maxsize=8)
def _wtforms_catalogue(locale: str):
    from wtforms.i18n import messages_path

    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class Request(FlaskRequest):
    """The app's request (`app.request_class`). Flask-WTF translates WTForms' own messages and
    default labels with a catalogue it keeps in `request.wtforms_translations`, loading it from
    disk when missing — on every request that builds a form (~0.5 ms: the case page, every
    POST). The same catalogue (same file, same language) is loaded here once per language and
    process, and is what Flask-WTF then finds."""

    @property
    def wtforms_translations(self):
        catalogue = self.__dict__.get("_wtforms_translations")
        if catalogue is None:
            catalogue = self.__dict__["_wtforms_translations"] = _wtforms_catalogue(str(get_locale()))
        return catalogue

    @wtforms_translations.setter
    def wtforms_translations(self, value):  # Flask-WTF stores what it loaded
        self.__dict__["_wtforms_translations"] = value
