"""The HR feed, leavers, the audit API and the outbox."""
import pytest
import sqlalchemy as sa

from governance.extensions import db
from governance.mailer import send_outbox
from governance.models import AccessRequest, Employee, Grant, OutboxMessage
from governance.services import clock

from .helpers import file_request, last_audit


def approve_and_fulfil(api, **extra) -> int:
    request_id = file_request(api, **extra)
    grant_id = api("kfi").post(f"/api/v1/requests/{request_id}/decision",
                               json={"decision": "approve"}).get_json()["grant_id"]
    system = extra.get("system", "UIS")
    admin = {"UIS": "rha", "CVR": "ekj"}[system]
    assert api(admin).post(f"/api/v1/grants/{grant_id}/fulfil").status_code == 200
    return grant_id


def test_leaver_has_every_grant_revoked_at_once(api):
    active = approve_and_fulfil(api)
    api("ahn").post("/api/v1/acknowledgements")
    not_yet_created = file_request(api, system="CVR", data_categories=["identity"])
    grant2 = api("tko").post(f"/api/v1/requests/{not_yet_created}/decision",
                             json={"decision": "approve"}).get_json()["grant_id"]
    pending = file_request(api, system="EINDKOMST", data_categories=["income"])
    token_holder = api("ahn")
    response = api("admin").patch("/api/v1/employees/ahn", json={"status": "left"})
    assert response.status_code == 200 and response.get_json()["status"] == "left"
    # The day they left is kept and shown: the evidence that removal followed promptly.
    assert response.get_json()["left_on"] == clock.today().isoformat()
    assert api("dpo").get("/api/v1/employees/mbe").get_json()["left_on"] is None
    first, second = db.session.get(Grant, active), db.session.get(Grant, grant2)
    assert (first.status, first.end_reason) == ("revoked", "left")
    assert (second.status, second.end_reason) == ("revoked", "left")
    assert db.session.get(AccessRequest, pending).status == "withdrawn"
    to_remove = api("rha").get("/api/v1/tasks").get_json()["to_remove"]
    assert [g["id"] for g in to_remove] == [active]           # only what exists in UIS
    assert api("ekj").get("/api/v1/tasks").get_json()["to_remove"] == []
    assert token_holder.get("/api/v1/me").status_code == 401   # the leaver's token is dead
    assert api("admin").patch("/api/v1/employees/ahn", json={"status": "left"}).status_code == 200


def test_only_admin_feeds_employees(api):
    assert api("kfi").patch("/api/v1/employees/ahn", json={"status": "left"}).status_code == 403
    assert api("dpo").post("/api/v1/employees", json={}).status_code == 403
    assert db.session.scalar(sa.select(Employee.status).where(Employee.username == "ahn")) == \
        "active"


def test_create_and_update_employee(api):
    response = api("admin").post("/api/v1/employees", json={
        "username": "xyz", "name": "Xenia Yde", "email": "xyz@htk.dk", "centre": "SAC",
        "title": "Socialrådgiver", "roles": ["requester"]})
    assert response.status_code == 201, response.get_json()
    assert last_audit().action == "employee.create"
    response = api("admin").patch("/api/v1/employees/xyz", json={"title": "Teamleder"})
    assert response.get_json()["title"] == "Teamleder"
    assert last_audit().action == "employee.update"
    assert api("admin").post("/api/v1/employees", json={
        "username": "xyz", "name": "X", "email": "x@htk.dk", "centre": "SAC"}).status_code == 409


