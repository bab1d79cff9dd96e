"""SQLAlchemy models, one module per aggregate."""
from .audit import AuditEntry, AuditHead
from .base import Base, UTCDateTime, utcnow
from .grant import AccessRequest, Acknowledgement, Decision, Grant, Review
from .outbox import OutboxMessage
from .policy import PolicyVersion
from .register import (Centre, DataCategory, Employee, EmployeeRole, NonGrantableArea,
                       System, system_categories, system_user_admins)
from .token import ApiToken, LoginAttempt

__all__ = [
    "AccessRequest", "Acknowledgement", "ApiToken", "AuditEntry", "AuditHead", "Base",
    "Centre", "DataCategory", "Decision", "Employee", "EmployeeRole", "Grant", "LoginAttempt",
    "NonGrantableArea", "OutboxMessage", "PolicyVersion", "Review", "System", "UTCDateTime", "system_categories",
    "system_user_admins", "utcnow",
]
