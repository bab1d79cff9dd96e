"""Telling people: messages queued in the outbox in the change's own transaction, sent later."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.vocabulary import end_reason_label, label
from ..models import AccessRequest, ApiToken, Employee, Grant, OutboxMessage
from .clock import day_text

LEVEL_DA = {"read": "læseadgang", "write": "skriveadgang"}
SCOPE_DA = {"summary": "overordnede oplysninger", "detail": "sagsdetaljer"}


def signature() -> str:
    from flask import current_app
    return f"\n\nVenlig hilsen\nDataadgangsregistret, {current_app.config['MUNICIPALITY']}\n"


def queue(session: Session, *, kind: str, recipient: Employee, subject: str, body: str,
          object_type: str, object_id, dedupe: str) -> OutboxMessage | None:
    """Queue one e-mail; the same dedupe key never queues twice."""
    key = f"{kind}:{object_type}:{object_id}:{recipient.username}:{dedupe}"[:200]
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
        return None
    message = OutboxMessage(dedupe_key=key, kind=kind, recipient=recipient,
                            recipient_email=recipient.email, subject=subject,
                            body=body + signature(), object_type=object_type,
                            object_id=str(object_id))
    session.add(message)
    session.flush()
    return message


def _day(day: date) -> str:
    """A date as the pages write it, in Danish: "3. maj 2024"."""
    return day_text(day, "da")


def _days(n: int) -> str:
    return f"{n} dag" if n == 1 else f"{n} dage"


def genitive(name: str) -> str:
    """A name's Danish genitive: "Tina Koudals", but "Karina Corfitz'" after s, x or z."""
    return f"{name}'" if name[-1:].lower() in ("s", "x", "z") else f"{name}s"


def _first_upper(text: str) -> str:
    """Upper-cases the first letter only (str.capitalize lowercases the rest, names and
    system codes included)."""
    return text[:1].upper() + text[1:]


def _access(item: AccessRequest | Grant) -> str:
    return (f"{LEVEL_DA.get(item.access_level, item.access_level)} til {item.system.code} "
            f"({SCOPE_DA.get(item.scope, item.scope)})")


def _what(item: AccessRequest | Grant) -> str:
    return f"{_access(item)} for {item.grantee.name} ({item.grantee.username})"


def new_request(session: Session, req: AccessRequest, approvers: Iterable[str]) -> None:
    for username in approvers:
        approver = session.scalar(select(Employee).where(Employee.username == username))
        if approver is None or not approver.active:
            continue
        queue(session, kind="request.new", recipient=approver, object_type="request",
              object_id=req.id, dedupe="",
              subject=f"Ny anmodning om adgang til {req.system.code} (nr. {req.id})",
              body=f"Kære {approver.name}\n\n{req.requester.name} har anmodet om "
                   f"{_what(req)}.\n\nArbejdsopgaver: {req.tasks}\n"
                   f"Hyppighed: {label(req.frequency)}\n\nAnmodningen venter på din afgørelse i dataadgangsregistret under "
                   f"Anmodninger.")


def decided(session: Session, req: AccessRequest) -> None:
    outcome = {"approved": "godkendt", "rejected": "afvist"}[req.status]
    comment = req.decisions[-1].comment if req.decisions else ""
    deciding = "reject" if req.status == "rejected" else "approve"   # who made the outcome
    deciders = " og ".join(dict.fromkeys(d.approver.name for d in req.decisions
                                         if d.decision == deciding))
    people = {req.requester.id: req.requester, req.grantee.id: req.grantee}
    for person in people.values():
        whose = ("Din anmodning" if person.id == req.requester.id
                 else f"{genitive(req.requester.name)} anmodning for dig")
        queue(session, kind="request.decided", recipient=person, object_type="request",
              object_id=req.id, dedupe=req.status,
              subject=f"{whose} om adgang til {req.system.code} er {outcome}",
              body=f"Kære {person.name}\n\nAnmodningen om {_what(req)} er {outcome}"
                   + (f" af {deciders}." if deciders else ".")
                   + (f"\n\nBemærkning: {comment}" if comment else "")
                   + ("\n\nSystemets brugeradministrator opretter nu adgangen." if
                      req.status == "approved" else ""))


def to_carry_out(session: Session, grant: Grant) -> None:
    for admin in grant.system.user_admins:
        queue(session, kind="grant.create_task", recipient=admin, object_type="grant",
              object_id=grant.id, dedupe="create",
              subject=f"Opret adgang i {grant.system.code} (adgang nr. {grant.id})",
              body=f"Kære {admin.name}\n\nDer er godkendt {_what(grant)}. Opret adgangen i "
                   f"{grant.system.name}, og registrér det under Opgaver i "
                   f"dataadgangsregistret.")


