"""Strings declared as data and translated only where they are shown.

Process, state, transition and task labels live in the workflow declarations
(webapp/workflows/*.py), and the company settings' labels in webapp/settings.py, as plain
Chinese strings; templates translate them at render time, e.g.
``{{ _(process.states[case.state]) }}``, ``{{ _(a.label) }}`` or ``{{ _(row.spec.label) }}``.
pybabel only extracts literal arguments of known keywords, so such strings are marked with
``N_``: a no-op that returns its argument unchanged and tells ``pybabel extract`` (keyword
``N_``, configured in babel.cfg) to put the string in translations/messages.pot.

New declarations should mark their labels directly::

    from ..i18n_labels import N_

    Process(name="...", label=N_("会员升级申请"), states={"review": N_("待审核")}, ...)

The lists below cover declarations written before this convention (workflows/registration.py,
settings.py); a string marked both here and in its declaration is extracted once.
tests/routes/test_i18n.py checks that every registered process's labels and every setting's
label have an English translation.
"""
from contextlib import contextmanager
from contextvars import ContextVar


def N_(message: str) -> str:
    """Mark `message` for translation without translating it (it is translated when rendered)."""
    return message


REGISTRATION = (
    # process
    N_("新会员入会登记"),
    # states
    N_("待总部审核"),
    N_("退回门店补全"),
    N_("已审核通过"),
    # transitions
    N_("审核通过"),
    N_("退回补全"),
    N_("补全后重新提交"),
    # tasks
    N_("审核新会员资料"),
    N_("补全会员资料"),
)

SETTINGS = (
    # webapp/settings.py SPECS: label and help, shown as {{ _(row.spec.label) }} on the admin page
    N_("品牌名称"),
    N_("公司名称"),
    N_("客服热线"),
    N_("成为正式会员所需积分"),
    N_("每消费1元积分"),
    N_("积分返现:每满多少分"),
    N_("积分返现:返多少元"),
    N_("续卡年费(元)"),
    N_("会员卡有效期(月)"),
    N_("期限按工作日计算(法定节假日与调休)"),
    N_("额外节假日(日历库未覆盖的年份)"),
    N_("每行一个日期,如 2031-01-01"),
    N_("额外调休工作日"),
    N_("每行一个日期"),
    N_("新会员资料审核期限"),
    N_("eod:1 = 次个工作日结束前"),
    N_("审核期限前几小时提醒"),
    N_("门店补全资料期限"),
    N_("补全期限前几小时提醒"),
)


_KEPT: ContextVar[dict | None] = ContextVar("say_kept", default=None)


@contextmanager
def kept():
    """Within the block say() keeps what it answered: the same message with the same values
    gives the same text. For code that builds the same labels hundreds of times in one language
    (the monthly pack's 221 scopes × 4 reports: Flask-Babel's lookups were about a quarter of
    the pack's time at 200 k members). The language must not change inside the block."""
    token = _KEPT.set({})
    try:
        yield
    finally:
        _KEPT.reset(token)


def say(message: str, **values) -> str:
    """gettext in a request; the Chinese message itself in jobs, scripts and the demo loader."""
    from flask import has_request_context
    from flask_babel import gettext

    memo = _KEPT.get()
    if memo is not None:
        key = (message, *sorted(values.items()))
        try:
            found = memo.get(key)
        except TypeError:  # a value that cannot be a key: not kept
            memo = None
        else:
            if found is not None:
                return found
    text = gettext(message, **values) if has_request_context() else (
        message % values if values else message)
    if memo is not None:
        memo[key] = text
    return text


class Label(str):
    """A declared label (N_-marked) used as a value in a Refusal: translated with it."""


class Refusal(Exception):
    """Something refused, in words for the user: an N_-marked Chinese message and its values.

    str(exc) translates when it is read, so a view can show it as it is: in a request it speaks
    the user's language; in a job, a test or a log, Chinese. Values that are Labels (a state's
    name, "系统") are translated too; names, times and numbers are shown as they are."""

    def __init__(self, message: str, **values):
        super().__init__(message)
        self.message, self.values = message, values

    def __str__(self) -> str:
        from flask_babel import gettext

        values = {k: gettext(v) if isinstance(v, Label) else v for k, v in self.values.items()}
        return gettext(self.message, **values)
