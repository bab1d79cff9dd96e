"""The register: centres, employees and their roles, data categories, systems and areas."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Date, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow

system_user_admins = Table(
    "system_user_admins", Base.metadata,
    Column("system_id", ForeignKey("systems.id"), primary_key=True),
    Column("employee_id", ForeignKey("employees.id"), primary_key=True),
)
system_categories = Table(
    "system_categories", Base.metadata,
    Column("system_id", ForeignKey("systems.id"), primary_key=True),
    Column("category_id", ForeignKey("data_categories.id"), primary_key=True),
)


class Centre(Base):
    __tablename__ = "centres"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("employees.id", use_alter=True))
    manager: Mapped["Employee | None"] = relationship(foreign_keys=[manager_id],
                                                      post_update=True)

    def __repr__(self) -> str:
        return f"<Centre {self.code}>"


class EmployeeRole(Base):
    __tablename__ = "employee_roles"

    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(20), primary_key=True)

    def __repr__(self) -> str:
        return f"<EmployeeRole {self.employee_id} {self.role}>"


class Employee(Base):
    __tablename__ = "employees"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id"), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(10), default="active")
    left_on: Mapped[date | None] = mapped_column(Date)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    # Bumped on logout, password change and leaving: older sessions stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    centre: Mapped[Centre] = relationship(foreign_keys=[centre_id])
    role_rows: Mapped[list[EmployeeRole]] = relationship(
        cascade="all, delete-orphan", order_by=EmployeeRole.role)

    @property
    def roles(self) -> list[str]:
        return [row.role for row in self.role_rows]

    def has_role(self, *roles: str) -> bool:
        return any(row.role in roles for row in self.role_rows)

    @property
    def active(self) -> bool:
        return self.status == "active"

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<Employee {self.username}>"


class DataCategory(Base):
    __tablename__ = "data_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    name_da: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))

    def __repr__(self) -> str:
        return f"<DataCategory {self.code} ({self.kind})>"


class System(Base):
    __tablename__ = "systems"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    external_owner: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    access_levels: Mapped[list] = mapped_column(JSON)
    scopes: Mapped[list] = mapped_column(JSON)

    owner: Mapped[Employee] = relationship(foreign_keys=[owner_id])
    user_admins: Mapped[list[Employee]] = relationship(
        secondary=system_user_admins, order_by=Employee.username)
    categories: Mapped[list[DataCategory]] = relationship(
        secondary=system_categories, order_by=DataCategory.code)
    areas: Mapped[list["NonGrantableArea"]] = relationship(
        back_populates="system", order_by="NonGrantableArea.key")

    def __repr__(self) -> str:
        return f"<System {self.code}>"


class NonGrantableArea(Base):
    """Part of a system that cannot be granted; its contact person helps instead (P6)."""

    __tablename__ = "non_grantable_areas"
    __table_args__ = (UniqueConstraint("system_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id"))
    key: Mapped[str] = mapped_column(String(60))
    name_da: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    scopes: Mapped[list] = mapped_column(JSON)
    categories: Mapped[list] = mapped_column(JSON)
    contact_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))

    system: Mapped[System] = relationship(back_populates="areas")
    contact: Mapped[Employee] = relationship()

    def __repr__(self) -> str:
        return f"<NonGrantableArea {self.key}>"
