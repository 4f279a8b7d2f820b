"""Declared business processes. Importing this package registers every process with the engine."""
from . import complaints, registration  # noqa: F401
