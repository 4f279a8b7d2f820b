"""Declared business processes. Importing this package registers every process with the engine."""
from . import complaints, holiday_year, mailbox, registration  # noqa: F401
