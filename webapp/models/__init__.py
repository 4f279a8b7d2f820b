"""Database models, one module per domain; everything is importable from `webapp.models`.

base (roles, ids, aware times) ← org, members, workflow, outbox, complaints, sales, calendar.
"""
from .base import (AREA_ROLES, COMPANY_ROLES, MAX_ID, ROLE_LABELS, STORE_ROLES, Role, TZDateTime,  # noqa: F401
                   parse_id)
from .calendar import CalendarDay  # noqa: F401
from .complaints import Complaint  # noqa: F401
from .members import Member, MemberAnniversary, PointsEntry  # noqa: F401
from .org import Area, LoginAttempt, Setting, Store, User  # noqa: F401
from .outbox import OutboxMessage  # noqa: F401
from .sales import ApiToken, MemberMonth, Sale, SalesTarget, StoreMonth  # noqa: F401
from .workflow import (AuditEvent, BatchJob, Case, CaseTimer, Notification, StandIn,  # noqa: F401
                       Task)
from .expiry import CardRenewal  # noqa: F401
from .care import CareLine  # noqa: F401
from .messaging import MessageTemplateVersion  # noqa: F401
from .records import AnalysisSnapshot  # noqa: F401
from .visits import PlanItem, StoreVisitScore, VisitRecord  # noqa: F401
from .security import MemberKey  # noqa: F401
from .routine import RoutineQuestion  # noqa: F401
from .staff_messages import GroupRobot, OutgoingWebhook, StaffPost  # noqa: F401
