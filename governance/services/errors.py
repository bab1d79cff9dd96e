"""Named domain errors that the web, API and CLI layers turn into answers for people."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..domain.rules import Check, failures


class GovernanceError(Exception):
    """Base of the errors a use case raises; code is stable, message is for people."""

    status = 400
    code = "bad_request"

    def __init__(self, message, *, field: str | None = None, code: str | None = None,
                 audit: dict | None = None):
        # The message may be a lazy translation: it is rendered in the reader's language.
        super().__init__(message)
        self.message = message
        self.field = field
        # The audit entry that records this refusal; written after the rollback, so the
        # evidence of a refused attempt survives while the attempt itself leaves nothing.
        self.audit = audit
        if code:
            self.code = code


def refusal_audit(action: str, object_type: str, object_id, what: str, checks: list[Check],
                  **details) -> dict:
    """The audit entry that records a refusal by the rules: which checks failed, and why."""
    codes = [check.code for check in checks]
    return {"action": action, "object_type": object_type, "object_id": object_id,
            "summary": f"{what} refused: {', '.join(codes)}",
            "details": {**details, "violations": codes}}


class InvalidInput(GovernanceError):
    status = 400
    code = "invalid_input"


# Free text a person writes (tasks, justifications, comments): kept whole, never cut.
MAX_TEXT = 4000


def within(value: str, field: str, limit: int = MAX_TEXT) -> str:
    """The text, if it fits where it is stored; else a 400 that names the field. Evidence
    is refused whole rather than kept cut short."""
    if len(value) > limit:
        raise InvalidInput(_l("'%(field)s' is longer than %(n)s characters", field=field,
                              n=limit), field=field)
    return value


class NotFound(GovernanceError):
    status = 404
    code = "not_found"


class Forbidden(GovernanceError):
    status = 403
    code = "forbidden"


class Conflict(GovernanceError):
    status = 409
    code = "conflict"


class RuleViolation(GovernanceError):
    """A request or decision refused by the rules; carries every failed check."""

    status = 422
    code = "rule_violation"

    def __init__(self, checks: list[Check], audit: dict | None = None):
        self.checks = checks
        super().__init__(" ".join(check.message_en for check in failures(checks)),
                         audit=audit)