def acknowledge(session: Session, grant: Grant) -> None:
    person = grant.grantee
    queue(session, kind="grant.acknowledge", recipient=person, object_type="grant",
          object_id=grant.id, dedupe="",
          subject="Kvittér for principperne for opslag",
          body=f"Kære {person.name}\n\nDin adgang til {grant.system.code} er oprettet, men "
               f"den bliver først aktiv, når du har kvitteret for principperne for opslag: "
               f"du må kun slå borgere op, når dine arbejdsopgaver kræver det. Kvittér under "
               f"Principper i dataadgangsregistret.")


def acknowledge_reminder(session: Session, grant: Grant, days: int) -> OutboxMessage | None:
    """Once, a week after the access was created in its system, while the grantee has not
    acknowledged (P3)."""
    person = grant.grantee
    return queue(session, kind="grant.acknowledge_reminder", recipient=person,
                 object_type="grant", object_id=grant.id, dedupe="reminder",
                 subject="Påmindelse: kvittér for principperne for opslag",
                 body=f"Kære {person.name}\n\nDin adgang til {grant.system.code} blev oprettet "
                      f"for {_days(days)} siden, men den er ikke aktiv, før du har kvitteret "
                      f"for principperne for opslag (princip 3): du må kun slå borgere op, "
                      f"når dine arbejdsopgaver kræver det. Kvittér under Principper i "
                      f"dataadgangsregistret.")


def acknowledge_escalation(session: Session, grant: Grant, dpo: Employee,
                           days: int) -> OutboxMessage | None:
    """Once, to the DPO, when an access has been in its system for a month and its grantee
    has still not acknowledged (P3): held there, though not active in the register."""
    return queue(session, kind="grant.acknowledge_escalation", recipient=dpo,
                 object_type="grant", object_id=grant.id, dedupe="escalation",
                 subject=f"Ingen kvittering: adgang til {grant.system.code} (adgang nr. "
                         f"{grant.id})",
                 body=f"Kære {dpo.name}\n\n{genitive(grant.grantee.name)} adgang til "
                      f"{grant.system.code} blev oprettet i systemet for {_days(days)} siden, "
                      f"men {grant.grantee.name} har ikke kvitteret for principperne for "
                      f"opslag (princip 3). Adgangen findes i systemet, men er ikke aktiv i "
                      f"registret. Se Tilsyn i dataadgangsregistret.")


def renew_acknowledgement(session: Session, person: Employee, expires: date,
                          lapsed: bool) -> OutboxMessage | None:
    """P3: the yearly acknowledgement is about to lapse, or has; once each per year."""
    if lapsed:
        subject = "Din kvittering for principperne for opslag er udløbet"
        when = (f"Din kvittering for principperne for opslag udløb {_day(expires)}. "
                f"Indtil du kvitterer igen, har dine adgange ingen gyldig kvittering, og "
                f"databeskyttelsesrådgiveren ser dem som mangelfulde.")
    else:
        # `expires` is the first day it no longer counts: the last day to renew is the one
        # before.
        subject = (f"Kvittér igen for principperne for opslag senest "
                   f"{_day(expires - timedelta(days=1))}")
        when = (f"Din kvittering for principperne for opslag gælder et år og udløber "
                f"{_day(expires)}.")
    return queue(session, kind="acknowledgement.renew", recipient=person,
                 object_type="employee", object_id=person.username,
                 dedupe=f"{expires.isoformat()}:{'lapsed' if lapsed else 'due'}",
                 subject=subject,
                 body=f"Kære {person.name}\n\n{when} Du må kun slå borgere op, når dine "
                      f"arbejdsopgaver kræver det (princip 3). Kvittér under Principper i "
                      f"dataadgangsregistret.")


def to_remove(session: Session, grant: Grant) -> None:
    for admin in grant.system.user_admins:
        queue(session, kind="grant.remove_task", recipient=admin, object_type="grant",
              object_id=grant.id, dedupe="remove",
              subject=f"Fjern adgang i {grant.system.code} (adgang nr. {grant.id})",
              body=f"Kære {admin.name}\n\n{_first_upper(_what(grant))} er ophørt "
                   f"({end_reason_label(grant.end_reason)}). Fjern adgangen fra "
                   f"{grant.system.name}, og registrér det under Opgaver i "
                   f"dataadgangsregistret.")


def ended(session: Session, grant: Grant) -> None:
    """The grantee is told that their access has ended, and why (not a leaver: they are
    gone)."""
    person = grant.grantee
    if not person.active:
        return
    queue(session, kind="grant.ended", recipient=person, object_type="grant",
          object_id=grant.id, dedupe="",
          subject=f"Din adgang til {grant.system.code} er ophørt",
          body=f"Kære {person.name}\n\nDin {_access(grant)} er ophørt "
               f"({end_reason_label(grant.end_reason)}). Har du fortsat et arbejdsbetinget "
               f"behov, kan du anmode om adgang igen under Anmodninger i "
               f"dataadgangsregistret.")


