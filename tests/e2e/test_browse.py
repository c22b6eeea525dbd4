"""A reader opens the paper, follows a claim, then finds its event on the timeline."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ARTIFACTS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_reader_follows_a_claim_to_its_event_on_the_timeline(page):
    page.goto("/read/")
    assert page.locator("h1").inner_text().startswith("The Practice of Genuine Multilateralism")
    assert page.locator("mark.claim").count() >= 100

    # The claim where the paper misdates the 1997 Moscow agreement.
    claim = page.locator("mark.claim a", has_text="In April 2012, the five leaders met in Moscow")
    claim.scroll_into_view_if_needed()
    claim.click()
    page.wait_for_url("**/claims/*/")
    assert "Date mismatch:" in page.locator("main").inner_text()

    page.get_by_role("link", name="Second Shanghai Five summit", exact=False).first.click()
    page.wait_for_url("**/events/moscow-summit-1997/")
    assert "24 April 1997" in page.locator("main").inner_text()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Timeline").click()
    page.wait_for_url("**/timeline/")
    page.locator('a.timeline__mark[href="/events/moscow-summit-1997/"]').click()
    page.wait_for_url("**/events/moscow-summit-1997/")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "event.png"), full_page=True)
    assert page.problems == []


def test_claim_filters_work_in_the_browser(page):
    page.goto("/claims/")
    page.get_by_label("Actor").select_option("pakistan")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/claims/?*actor=pakistan*")

    heading = page.locator("#results-heading").inner_text()
    assert heading.endswith("claims")
    assert not heading.startswith("0 ")
    assert page.problems == []
