"""Decision form shared by every process's action buttons."""
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import InputRequired, Length


class DecisionForm(FlaskForm):
    version = HiddenField(validators=[InputRequired()])
    comment = TextAreaField(validators=[Length(max=1000)])