@pytest.mark.parametrize("body, field", [
    ({"name": "A", "email": "a@htk.dk", "centre": "SAC"}, "username"),
    ({"username": "q", "name": "A", "email": "nope", "centre": "SAC"}, "email"),
    ({"username": "q", "name": "A", "email": "a@htk.dk", "centre": "NOPE"}, "centre"),
    ({"username": "q", "name": "A", "email": "a@htk.dk", "centre": "SAC",
      "roles": ["king"]}, "roles"),
    ({"username": "q", "name": "A", "email": "a@htk.dk", "centre": "SAC",
      "password_hash": "x"}, "password_hash"),
    ({"username": "x y/z", "name": "A", "email": "a@htk.dk", "centre": "SAC"}, "username"),
    ({"username": "q", "name": "A", "email": "a@htk.dk", "centre": ["SAC"]}, "centre"),
    ({"username": "q", "name": "A", "email": "a@htk.dk", "centre": {"a": 1}}, "centre"),
    ({"username": "q", "name": "A\ud800", "email": "a@htk.dk", "centre": "SAC"}, "name"),
    # Longer than the column holds: refused whole, not cut (and no 500 on PostgreSQL).
    ({"username": "q", "name": "x" * 201, "email": "a@htk.dk", "centre": "SAC"}, "name"),
    ({"username": "q", "name": "A", "email": "a@" + "h" * 253, "centre": "SAC"}, "email"),
    ({"username": "q", "name": "A", "email": "a@htk.dk", "centre": "SAC",
      "title": "t" * 201}, "title"),
    ({"username": "q" * 65, "name": "A", "email": "a@htk.dk", "centre": "SAC"}, "username"),
    # /employees/new is the page for adding an employee, so no one is called that.
    ({"username": "New", "name": "A", "email": "a@htk.dk", "centre": "SAC"}, "username"),
])
def test_bad_employee_input_is_400(api, body, field):
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Employee))
    response = api("admin").post("/api/v1/employees", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Employee)) == before


@pytest.mark.parametrize("body, field", [
    ({"centre": ["ØAC"]}, "centre"), ({"title": 7}, "title"), ({"status": "gone"}, "status"),
    ({"title": "t" * 230}, "title"), ({"name": "n" * 201}, "name"),
])
def test_bad_employee_change_is_400_naming_the_field(api, body, field):
    response = api("admin").patch("/api/v1/employees/mbe", json=body)
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["field"] == field


def test_a_username_differing_only_in_case_is_taken(api):
    response = api("admin").post("/api/v1/employees", json={
        "username": "AHN", "name": "A", "email": "a@htk.dk", "centre": "SAC"})
    assert response.status_code == 409
    assert response.get_json()["error"]["field"] == "username"
    assert "'ahn'" in response.get_json()["error"]["message"]


def test_an_administrator_cannot_mark_themselves_as_left(api):
    response = api("admin").patch("/api/v1/employees/admin", json={"status": "left"})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "status"
    assert db.session.scalar(sa.select(Employee.status).filter_by(username="admin")) == "active"
    assert api("admin").get("/api/v1/me").status_code == 200


def test_audit_api_for_dpo_and_admin_only(api):
    file_request(api)
    assert api("ahn").get("/api/v1/audit").status_code == 403
    assert api("kfi").get("/api/v1/audit/verify").status_code == 403
    body = api("dpo").get("/api/v1/audit?action=request.create").get_json()
    assert body["total"] == 1 and body["items"][0]["actor"] == "ahn"
    assert body["items"][0]["details"]["after"]["system"] == "UIS"
    assert api("dpo").get("/api/v1/audit?actor=ahn&object_type=request").get_json()["total"] == 1
    assert api("dpo").get("/api/v1/audit?from=2000-01-01&to=2000-12-31").get_json()["total"] == 0
    assert api("dpo").get("/api/v1/audit?from=yesterday").status_code == 400
    verify = api("admin").get("/api/v1/audit/verify").get_json()
    assert verify["ok"] is True and verify["entries"] > 0
    last = f"{verify['entries']}:{verify['last_hash']}"
    assert api("dpo").get(f"/api/v1/audit/verify?anchor={last}").get_json()["ok"] is True
    wrong = api("dpo").get(f"/api/v1/audit/verify?anchor={verify['entries']}:{'0' * 64}")
    assert wrong.get_json()["ok"] is False and wrong.get_json()["broken_entry"] == \
        verify["entries"]
    for given in ("last", "", "%20"):   # an empty one is not a check that looks passed
        bad = api("dpo").get(f"/api/v1/audit/verify?anchor={given}")
        assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "anchor"


