"""Who may see and do what: one place, used by pages and API alike (deny by default)."""
from __future__ import annotations

from .actor import Actor

PEOPLE_VIEWERS = ("approver", "user_admin", "dpo", "admin")


def can_view_people(actor: Actor) -> bool:
    """The employee register, with everyone's grants."""
    return actor.has_role(*PEOPLE_VIEWERS)


def can_view_employee(actor: Actor, username: str) -> bool:
    return actor.username == username or can_view_people(actor)


def can_read_audit(actor: Actor) -> bool:
    return actor.has_role("dpo", "admin")


def can_administer_people(actor: Actor) -> bool:
    return actor.has_role("admin")


def can_read_reports(actor: Actor) -> bool:
    """Exports of the register, reviews and audit trail, and the status report."""
    return actor.has_role("dpo", "admin")


def can_read_review_report(actor: Actor) -> bool:
    """The yearly review report: also for the approvers, who do the reviews."""
    return actor.has_role("approver", "dpo", "admin")


def abilities(actor: Actor) -> list[str]:
    """What the actor may do, as stable keys the overview page explains."""
    result = ["view_own_grants", "view_systems", "view_principles"]
    if actor.has_role("requester"):
        result.append("request_access")
    if actor.has_role("approver"):
        result += ["decide_requests", "review_grants"]
    if actor.has_role("user_admin"):
        result.append("fulfil_grants")
    if can_view_people(actor):
        result.append("view_people")
    if can_read_audit(actor):
        result.append("read_audit")
    if can_administer_people(actor):
        result.append("administer_people")
    return result
