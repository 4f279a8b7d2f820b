"""Declared business processes. Importing this package registers every process with the engine."""
from . import (aftersale_call, care_batch, complaints, expiry, formal_card, holiday_year,  # noqa: F401
               mailbox, monthly_pack, registration, tier_change, visit_plan)
from . import weekly_routine  # noqa: F401,E402
