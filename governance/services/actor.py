"""Who is acting, and from where: passed into every use case."""
from __future__ import annotations

from dataclasses import dataclass

from ..models import Employee


@dataclass(frozen=True)
class Actor:
    username: str
    employee_id: int | None = None
    roles: frozenset[str] = frozenset()
    client_address: str = ""

    @classmethod
    def of(cls, employee: Employee, client_address: str = "") -> "Actor":
        return cls(employee.username, employee.id, frozenset(employee.roles), client_address)

    @classmethod
    def system(cls, client_address: str = "cli") -> "Actor":
        """The operator at the command line or the scheduler: not a person in the register."""
        return cls("system", None, frozenset({"system"}), client_address)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))
