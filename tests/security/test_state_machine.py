"""Random sequences of request, decide, fulfil, acknowledge, review, revoke and leave, by
random actors through the API; after every step the register's invariants must hold."""
import json

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, invariant, precondition, rule,
                                 run_state_machine_as_test)

from governance.domain.vocabulary import CRIMINAL_CATEGORY, SPECIAL_CATEGORIES
from governance.extensions import db
from governance.models import AccessRequest, AuditEntry, Decision, Employee, Grant
from governance.services.audit import verify_chain

PEOPLE = ["ahn", "mbe", "sjo", "lpe", "nra", "kfi", "tko", "dpo", "admin", "rha", "tbr",
          "sni", "lan"]
TASK_FORCE = ["ahn", "mbe", "sjo", "lpe", "nra"]
SYSTEM_CATEGORIES = {
    "UIS": ["identity", "cpr_number", "citizenship", "residence"],
    "CPR": ["identity", "address", "family", "religion"],
    "ACADRE": ["case_overview", "case_documents", "family", "employment", "health",
               "criminal"],
    "SAPA": ["identity", "benefits", "case_overview"],
}
TASKS = ["Kontrol", "Kontrol af lovligt ophold for EU-borgere i konkrete sager om ydelser"]
FORBIDDEN = set(SPECIAL_CATEGORIES) | {CRIMINAL_CATEGORY}
REACHED: set[str] = set()  # grant states the runs got to, so the test shows it went deep


def ids(model) -> list[int]:
    return list(db.session.scalars(sa.select(model.id).order_by(model.id)))


def pending_requests() -> list[int]:
    return list(db.session.scalars(sa.select(AccessRequest.id).where(
        AccessRequest.status == "pending").order_by(AccessRequest.id)))


def waiting_grants() -> list[int]:
    return list(db.session.scalars(sa.select(Grant.id).where(
        Grant.status == "approved", Grant.fulfilled_at.is_not(None)).order_by(Grant.id)))


