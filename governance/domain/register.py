"""Plain facts about the register that the policy and the rules are checked against."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class AreaFacts:
    """An area of a system that cannot be granted; its contact person helps instead (P6)."""

    system: str
    key: str
    name_da: str
    name_en: str
    contact: str
    contact_name: str = ""
    contact_email: str = ""
    scopes: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    def touched_by(self, scope: str, categories: set[str]) -> bool:
        """A request touches the area when it matches every condition the area sets."""
        if self.scopes and scope not in self.scopes:
            return False
        if self.categories and not categories & set(self.categories):
            return False
        return True


@dataclass(frozen=True)
class SystemFacts:
    code: str
    name: str
    access_levels: tuple[str, ...]
    scopes: tuple[str, ...]
    data_categories: tuple[str, ...]
    areas: dict[str, AreaFacts] = field(default_factory=dict)


@dataclass(frozen=True)
class PersonFacts:
    username: str
    name: str
    roles: frozenset[str] = frozenset()
    active: bool = True


@dataclass(frozen=True)
class RegisterFacts:
    systems: dict[str, SystemFacts] = field(default_factory=dict)
    people: dict[str, PersonFacts] = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)
    # Where the facts come from, as messages name it: "the register" or "the seed".
    source: str = "the register"
