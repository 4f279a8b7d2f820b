"""Declared business processes. Importing this package registers every process with the engine."""
from . import complaints, formal_card, holiday_year, mailbox, registration, aftersale_call, tier_change  # noqa: F401
