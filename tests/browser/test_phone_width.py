"""At a phone's width every page stays as wide as the screen; wide tables scroll inside."""
import pytest

PAGES = ["/", "/requests/", "/grants/", "/dashboard/", "/audit/", "/systems/",
         "/principles/", "/grants/at?system=UIS&date=2025-01-01", "/employees/ahn",
         "/employees/", "/centres/", "/reports/status"]


@pytest.mark.parametrize("width", [375])
def test_no_page_is_wider_than_a_phone(person, width):
    dpo = person("phone-dpo")
    dpo.page.set_viewport_size({"width": width, "height": 800})
    dpo.login("dpo")
    for path in PAGES:
        dpo.goto(path)
        wide = dpo.page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{path} is {wide} px wide on a {width} px screen"
    dpo.goto("/grants/")
    dpo.shot("register")


def test_long_unbroken_text_wraps_at_a_phones_width(person, live_server):
    """A comment or task written without spaces (a pasted link, a case number run) wraps
    inside the page instead of widening it."""
    from datetime import timedelta

    from governance.extensions import db
    from governance.services import clock
    from governance.services import reviews as review_service

    from ..services.workflow import active_grant, actor
    _base, app = live_server
    with app.app_context():
        grant = active_grant(clock.today(), grantee="mbe")
        review_service.review(db.session, actor("kfi"), grant.id, "keep", "x" * 600)
        grant.review_due = clock.today() + timedelta(days=3)
        db.session.commit()
        grant_id = grant.id
    tko = person("phone-tko")
    tko.page.set_viewport_size({"width": 375, "height": 800})
    tko.login("tko")
    for path in ("/reviews/", f"/grants/{grant_id}"):
        tko.goto(path)
        wide = tko.page.evaluate("document.documentElement.scrollWidth")
        assert wide <= 375, f"{path} is {wide} px wide on a 375 px screen"
    tko.goto("/reviews/")
    tko.page.keyboard.press("Tab")
    assert tko.page.evaluate("document.activeElement.textContent") == "Gå til indholdet"
