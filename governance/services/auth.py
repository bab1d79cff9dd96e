"""Logging in with a local password, and API tokens: both audited."""
from __future__ import annotations

import hashlib
import secrets

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from ..domain.vocabulary import unstorable
from ..models import ApiToken, AuditEntry, Employee, EmployeeRole, LoginAttempt, utcnow
from . import audit, clock, notify, passwords, register
from .actor import Actor
from .errors import GovernanceError, InvalidInput, NotFound


# At most this many failed logins in the window: for one username from one address (a
# person mistyping, or a guesser at one account), for one username from anywhere (guessing
# spread over many machines), and from one address for usernames that did not then log in
# (a guesser trying many accounts). A person's own typos stop counting once they log in.
MAX_FAILURES_PER_USER_AND_ADDRESS = 5
MAX_FAILURES_PER_USER = 25
MAX_FAILURES_PER_ADDRESS = 20
THROTTLE_WINDOW = timedelta(minutes=15)


class LoginThrottled(GovernanceError):
    """Too many failed logins: wait before trying again (the limit is in the database)."""

    status = 429
    code = "login_throttled"


def _failures(session: Session, **match) -> int:
    """Failed logins in the window matching username and/or address, each counted unless
    that username logged in successfully (from anywhere) after it."""
    since = utcnow() - THROTTLE_WINDOW
    Later = aliased(LoginAttempt)
    cleared = exists().where(Later.username == LoginAttempt.username,
                             Later.succeeded.is_(True),
                             Later.attempted_at > LoginAttempt.attempted_at)
    return session.scalar(select(func.count(LoginAttempt.id)).where(
        *(getattr(LoginAttempt, key) == value for key, value in match.items()),
        LoginAttempt.succeeded.is_(False), LoginAttempt.attempted_at >= since, ~cleared))


def _throttled(session: Session, username: str, client_address: str) -> bool:
    return (_failures(session, username=username, client_address=client_address)
            >= MAX_FAILURES_PER_USER_AND_ADDRESS
            or _failures(session, username=username) >= MAX_FAILURES_PER_USER
            or _failures(session, client_address=client_address) >= MAX_FAILURES_PER_ADDRESS)


def _told_throttled(session: Session, username: str, client_address: str) -> bool:
    """Whether this username and address were already audited as throttled in the window:
    the trail records the lock once, not every knock on it."""
    since = utcnow() - THROTTLE_WINDOW
    return session.scalar(select(AuditEntry.id).where(
        AuditEntry.created_at >= since, AuditEntry.action == "auth.login_throttled",
        AuditEntry.object_id == username, AuditEntry.client_address == client_address)
        .limit(1)) is not None


def authenticate(session: Session, username: str, password: str,
                 client_address: str = "") -> Employee | None:
    """The employee if the password is right and they are active; every attempt is audited.
    Unknown users and wrong passwords look alike, and both count towards the limit. A
    username is one person whatever its case: "KFI" logs in, and is counted, as kfi."""
    username = register.as_stored(session, username[:64])
    if _throttled(session, username, client_address):
        if not _told_throttled(session, username, client_address):
            # Whoever knocks is not known: the trail names the attempt's username as its
            # object, not as its actor (an actor is someone who acted).
            audit.record(session, actor="anonymous", action="auth.login_throttled",
                         object_type="employee", object_id=username,
                         summary=f"Login for '{username}' refused: too many failed attempts",
                         client_address=client_address)
        raise LoginThrottled(_l("Too many failed logins. Wait 15 minutes and try again."))
    employee = session.scalar(select(Employee).where(Employee.username == username))
    ok = passwords.verify_password(employee.password_hash if employee else None, password)
    # The slow password check is done before queueing for the chain's lock: a stream of
    # guesses does not hold up the register's writers.
    audit.lock_chain(session)
    succeeded = bool(ok and employee.active)
    session.add(LoginAttempt(username=username, client_address=client_address,
                             succeeded=succeeded))
    if succeeded:
        audit.record(session, actor=employee.username, action="auth.login",
                     object_type="employee", object_id=employee.username,
                     summary=f"{employee.username} logged in", client_address=client_address)
        return employee
    reason = ("unknown user" if employee is None else "left" if ok
              else "wrong password")
    audit.record(session, actor="anonymous", action="auth.login_failed",
                 object_type="employee", object_id=username,
                 summary=f"Failed login for '{username}'", details={"reason": reason},
                 client_address=client_address)
    return None


def logout(session: Session, employee: Employee, client_address: str = "") -> None:
    """End every session of the employee, so a copied cookie stops working too."""
    employee.session_version += 1
    audit.record(session, actor=employee.username, action="auth.logout",
                 object_type="employee", object_id=employee.username,
                 summary=f"{employee.username} logged out", client_address=client_address)


def _person(session: Session, username: str) -> Employee:
    """The employee with this username, whatever its case ("KFI" is kfi)."""
    stored = register.stored_username(session, username)
    employee = session.scalar(select(Employee).where(Employee.username == stored)) \
        if stored else None
    if employee is None:
        raise NotFound(_l("No employee with username '%(username)s'", username=username),
                       field="username")
    return employee


