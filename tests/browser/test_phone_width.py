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
