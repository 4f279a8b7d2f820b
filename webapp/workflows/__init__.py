"""Declared business processes. Importing this package registers every process with the engine."""
from . import (care_batch, complaints, expiry, formal_card, holiday_year, mailbox,  # noqa: F401
               monthly_pack, registration, visit_plan)
