"""Declared business processes. Importing this package registers every process with the engine."""
from . import registration  # noqa: F401