def test_outbox_sends_each_message_once(api, app):
    file_request(api)
    app.config["MAIL_BACKEND"] = "memory"
    queued = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))
    assert queued == 2                                         # both approvers told
    first = send_outbox(db.session)
    second = send_outbox(db.session)
    assert (first.sent, second.sent) == (2, 0)
    sent = app.extensions["mail_memory"].sent
    assert sorted(m["To"] for m in sent) == ["kfi@htk.dk", "tko@htk.dk"]
    assert "Ny anmodning" in sent[0]["Subject"]
    assert "Anne Holm Nielsen" in sent[0].get_content()


def test_notify_send_command(api, app):
    file_request(api)
    app.config["MAIL_BACKEND"] = "memory"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["notify", "send"]).output == "2 sent.\n"
    assert runner.invoke(args=["notify", "send"]).output == "0 sent.\n"


def test_failed_send_is_retried_later(api, app, monkeypatch):
    file_request(api)
    app.config["MAIL_BACKEND"] = "smtp"
    app.config["MAIL_SERVER"], app.config["MAIL_PORT"] = "127.0.0.1", 9  # nothing listens
    report = send_outbox(db.session)
    assert (report.sent, report.failed) == (0, 2)
    # Nothing listens: the run stops at the first message; the other waits untried.
    message = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).first()
    assert message.sent_at is None and message.attempts == 1 and message.last_error
    assert message.last_error.startswith("127.0.0.1:9: ")      # which server refused
    failed = app.test_cli_runner().invoke(args=["notify", "send"])
    assert failed.exit_code == 1
    assert "0 sent, 2 failed; they are tried again" in failed.output
    assert "Last error: 127.0.0.1:9: " in failed.output
    app.config["MAIL_BACKEND"] = "memory"
    assert send_outbox(db.session).sent == 2