def set_password(session: Session, actor: Actor, username: str, password: str) -> Employee:
    employee = _person(session, username)
    username = employee.username
    if not employee.active:
        raise InvalidInput(_l("%(username)s has left; no password can be set",
                              username=username), field="username")
    if len(password) < passwords.MIN_LENGTH:
        raise InvalidInput(_l("The password must be at least %(n)s characters",
                              n=passwords.MIN_LENGTH), field="password")
    if len(password) > passwords.MAX_LENGTH:
        raise InvalidInput(_l("The password may be at most %(n)s characters (the login page "
                              "takes no more)", n=passwords.MAX_LENGTH), field="password")
    if not password.strip():
        raise InvalidInput(_l("The password cannot be only spaces"), field="password")
    if unstorable(password):
        raise InvalidInput(_l("The password holds a character that cannot be typed at the "
                              "login page (%(char)s): choose another",
                              char=unstorable(password)), field="password")
    employee.password_hash = passwords.hash_password(password)
    employee.session_version += 1
    audit.record(session, actor=actor.username, action="user.password_set",
                 object_type="employee", object_id=username,
                 summary=f"Password set for {username}", client_address=actor.client_address)
    return employee


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# A token lasts a year unless made for less (or, at most, two years).
TOKEN_DAYS = 365
MAX_TOKEN_DAYS = 730


def create_token(session: Session, actor: Actor, username: str,
                 days: int = TOKEN_DAYS) -> str:
    """A new API token for the employee, working for `days`; only its SHA-256 is stored,
    the token shown once."""
    employee = _person(session, username)
    username = employee.username
    if not employee.active:
        raise InvalidInput(_l("%(username)s has left; no token can be created",
                              username=username), field="username")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise InvalidInput(_l("A token works for 1 to %(most)s days, not %(days)s",
                              most=MAX_TOKEN_DAYS, days=days), field="days")
    # The prefix names the product (dataadgangsregistret), not a municipality; tokens are
    # found by their hash alone, so those made before under another prefix still work.
    token = "dar_" + secrets.token_urlsafe(32)
    row = ApiToken(employee=employee, token_sha256=token_digest(token),
                   expires_at=utcnow() + timedelta(days=days))
    session.add(row)
    session.flush()
    until = row.expires_at.isoformat(timespec="minutes")
    audit.record(session, actor=actor.username, action="token.create",
                 object_type="api_token", object_id=row.id,
                 summary=f"API token {row.id} created for {username}, valid until {until}",
                 details={"employee": username, "expires_at": until},
                 client_address=actor.client_address)
    return token


def tokens_of(session: Session, username: str) -> list[ApiToken]:
    """The employee's API tokens, oldest first (the tokens themselves are not kept)."""
    employee = _person(session, username)
    return list(session.scalars(select(ApiToken).where(ApiToken.employee_id == employee.id)
                                .order_by(ApiToken.id)))


def revoke_tokens(session: Session, actor: Actor, username: str,
                  token_id: int | None = None) -> list[int]:
    """Revoke the employee's live API tokens (or only the one numbered `token_id`); each is
    audited. Returns the numbers revoked."""
    live = [t for t in tokens_of(session, username) if t.revoked_at is None
            and (token_id is None or t.id == token_id)]
    if token_id is not None and not live:
        raise NotFound(_l("%(username)s has no live API token number %(id)s",
                          username=username, id=token_id), field="id")
    for row in live:
        row.revoked_at = utcnow()
        audit.record(session, actor=actor.username, action="token.revoke",
                     object_type="api_token", object_id=row.id,
                     summary=f"API token {row.id} of {row.employee.username} revoked",
                     details={"employee": row.employee.username},
                     client_address=actor.client_address)
    session.flush()
    return [row.id for row in live]


# "Last used" is kept to the minute: a write on every call would make each read a writer
# (on SQLite, one holding the database's write lock).
TOKEN_USE_PRECISION = timedelta(minutes=1)


class TokenExpired(GovernanceError):
    """A token that was real, but whose time is up: the caller is told when, and how to get
    a new one (whoever holds the token already knows it existed)."""

    status = 401
    code = "token_expired"


def employee_for_token(session: Session, token: str) -> tuple[Employee | None, bool]:
    """The live token's owner, and whether its "last used" was moved on (to be committed).
    An expired token raises TokenExpired."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == token_digest(token),
                                                ApiToken.revoked_at.is_(None)))
    if row is None or not row.employee.active:
        return None, False
    now = utcnow()
    if row.expires_at <= now:
        raise TokenExpired(_l("The bearer token expired on %(moment)s UTC; an administrator "
                              "creates a new one with 'flask --app wsgi token create "
                              "%(username)s'.",
                              moment=row.expires_at.strftime("%Y-%m-%d %H:%M"),
                              username=row.employee.username))
    if row.last_used_at is not None and now - row.last_used_at < TOKEN_USE_PRECISION:
        return row.employee, False
    row.last_used_at = now
    return row.employee, True


# An API token that will stop working within this many days: its owner and the
# administrators are told once (by `reviews remind`).
TOKEN_REMIND_DAYS = 14


def remind_expiring_tokens(session: Session, as_of: date) -> list[int]:
    """Tell the owner and the administrators of each live token that stops working within
    TOKEN_REMIND_DAYS of `as_of`, once; the tokens whose people were told anew."""
    admins = session.scalars(select(Employee).join(EmployeeRole).where(
        EmployeeRole.role == "admin", Employee.status == "active")).all()
    reminded = []
    for token in session.scalars(select(ApiToken).where(ApiToken.revoked_at.is_(None))
                                 .options(selectinload(ApiToken.employee))
                                 .order_by(ApiToken.id)):
        expires = clock.local_date(token.expires_at)
        days_left = (expires - as_of).days
        if not token.employee.active or not 0 <= days_left <= TOKEN_REMIND_DAYS:
            continue
        people = {person.id: person for person in [token.employee, *admins]}
        told = [notify.token_expiry(session, token, person, expires, days_left)
                for person in people.values()]
        if any(told):
            reminded.append(token.id)
    return reminded
