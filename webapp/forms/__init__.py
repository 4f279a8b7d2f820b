"""The app's forms (Flask-WTF), one module a domain; `options` builds every select's choices."""
from wtforms import SelectChoice


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as a select's choices. WTForms 3.3 deprecates tuples as choices
    (removed in 3.4) and warns each time a form is built; SelectChoice is what it reads them as,
    so the rendered options and the validation are the same."""
    return [SelectChoice(value, label) for value, label in pairs]
