"""A student proposes a claim–event link whose date disagrees, and sees the platform say so."""

from __future__ import annotations

import pytest

from annotations.models import LinkProposal
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_student_proposes_a_link_that_shows_a_date_mismatch(page, demo):
    log_in(page, "student3")
    page.goto(f"/courses/{demo.pk}/claims/c-20-8/links/")

    page.get_by_label("Event").select_option("moscow-summit-1997")
    page.get_by_label("Relation").select_option("dates")
    page.get_by_label("Note", exact=True).fill("The agreement was signed in 1997, not 2012.")
    page.get_by_role("button", name="Propose the link").click()
    page.wait_for_load_state()

    proposal = LinkProposal.objects.get()
    assert (proposal.claim.key, proposal.event.key, proposal.status) == (
        "c-20-8",
        "moscow-summit-1997",
        "proposed",
    )
    proposals = page.locator(".link-proposals").inner_text()
    assert "Date mismatch: the claim says April 2012; the record says 24 April 1997." in proposals
    assert page.problems == []
