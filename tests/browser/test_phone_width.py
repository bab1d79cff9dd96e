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


def test_a_wide_report_keeps_its_words_whole_on_a_laptop(person, live_server):
    """The review report's thirteen columns at 1280 px: a level or a name is never split
    in the middle of a word (the table scrolls instead); comments may still wrap."""
    from governance.extensions import db
    from governance.services import clock

    from ..services.workflow import active_grant
    _base, app = live_server
    with app.app_context():
        active_grant(clock.today(), grantee="mbe", system="ACADRE", user_admin="sni",
                     access_level="write", scope="detail", categories=("case_overview",),
                     approvers=("kfi", "tko"),
                     write_justification="Journalisering af taskforcens egne sager")
        db.session.commit()
    dpo = person("laptop-dpo")
    dpo.page.set_viewport_size({"width": 1280, "height": 800})
    dpo.login("dpo")
    dpo.goto("/reports/reviews")
    # Each text in a cell takes at most one line box a word.
    lines = dpo.page.evaluate("""() => [...document.querySelectorAll('table.report-table td')]
        .filter(td => !td.classList.contains('prose'))
        .flatMap(td => { const texts = [], walk = document.createTreeWalker(td, 4);
                         while (walk.nextNode()) if (walk.currentNode.data.trim())
                             texts.push(walk.currentNode);
                         return texts; })
        .map(node => { const range = document.createRange(); range.selectNodeContents(node);
                       const text = node.data.trim();
                       return [text, range.getClientRects().length,
                               text.split(/\\s+/).length]; })""")
    assert any(text == "skriveadgang" for text, _, _ in lines)
    split = [text for text, rects, words in lines if rects > words]
    assert split == [], f"split in the middle of a word: {split}"
    dpo.shot("review-report-1280")
