"""Every page, opened in Chromium by each role allowed to see it: no console error and no
Content-Security-Policy violation anywhere."""
import re

from ..security.test_route_matrix import PAGES, USERS

OBJECTS = {"request_id": "1", "grant_id": "1", "code": "UIS", "username": "ahn",
           "name": "active", "centre_code": "ØAC"}


def test_no_console_error_or_csp_violation_on_any_page(person):
    # One request and grant to show: ahn asks for UIS, tko approves.
    member = person("crawl-ahn")
    member.login("ahn")
    member.goto("/requests/new?system=UIS")
    member.page.fill("#tasks", "Kontrol af lovligt ophold for EU-borgere i konkrete sager")
    member.page.check("input[value=residence]")
    member.page.click("button[value=submit]")
    member.page.wait_for_load_state()
    approver = person("crawl-tko")
    approver.login("tko")
    approver.page.goto(member.page.url)
    approver.page.click("button[value=approve]")
    approver.page.wait_for_load_state()
    request_id = re.search(r"/requests/(\d+)", member.page.url).group(1)
    objects = {**OBJECTS, "request_id": request_id}
    visited = 0
    for role, username in sorted(USERS.items()):
        browser = person(f"crawl-{role}")
        browser.login(username)
        for route, allowed in sorted(PAGES.items()):
            if role not in allowed or route.endswith((".csv", ".xlsx", ".zip")):
                continue
            path = re.sub(r"<(?:[^:>]+:)?(\w+)>", lambda m: objects[m.group(1)], route)
            browser.goto(path)
            assert browser.page.locator("html").get_attribute("lang") == "da", path
            visited += 1
    assert visited > 40