def test_smtp_backend_delivers_to_a_real_smtp_server(api, app):
    """The production SMTP code against a local SMTP server (aiosmtpd)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Collect(Message):
        def handle_message(self, message):
            received.append(message)

    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Collect(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        file_request(api)
        app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1",
                          MAIL_PORT=port,
                          MAIL_USE_TLS=False, MAIL_FROM="dataadgang@htk.dk")
        report = send_outbox(db.session)
    finally:
        controller.stop()
    assert report.sent == 2
    assert sorted(m["To"] for m in received) == ["kfi@htk.dk", "tko@htk.dk"]
    assert received[0]["From"] == "dataadgang@htk.dk"
    assert "Ny anmodning om adgang til UIS" in received[0]["Subject"]


def test_a_fulfilled_grant_says_it_awaits_the_grantees_acknowledgement(api):
    request_id = file_request(api)
    grant_id = api("kfi").post(f"/api/v1/requests/{request_id}/decision",
                               json={"decision": "approve"}).get_json()["grant_id"]
    unknown = api("rha").post(f"/api/v1/grants/{grant_id}/fulfil", json={"when": "now"})
    assert unknown.status_code == 400 and unknown.get_json()["error"]["field"] == "when"
    fulfilled = api("rha").post(f"/api/v1/grants/{grant_id}/fulfil").get_json()
    assert (fulfilled["status"], fulfilled["awaits_acknowledgement"]) == ("approved", True)
    api("ahn").post("/api/v1/acknowledgements")
    now = api("ahn").get(f"/api/v1/grants/{grant_id}").get_json()
    assert (now["status"], now["awaits_acknowledgement"]) == ("active", False)


def test_lists_answer_with_their_paging_and_read_system_codes_in_any_case(api):
    file_request(api)
    listed = api("dpo").get("/api/v1/grants?system=uis&per_page=5").get_json()
    assert (listed["page"], listed["per_page"]) == (1, 5)
    requests = api("dpo").get("/api/v1/requests?page=2").get_json()
    assert (requests["page"], requests["per_page"], requests["items"]) == (2, 50, [])
    assert requests["total"] == 1


def test_a_leaver_answer_names_the_duties_still_held(api):
    response = api("admin").patch("/api/v1/employees/lan", json={"status": "left"})
    assert response.status_code == 200
    assert response.get_json()["still_named"] == [
        {"duty": "contact", "where": "SAPA", "area": "source_case_detail"},
        {"duty": "user_admin", "where": "SAPA", "uncovered": True}]
    plain = api("admin").patch("/api/v1/employees/mbe", json={"status": "left"})
    assert plain.get_json()["still_named"] == []
    manager = api("admin").patch("/api/v1/employees/oso", json={"status": "left"})
    assert manager.get_json()["still_named"] == [{"duty": "manager", "where": "BAC"}]
    assert "still_named" not in api("admin").patch("/api/v1/employees/ahn",
                                                   json={"title": "Jurist"}).get_json()


def test_an_address_belongs_to_one_active_person(api):
    admin = api("admin")
    taken = admin.post("/api/v1/employees", json={"username": "lmo", "name": "Lise Mølgaard",
                                                  "email": "AHN@htk.dk", "centre": "SAC"},
                       headers={"Accept-Language": "en"})
    assert taken.status_code == 409
    assert taken.get_json()["error"] == {
        "code": "conflict", "field": "email",
        "message": "'AHN@htk.dk' is already the e-mail address of ahn"}
    assert admin.patch("/api/v1/employees/mbe", json={"email": "ahn@htk.dk"}).status_code == 409
    assert admin.patch("/api/v1/employees/ahn", json={"email": "ahn@htk.dk"}).status_code == 200
    # A leaver's address may come back with a new account.
    assert admin.patch("/api/v1/employees/ahn", json={"status": "left"}).status_code == 200
    assert admin.post("/api/v1/employees", json={"username": "ahn2", "name": "Anne Holm Nielsen",
                                                 "email": "ahn@htk.dk", "centre": "ØAC"}
                      ).status_code == 201


def test_a_username_is_one_person_whatever_its_case(api):
    admin = api("admin")
    assert admin.post("/api/v1/employees", json={
        "username": "NEW2", "name": "Nina Ek", "email": "new2@htk.dk",
        "centre": "SAC"}).status_code == 201
    assert admin.get("/api/v1/employees/new2").get_json()["username"] == "NEW2"
    assert admin.patch("/api/v1/employees/new2", json={"title": "Jurist"}).status_code == 200
    from .helpers import request_body
    checked = api("ahn").post("/api/v1/requests/check", json=request_body(grantee="AHN"))
    assert checked.status_code == 200 and checked.get_json()["passed"] is True
    from ..services.workflow import approved_grant
    grant = approved_grant()
    found = admin.get("/api/v1/grants?grantee=Ahn").get_json()
    assert [g["id"] for g in found["items"]] == [grant.id]


def test_a_name_sent_decomposed_is_kept_composed(api):
    import unicodedata
    made = api("admin").post("/api/v1/employees", json={
        "username": "nfd", "name": unicodedata.normalize("NFD", "Søren Ærø"),
        "email": "nfd@htk.dk", "centre": "SAC"})
    assert made.get_json()["name"] == unicodedata.normalize("NFC", "Søren Ærø")



def test_an_address_is_the_same_whatever_the_case_of_its_letters(api):
    admin = api("admin")
    assert admin.post("/api/v1/employees", json={"username": "sor", "name": "Søren Ø",
                                                 "email": "SØREN@htk.dk", "centre": "SAC"}
                      ).status_code == 201
    assert admin.post("/api/v1/employees", json={"username": "sor2", "name": "Søren Å",
                                                 "email": "søren@htk.dk", "centre": "SAC"}
                      ).status_code == 409


def test_the_dpo_granted_access_by_someone_else_may_acknowledge(api):
    """The DPO only reads, so acknowledges nothing; unless a colleague filed access for
    them, which becomes active only on an acknowledgement (P3)."""
    from governance.services import requests as request_service
    from ..services.workflow import TASKS, actor
    assert api("dpo").post("/api/v1/acknowledgements").status_code == 403
    data = request_service.parse_request_input(
        {"grantee": "dpo", "system": "UIS", "frequency": "weekly", "tasks": TASKS,
         "data_categories": ["residence"]}, actor("ahn"))
    req, _ = request_service.request_access(db.session, actor("ahn"), data)
    request_service.decide(db.session, actor("kfi"), req.id, "approve", "")
    db.session.commit()
    assert api("dpo").post("/api/v1/acknowledgements").status_code == 201


def test_a_line_break_in_a_name_is_refused_and_a_bad_header_does_not_stop_sending(api, app):
    response = api("admin").patch("/api/v1/employees/mbe",
                                  json={"name": "Evil\r\nBcc: x@evil.example"})
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "name"
    # A message whose subject the e-mail library refuses waits with its error; the rest go.
    file_request(api)
    broken = db.session.scalars(sa.select(OutboxMessage)).first()
    broken.subject = "Ny anmodning\r\nBcc: x@evil.example"
    db.session.commit()
    app.config["MAIL_BACKEND"] = "memory"
    report = send_outbox(db.session)
    assert (report.sent, report.failed, report.given_up) == (1, 0, 1)
    db.session.expire_all()
    assert broken.sent_at is None and broken.last_error and broken.given_up_at


class TinySmtpServer:
    """A real SMTP conversation on a socket, with the answers a test picks: `rcpt` for
    RCPT TO, `quit` for QUIT. Counts the messages it accepted."""

    def __init__(self, rcpt: str = "250 ok", quit: str = "221 bye", mail: str = "250 ok"):
        import socket
        import threading
        self.rcpt, self.quit, self.mail, self.accepted = rcpt, quit, mail, 0
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as lines:
                conn.sendall(b"220 tiny ESMTP\r\n")
                for raw in lines:
                    verb = raw.decode("ascii", "replace").strip().upper()
                    if verb.startswith(("EHLO", "HELO")):
                        conn.sendall(b"250 tiny\r\n")
                    elif verb.startswith("MAIL"):
                        conn.sendall(self.mail.encode() + b"\r\n")
                    elif verb.startswith("RCPT"):
                        conn.sendall(self.rcpt.encode() + b"\r\n")
                    elif verb == "DATA":
                        conn.sendall(b"354 go on\r\n")
                        for body in lines:
                            if body in (b".\r\n", b".\n"):
                                break
                        self.accepted += 1
                        conn.sendall(b"250 queued\r\n")
                    elif verb == "QUIT":
                        conn.sendall(self.quit.encode() + b"\r\n")
                        break
                    else:
                        conn.sendall(b"250 ok\r\n")

    def close(self):
        self.listener.close()


def _smtp(app, server):
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port,
                      MAIL_USE_TLS=False)


def test_a_message_the_server_accepted_is_sent_whatever_it_answers_to_quit(api, app):
    """A relay that queues the message and then answers QUIT with 421 (busy): the message
    went, and the next run does not send it again."""
    file_request(api)
    server = TinySmtpServer(quit="421 closing, too busy")
    try:
        _smtp(app, server)
        first, second = send_outbox(db.session), send_outbox(db.session)
    finally:
        server.close()
    assert (first.sent, first.failed, second.sent) == (2, 0, 0)
    assert server.accepted == 2


def test_a_mailbox_refused_for_good_is_given_up_and_holds_up_nothing(api, app):
    """550 to every recipient: each message is tried once, kept with its error, and the
    messages queued after it still go out on the next run."""
    file_request(api)
    refusing = TinySmtpServer(rcpt="550 no such mailbox")
    try:
        _smtp(app, refusing)
        report = send_outbox(db.session, )
        again = send_outbox(db.session)
        failed = app.test_cli_runner().invoke(args=["notify", "send"])
    finally:
        refusing.close()
    assert (report.sent, report.failed, report.given_up) == (0, 0, 2)
    assert (again.sent, again.failed, again.given_up) == (0, 0, 0)   # not tried again
    assert failed.exit_code == 0 and failed.output == "0 sent.\n"
    given_up = db.session.scalars(sa.select(OutboxMessage)).all()
    assert all(m.given_up_at and "550" in m.last_error and m.attempts == 1 for m in given_up)
    # Later messages go out, through a server that takes them.
    file_request(api, requester="mbe", grantee="mbe")
    taking = TinySmtpServer()
    try:
        _smtp(app, taking)
        later = send_outbox(db.session)
    finally:
        taking.close()
    assert (later.sent, later.given_up) == (2, 0) and taking.accepted == 2


def test_notify_send_says_what_was_given_up(api, app):
    file_request(api)
    refusing = TinySmtpServer(rcpt="550 no such mailbox")
    try:
        _smtp(app, refusing)
        result = app.test_cli_runner().invoke(args=["notify", "send"])
    finally:
        refusing.close()
    assert result.exit_code == 1
    assert "0 sent, 2 refused for good by the mail server and not tried again" in result.output
    assert "550" in result.output


def test_a_server_that_refuses_our_sender_gives_up_nothing(api, app):
    """550 to MAIL FROM is about our account, not the message: every message waits for the
    next run (the setting fixed), none is given up, and the run stops at the first."""
    file_request(api)
    server = TinySmtpServer(mail="550 sender not allowed")
    try:
        _smtp(app, server)
        report = send_outbox(db.session)
    finally:
        server.close()
    assert (report.sent, report.failed, report.given_up) == (0, 2, 0)
    messages = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [m.given_up_at for m in messages] == [None, None]
    assert sorted(m.attempts for m in messages) == [0, 1]     # the run stopped at the first


def test_a_leaver_s_record_is_kept_as_it_was_when_they_left(api):
    """The page refuses to edit a leaver, and so does the API: the same values again (a
    feed resending) change nothing; a new one is a 409 naming it, and nothing is written."""
    admin = api("admin")
    assert admin.patch("/api/v1/employees/mbe", json={"status": "left"}).status_code == 200
    record = admin.get("/api/v1/employees/mbe").get_json()
    same = admin.patch("/api/v1/employees/mbe", json={
        "status": "left", "name": record["name"], "centre": record["centre"],
        "email": record["email"]})
    assert same.status_code == 200
    entries = admin.get("/api/v1/audit?per_page=1").get_json()["total"]
    for change in ({"name": "Mads Andersen"}, {"email": "ahn@htk.dk"}, {"centre": "CBA"},
                   {"roles": ["requester", "approver"]}):
        refused = admin.patch("/api/v1/employees/mbe", json=change)
        assert refused.status_code == 409, change
        error = refused.get_json()["error"]
        assert error["field"] == next(iter(change)) and "er fratrådt" in error["message"]
    assert admin.get("/api/v1/audit?per_page=1").get_json()["total"] == entries
    assert admin.get("/api/v1/employees/mbe").get_json() == record


def test_the_hr_feed_may_say_the_day_a_person_left(api):
    """A leaver reported days later: the register keeps the day they left, ends their
    access now, and the audit trail has both, so the delay shows."""
    from datetime import timedelta

    from governance.models import AuditEntry, Grant
    from ..services.workflow import active_grant
    grant = active_grant(clock.today(), grantee="mbe", system="CVR", user_admin="ekj",
                         categories=("identity",))
    admin = api("admin")
    last_day = (clock.today() - timedelta(days=3)).isoformat()
    for bad, says in (({"left_on": last_day}, "goes with status 'left'"),
                      ({"status": "left", "left_on": "2999-01-01"}, "cannot be after today"),
                      ({"status": "left", "left_on": "3-12-2026"}, "YYYY-MM-DD"),
                      ({"status": "left", "left_on": 20261201}, "YYYY-MM-DD")):
        refused = admin.patch("/api/v1/employees/mbe", json=bad)
        assert refused.status_code == 400, bad
        assert refused.get_json()["error"]["field"] == "left_on"
    assert db.session.get(Grant, grant.id).status == "active"       # nothing written
    left = admin.patch("/api/v1/employees/mbe", json={"status": "left", "left_on": last_day})
    assert left.status_code == 200 and left.get_json()["left_on"] == last_day
    db.session.expire_all()
    assert db.session.get(Grant, grant.id).status == "revoked"
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "employee.left"))
    assert f"(on {last_day})" in entry.summary and f'"left_on":"{last_day}"' in entry.details
