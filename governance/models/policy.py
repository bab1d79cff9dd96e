"""Versions of the policy files as loaded: what was in force, and since when."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class PolicyVersion(Base):
    __tablename__ = "policy_versions"
    # A content may come back (a change undone): each loading is its own version.
    __table_args__ = (Index("ix_policy_versions_name", "name", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))  # policy id, or "principles"
    file: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<PolicyVersion {self.name} {self.sha256[:12]}>"
