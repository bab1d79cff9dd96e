"""Requests for access, their decisions, the grants they create, and acknowledgements."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow
from .register import Employee, System


class AccessRequest(Base):
    __tablename__ = "access_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    grantee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"), index=True)
    access_level: Mapped[str] = mapped_column(String(10))
    scope: Mapped[str] = mapped_column(String(10))
    purpose: Mapped[str] = mapped_column(String(60))
    tasks: Mapped[str] = mapped_column(Text)
    frequency: Mapped[str] = mapped_column(String(20))
    data_categories: Mapped[list] = mapped_column(JSON)
    write_justification: Mapped[str] = mapped_column(Text, default="")
    approvals_needed: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    # Bumped by every decision: a decision only lands on the version its maker saw.
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requester: Mapped[Employee] = relationship(foreign_keys=[requester_id])
    grantee: Mapped[Employee] = relationship(foreign_keys=[grantee_id])
    system: Mapped[System] = relationship()
    decisions: Mapped[list["Decision"]] = relationship(back_populates="request",
                                                       order_by="Decision.id")

    def __repr__(self) -> str:
        return f"<AccessRequest {self.id} {self.status}>"


class Decision(Base):
    """One approver's approve or reject on a request; dual approval needs two of these."""

    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("request_id", "approver_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("access_requests.id"), index=True)
    approver_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    decision: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[AccessRequest] = relationship(back_populates="decisions")
    approver: Mapped[Employee] = relationship()

    def __repr__(self) -> str:
        return f"<Decision {self.request_id} {self.decision}>"


class Grant(Base):
    __tablename__ = "grants"
    # The dashboard's figures and the review lists ask "which active grants fall due
    # when" and "how many of which kind in which system": answered from these indexes
    # without touching the table.
    __table_args__ = (
        Index("ix_grants_status_review_due", "status", "review_due"),
        Index("ix_grants_status_level_scope_system", "status", "access_level", "scope",
              "system_id", "grantee_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("access_requests.id"),
                                                   unique=True)
    grantee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"), index=True)
    access_level: Mapped[str] = mapped_column(String(10))
    scope: Mapped[str] = mapped_column(String(10))
    purpose: Mapped[str] = mapped_column(String(60))
    tasks: Mapped[str] = mapped_column(Text)
    frequency: Mapped[str] = mapped_column(String(20))
    data_categories: Mapped[list] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="approved", index=True)
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_due: Mapped[date | None] = mapped_column(Date, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(300))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    grantee: Mapped[Employee] = relationship(foreign_keys=[grantee_id])
    ended_by: Mapped[Employee | None] = relationship(foreign_keys=[ended_by_id])
    system: Mapped[System] = relationship()
    request: Mapped[AccessRequest | None] = relationship()
    reviews: Mapped[list["Review"]] = relationship(back_populates="grant",
                                                   order_by="Review.id")

    @property
    def awaits_acknowledgement(self) -> bool:
        """Created in the system, active only once the grantee acknowledges (P3)."""
        return self.status == "approved" and self.fulfilled_at is not None

    @property
    def in_system(self) -> bool:
        """Recorded as created in its system (the list rows carry the same name)."""
        return self.fulfilled_at is not None

    # The names list rows carry (services/listing.py), so one template shows either.
    @property
    def grantee_name(self) -> str:
        return self.grantee.name

    @property
    def system_code(self) -> str:
        return self.system.code

    def __repr__(self) -> str:
        return f"<Grant {self.id} {self.status}>"


class Acknowledgement(Base):
    """An employee's acknowledgement of the lookup principles (P3), one per occasion."""

    __tablename__ = "acknowledgements"
    # "Has this employee acknowledged since ...?" is asked for every live grant (the
    # dashboard, re-evaluation): answered from the index alone. Named by the convention
    # after its first column, it replaces the index on employee_id.
    __table_args__ = (Index(None, "employee_id", "acknowledged_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    principles_sha256: Mapped[str] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    employee: Mapped[Employee] = relationship()

    def __repr__(self) -> str:
        return f"<Acknowledgement {self.employee_id} {self.acknowledged_at:%Y-%m-%d}>"


class Review(Base):
    """A re-assessment of a grant (P5): keep moves the due date, revoke ends the grant."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    decision: Mapped[str] = mapped_column(String(10))  # keep | revoke
    comment: Mapped[str] = mapped_column(Text)
    reviewed_on: Mapped[date] = mapped_column(Date)
    due_before: Mapped[date | None] = mapped_column(Date)
    due_after: Mapped[date | None] = mapped_column(Date)
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    grant: Mapped[Grant] = relationship(back_populates="reviews")
    reviewer: Mapped[Employee] = relationship()

    def __repr__(self) -> str:
        return f"<Review {self.grant_id} {self.decision} {self.reviewed_on}>"