def _not_removed(grant: Grant, days: int) -> str:
    return (f"{_first_upper(_what(grant))} ophørte for {_days(days)} siden "
            f"({end_reason_label(grant.end_reason)}), men det er ikke registreret, at den er "
            f"fjernet fra {grant.system.name}.")


def removal_reminder(session: Session, grant: Grant, admin: Employee, days: int,
                     week: int) -> OutboxMessage | None:
    """Once a week while an ended access is still in the system."""
    return queue(session, kind="grant.remove_reminder", recipient=admin, object_type="grant",
                 object_id=grant.id, dedupe=f"week {week}",
                 subject=f"Påmindelse: fjern adgang i {grant.system.code} (adgang nr. "
                         f"{grant.id})",
                 body=f"Kære {admin.name}\n\n{_not_removed(grant, days)} Fjern adgangen, og "
                      f"registrér det under Opgaver i dataadgangsregistret.")


def removal_escalation(session: Session, grant: Grant, dpo: Employee,
                       days: int) -> OutboxMessage | None:
    """Once, to the DPO, when an ended access has waited two weeks for removal."""
    active = [a.name for a in grant.system.user_admins if a.active]
    admins = (f"{'Brugeradministrator' if len(active) == 1 else 'Brugeradministratorer'}: "
              f"{', '.join(active)}." if active else
              f"{grant.system.code} har ingen aktiv brugeradministrator: systemadministratoren "
              "skal navngive en.")
    return queue(session, kind="grant.remove_escalation", recipient=dpo, object_type="grant",
                 object_id=grant.id, dedupe="escalation",
                 subject=f"Ikke fjernet: adgang til {grant.system.code} (adgang nr. "
                         f"{grant.id})",
                 body=f"Kære {dpo.name}\n\n{_not_removed(grant, days)} {admins}")


def review_reminder(session: Session, grant: Grant, person: Employee, threshold: int,
                    days_left: int) -> OutboxMessage | None:
    return queue(session, kind="review.reminder", recipient=person, object_type="grant",
                 object_id=grant.id, dedupe=f"{grant.review_due.isoformat()}:{threshold}",
                 subject=f"Revurdering af adgang til {grant.system.code} senest "
                         f"{_day(grant.review_due)}",
                 body=f"Kære {person.name}\n\n{_first_upper(_what(grant))} skal revurderes "
                      f"senest {_day(grant.review_due)} ("
                      f"{'i dag' if days_left == 0 else 'om ' + _days(days_left)}). Vurdér, "
                      f"om behovet fortsat er der, under Revurderinger i dataadgangsregistret "
                      f"(princip 5).")


def review_escalation(session: Session, grant: Grant, person: Employee,
                      overdue_days: int) -> OutboxMessage | None:
    return queue(session, kind="review.escalation", recipient=person, object_type="grant",
                 object_id=grant.id, dedupe=grant.review_due.isoformat(),
                 subject=f"Overskredet revurdering: adgang til {grant.system.code} "
                         f"(adgang nr. {grant.id})",
                 body=f"Kære {person.name}\n\nRevurderingen af {_what(grant)} skulle være "
                      f"sket senest {_day(grant.review_due)} og er nu overskredet med "
                      f"{_days(overdue_days)}. Adgangen skal revurderes mindst én gang årligt "
                      f"(princip 5). "
                      + ("Følg op hos de navngivne godkendere, eller se listen over "
                         "overskredne revurderinger under Tilsyn i dataadgangsregistret."
                         if "dpo" in person.roles else
                         "Revurdér adgangen under Revurderinger i dataadgangsregistret."))


def token_expiry(session: Session, token: ApiToken, person: Employee, expires: date,
                 days_left: int) -> OutboxMessage | None:
    """Once, to the token's owner and the administrators, before an API token stops working:
    an integration (the HR feed, say) would otherwise stop without warning."""
    owner = token.employee
    whose = "din" if person.id == owner.id else f"{genitive(owner.name)} ({owner.username})"
    return queue(session, kind="token.expiry", recipient=person, object_type="api_token",
                 object_id=token.id, dedupe=expires.isoformat(),
                 subject=f"API-nøgle nr. {token.id} udløber {_day(expires)}",
                 body=f"Kære {person.name}\n\n{_first_upper(whose)} API-nøgle nr. {token.id} "
                      f"holder op med at virke {_day(expires)} "
                      f"({'i dag' if days_left == 0 else 'om ' + _days(days_left)}). Bruges "
                      f"den af en integration, skal en administrator lave en ny med "
                      f"'flask --app wsgi token create {owner.username}' og sætte den ind "
                      f"i integrationen, og derefter tilbagekalde den gamle med 'flask --app "
                      f"wsgi token revoke {owner.username} --id {token.id}'.")