class Register(RuleBasedStateMachine):
    def __init__(self, api, reset):
        super().__init__()
        reset()  # every run starts from the seeded register
        self.api = api

    @rule(requester=st.sampled_from(TASK_FORCE + PEOPLE), grantee=st.sampled_from(PEOPLE),
          system=st.sampled_from(sorted(SYSTEM_CATEGORIES)),
          level=st.sampled_from(["read"] * 4 + ["write"]),
          scope=st.sampled_from(["summary"] * 4 + ["detail"]),
          frequency=st.sampled_from(["weekly"] * 3 + ["daily", "once"]),
          tasks=st.sampled_from(TASKS[:1] + TASKS[1:] * 3),
          data=st.data())
    def request(self, requester, grantee, system, level, scope, frequency, tasks, data):
        pool = SYSTEM_CATEGORIES[system]
        if data.draw(st.integers(0, 3)):   # mostly what may be granted, sometimes anything
            pool = [c for c in pool if c not in FORBIDDEN | {"family", "employment"}]
        # A request names at least one category (none is a 400, tested on its own).
        categories = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2,
                                        unique=True))
        self.api(requester).post("/api/v1/requests", json={
            "grantee": grantee, "system": system, "access_level": level, "scope": scope,
            "frequency": frequency, "tasks": tasks, "data_categories": categories,
            "write_justification": tasks})

    # Actors are mostly the right ones, sometimes anyone: the machine gets far, and the
    # wrong actors keep being tried.
    @rule(actor=st.sampled_from(["kfi", "tko"] * 3 + PEOPLE),
          decision=st.sampled_from(["approve"] * 3 + ["reject"]), data=st.data())
    @precondition(lambda self: pending_requests())
    def decide(self, actor, decision, data):
        request_id = data.draw(st.sampled_from(pending_requests()))
        self.api(actor).post(f"/api/v1/requests/{request_id}/decision",
                             json={"decision": decision, "comment": "Vurderet"})

    @rule(right_actor=st.booleans(), anyone=st.sampled_from(PEOPLE), data=st.data())
    @precondition(lambda self: ids(Grant))
    def fulfil(self, right_actor, anyone, data):
        """Mostly the system's user administrator."""
        grant = db.session.get(Grant, data.draw(st.sampled_from(ids(Grant))))
        actor = grant.system.user_admins[0].username if right_actor else anyone
        self.api(actor).post(f"/api/v1/grants/{grant.id}/fulfil")

    @rule(data=st.data())
    @precondition(lambda self: waiting_grants())
    def acknowledge(self, data):
        """A grantee whose access waits for the acknowledgement (anyone may acknowledge)."""
        grant = db.session.get(Grant, data.draw(st.sampled_from(waiting_grants())))
        self.api(grant.grantee.username).post("/api/v1/acknowledgements")

    @rule(actor=st.sampled_from(["kfi", "tko"] + PEOPLE),
          decision=st.sampled_from(["keep", "revoke"]), data=st.data())
    @precondition(lambda self: ids(Grant))
    def review(self, actor, decision, data):
        grant_id = data.draw(st.sampled_from(ids(Grant)))
        self.api(actor).post(f"/api/v1/grants/{grant_id}/review",
                             json={"decision": decision, "comment": "Revurderet"})

    @rule(actor=st.sampled_from(["kfi", "tko", "admin"] * 2 + PEOPLE), data=st.data())
    @precondition(lambda self: ids(Grant))
    def revoke(self, actor, data):
        grant_id = data.draw(st.sampled_from(ids(Grant)))
        self.api(actor).post(f"/api/v1/grants/{grant_id}/revoke",
                             json={"reason": "Ikke længere behov"})

    @rule(leaver=st.sampled_from(TASK_FORCE))
    def leave(self, leaver):
        self.api("admin").patch(f"/api/v1/employees/{leaver}", json={"status": "left"})

    @invariant()
    def active_grants_rest_on_an_approved_request_and_its_audit_entries(self):
        db.session.expire_all()
        for grant in db.session.scalars(sa.select(Grant).where(Grant.status == "active")):
            req = grant.request
            assert req is not None and req.status == "approved"
            approvals = [d for d in req.decisions if d.decision == "approve"]
            assert len({d.approver_id for d in approvals}) >= req.approvals_needed
            actions = set(db.session.scalars(sa.select(AuditEntry.action).where(
                AuditEntry.object_id.in_([str(req.id), str(grant.id)]))))
            assert {"request.create", "request.approve", "grant.create", "grant.fulfil",
                    "grant.activate"} <= actions
            assert grant.fulfilled_at is not None

    @invariant()
    def no_special_category_is_ever_granted(self):
        for categories in db.session.scalars(sa.select(Grant.data_categories)):
            assert not FORBIDDEN & set(categories)

    @invariant()
    def nobody_decides_for_themselves(self):
        for decision in db.session.scalars(sa.select(Decision)):
            assert decision.approver_id not in (decision.request.requester_id,
                                                decision.request.grantee_id)
            assert decision.approver.username in ("kfi", "tko")

    @invariant()
    def leavers_hold_no_live_access(self):
        live = db.session.scalar(sa.select(sa.func.count(Grant.id)).join(
            Employee, Employee.id == Grant.grantee_id).where(
            Employee.status == "left", Grant.status.in_(("approved", "active"))))
        assert live == 0

    @invariant()
    def note_the_states_reached(self):
        REACHED.update(db.session.scalars(sa.select(Grant.status).distinct()))

    @invariant()
    def refusals_left_evidence_and_the_chain_verifies(self):
        for details in db.session.scalars(sa.select(AuditEntry.details).where(
                AuditEntry.action == "request.refused")):
            assert json.loads(details)["violations"]
        assert verify_chain(db.session).ok


def test_register_invariants_hold_under_random_use(app, client):
    reset = app.extensions["test_reset_database"]

    def fresh_callers():
        """Bearer tokens made by the CLI for everyone, before anyone can have left."""
        tokens = {}
        for username in PEOPLE:
            result = app.test_cli_runner().invoke(args=["token", "create", username])
            tokens[username] = result.output.strip()

        def caller(username):
            headers = {"Authorization": f"Bearer {tokens[username]}"}

            class Caller:
                def post(self, path, **kw):
                    return client.post(path, headers=headers, **kw)

                def patch(self, path, **kw):
                    return client.patch(path, headers=headers, **kw)
            return Caller()
        return caller

    def machine():
        machine = Register(None, reset)
        machine.api = fresh_callers()
        return machine

    run_state_machine_as_test(
        machine,
        settings=settings(max_examples=15, stateful_step_count=60, deadline=None,
                          derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.function_scoped_fixture]))
    assert {"approved", "active", "revoked"} <= REACHED, REACHED
