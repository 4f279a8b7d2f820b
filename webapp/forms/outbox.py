"""The outbox page's filters (GET: no CSRF, they change nothing)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField
from wtforms.validators import Optional, ValidationError

from .. import permissions
from ..calendar import YEARS
from ..extensions import db
from ..models import Store, User
from ..services.messages import KINDS, STATUSES
from . import options
from .admin import optional_int
from .registration import DateField


def _in_years(form, field):
    if field.data and field.data.year not in YEARS:
        raise ValidationError(_l("日期应在%(first)s年至%(last)s年之间", first=YEARS.start,
                                 last=YEARS.stop - 1))


class OutboxFilterForm(FlaskForm):
    class Meta:
        csrf = False

    store_id = SelectField(_l("门店"), coerce=optional_int, validate_choice=False)
    template = SelectField(_l("类型"), validate_choice=False)
    status = SelectField(_l("状态"), validate_choice=False)
    first_day = DateField(_l("起始日期"), validators=[Optional(), _in_years])
    last_day = DateField(_l("截止日期"), validators=[Optional(), _in_years])

    def __init__(self, user: User, *args, **kwargs):
        super().__init__(*args, **kwargs)
        stores = db.session.scalars(select(Store).where(permissions.store_area_filter(
            user, Store.id, Store.area_id)).order_by(Store.code)).all()
        self.store_id.choices = options([("", _l("全部门店"))] + [(s.id, s.name) for s in stores])
        self.template.choices = options([("", _l("全部类型"))] + [(k, _l(v)) for k, v in KINDS.items()])
        self.status.choices = options([("", _l("全部状态"))] + [(k, _l(v)) for k, v in STATUSES.items()])

    def validate_last_day(self, field):
        if field.data and self.first_day.data and field.data < self.first_day.data:
            raise ValidationError(_l("截止日期不能早于起始日期"))
