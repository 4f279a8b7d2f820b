"""Declared business processes. Importing this package registers every process with the engine."""
from . import complaints, mailbox, registration  # noqa: F401
