"""A student proposes a claim–event link whose date disagrees, and sees the platform say so."""

from __future__ import annotations

import pytest

from annotations.models import LinkProposal
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_student_proposes_a_link_that_shows_a_date_mismatch(page, demo):
    log_in(page, "student3")
    # The paper dates the foreign ministers' meeting to 5 July 2000 (the newspaper's date).
    page.goto(f"/courses/{demo.pk}/claims/c-04-4/links/")

    page.get_by_label("Event").select_option("dushanbe-foreign-ministers-2000")
    page.get_by_label("Relation").select_option("dates")
    page.get_by_label("Note", exact=True).fill("The ministers met on 4 July; the report came out on the 5th.")
    page.get_by_role("button", name="Propose the link").click()
    page.wait_for_load_state()

    proposal = LinkProposal.objects.get(proposer__username="student3")
    assert (proposal.claim.key, proposal.event.key, proposal.status) == (
        "c-04-4",
        "dushanbe-foreign-ministers-2000",
        "proposed",
    )
    proposals = page.locator(".link-proposals").inner_text()
    assert "Date mismatch: the claim says 5 July 2000; the record says 4 July 2000." in proposals
    assert page.problems == []


def test_a_student_disputes_a_claim_the_instructor_upholds_it_and_the_list_shows_it_disputed(page, demo):
    log_in(page, "student5")
    page.goto(f"/courses/{demo.pk}/claims/c-20-8/")
    assert "Evidence status: unchallenged" in page.locator("#evidence-heading").inner_text()

    page.get_by_label("Your stance").select_option("disputes")
    page.get_by_label("Argument").fill("The Moscow agreement was signed on **24 April 1997**, not in 2012.")
    page.get_by_label("Source 1", exact=True).select_option("pan-hu-2006")
    page.get_by_label("Quoted passage (source 1)").fill("The second summit, Moscow, April 1997")
    page.get_by_role("button", name="File the challenge").click()
    page.wait_for_load_state()
    assert "Evidence status: contested" in page.locator("#evidence-heading").inner_text()

    log_in(page, "instructor")
    page.goto(f"/courses/{demo.pk}/claims/c-20-8/")
    challenge = page.locator("article.challenge").first
    challenge.get_by_label("Decision").select_option("upheld")
    challenge.get_by_label("Feedback").fill("Right: the paper misdates it.")
    challenge.get_by_role("button", name="Resolve").click()
    page.wait_for_load_state()

    assert "Evidence status: disputed" in page.locator("#evidence-heading").inner_text()

    page.goto(f"/courses/{demo.pk}/claims/?status=disputed")
    card = page.locator("li.claim-card").filter(
        has=page.locator(f'a[href="/courses/{demo.pk}/claims/c-20-8/"]')
    )
    assert card.count() == 1
    assert card.locator(".evidence").inner_text() == "disputed"
    assert page.problems == []
