"""The three journeys in a real browser, in Danish: request with rule feedback, approval,
carrying out; and the DPO finding it on the dashboard and in the audit trail."""
import re

TASKS = "Kontrol af lovligt ophold for EU-borgere i konkrete sager om kontanthjælp"


def test_request_approve_carry_out_and_audit(person):
    member = person("1-taskforce")
    member.login("ahn")
    assert member.page.locator("html").get_attribute("lang") == "da"
    member.goto("/requests/new?system=UIS")
    member.shot("request-form")
    member.page.fill("#tasks", "Kontrol")
    member.page.check("input[value=residence]")
    member.page.click("button[value=check]")
    member.page.wait_for_load_state()
    feedback = member.page.locator("#result")
    assert "NEED_UNDOCUMENTED" in member.page.locator(
        "li.refused").first.get_attribute("data-code")
    assert "Princip 1" in feedback.inner_text()
    member.shot("rule-feedback")
    member.page.fill("#tasks", TASKS)
    member.page.click("button[value=check]")
    member.page.wait_for_load_state()
    assert member.page.locator("li.refused").count() == 0
    assert "Klaus Fisker" in member.page.locator("#result").inner_text()
    member.shot("rule-feedback-passed")
    member.page.click("button[value=submit]")
    member.page.wait_for_load_state()
    request_url = member.page.url
    assert re.search(r"/requests/\d+$", request_url)
    member.shot("request-sent")

    approver = person("2-approver")
    approver.login("kfi")
    approver.goto("/requests/")
    approver.shot("queue")
    approver.page.goto(request_url)
    approver.page.fill("#comment", "Relevant for kontrollen af lovligt ophold")
    approver.page.click("button[value=approve]")
    approver.page.wait_for_load_state()
    assert "godkendt" in approver.page.locator("h1").inner_text().lower()
    approver.shot("approved")

    admin = person("3-user-admin")
    admin.login("rha")
    admin.goto("/grants/tasks")
    admin.shot("tasks")
    admin.page.click("form.inline button[type=submit] >> nth=-1")
    admin.page.wait_for_load_state()
    admin.shot("carried-out")

    member.goto("/principles/")
    member.page.click("#acknowledge button[type=submit]")
    member.page.wait_for_load_state()
    member.goto("/")
    assert "aktiv" in member.page.locator("table").inner_text().lower()
    member.shot("active")

    dpo = person("4-dpo")
    dpo.login("dpo")
    dpo.goto("/dashboard/")
    assert dpo.page.locator("#figure-active .number").inner_text() == "1"
    dpo.shot("dashboard")
    dpo.page.click("#figure-active")
    dpo.page.wait_for_load_state()
    assert "Anne Holm Nielsen" in dpo.page.inner_text("main")
    dpo.goto("/audit/?object_type=grant")
    text = dpo.page.inner_text("main")
    for action in ("grant.create", "grant.fulfil", "grant.activate"):
        assert action in text
    dpo.shot("audit-trail")
    dpo.goto("/audit/verify")
    assert dpo.page.locator("#chain-ok").count() == 1
    dpo.shot("chain-verified")
