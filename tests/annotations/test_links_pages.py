"""The course pages for links: a claim's links, review, proposing an event, the course timeline."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from annotations.models import Claim
from annotations.models.challenges import EventProposal, LinkProposal, ProposalStatus
from annotations.services import links as services
from tests.factories import EventFactory, SourceFactory
from tests.helpers import queries_for
from timeline.models import Event

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def claim(paper) -> Claim:
    return Claim.objects.get(key="c-20-8")


@pytest.fixture
def summit() -> Event:
    return Event.objects.get(key="moscow-summit-1997")


@pytest.fixture
def claim_url(course) -> str:
    return reverse("links:claim", kwargs={"pk": course.pk, "key": "c-20-8"})


def propose(user, course, claim, event, relation="dates") -> LinkProposal:
    return services.link_propose(user=user, course=course, claim=claim, event=event, relation=relation)


def test_the_claim_page_url_is_the_agreed_one(course):
    assert (
        reverse("links:claim", kwargs={"pk": course.pk, "key": "c-1"})
        == f"/courses/{course.pk}/claims/c-1/links/"
    )


def test_the_claim_page_shows_curated_links_and_proposals_with_mismatch_warnings(
    author, groupmate, ta, course, claim, summit, claim_url
):
    accepted = propose(groupmate, course, claim, EventFactory(title="Accepted meeting"))
    services.link_decide(user=ta, proposal=accepted, accept=True)
    declined = propose(groupmate, course, claim, EventFactory(title="Declined meeting"))
    services.link_decide(user=ta, proposal=declined, accept=False, feedback="Unrelated.")
    propose(author, course, claim, summit)

    page = client_for(author).get(claim_url).content.decode()

    assert "The reading's links" in page
    assert "Accepted meeting" in page
    assert "Declined meeting" in page
    assert "Unrelated." in page
    # The curated link and the student's proposal to the 1997 summit both disagree with 2012-04.
    assert page.count("Date mismatch") >= 3
    assert "Decide" not in page


def test_staff_see_decision_forms_and_decide_from_the_claim_page(
    author, ta, course, claim, summit, claim_url
):
    proposal = propose(author, course, claim, summit)
    client = client_for(ta)
    assert 'name="accept"' in client.get(claim_url).content.decode()

    url = reverse("links:decide-link", kwargs={"pk": course.pk, "proposal_pk": proposal.pk})
    response = client.post(url, {"accept": "1", "feedback": "Yes."})

    assert response.status_code == 302
    assert response.url == claim_url
    assert LinkProposal.objects.get(pk=proposal.pk).status == ProposalStatus.ACCEPTED
    again = client.post(url, {"accept": "0"}, follow=True)
    assert "already been accepted" in again.content.decode()


def test_a_student_posting_a_decision_is_forbidden(author, groupmate, course, claim, summit):
    proposal = propose(author, course, claim, summit)
    url = reverse("links:decide-link", kwargs={"pk": course.pk, "proposal_pk": proposal.pk})
    assert client_for(groupmate).post(url, {"accept": "1"}).status_code == 403
    assert LinkProposal.objects.get(pk=proposal.pk).status == ProposalStatus.PROPOSED


def test_a_member_proposes_a_link_from_the_page(author, course, claim_url):
    response = client_for(author).post(
        claim_url, {"event": "moscow-summit-1997", "relation": "dates", "note": "Year?"}
    )
    assert response.status_code == 302
    proposal = LinkProposal.objects.get()
    assert (proposal.proposer, proposal.event.key, proposal.note) == (author, "moscow-summit-1997", "Year?")


def test_a_bad_or_duplicate_proposal_is_a_400_with_field_messages(
    author, groupmate, course, claim, summit, claim_url
):
    response = client_for(author).post(claim_url, {"event": "", "relation": "nonsense"})
    assert response.status_code == 400
    assert 'id="id_event_error"' in response.content.decode()
    assert 'id="id_relation_error"' in response.content.decode()

    propose(groupmate, course, claim, summit)
    response = client_for(author).post(claim_url, {"event": "moscow-summit-1997", "relation": "dates"})
    assert response.status_code == 400
    assert "already linked, or proposed" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "code"),
    [("author", 200), ("ta", 200), ("curator", 200), ("other_course_student", 404), ("outsider", 404)],
)
def test_member_pages_are_for_members(request, name, code, course, claim_url):
    client = client_for(request.getfixturevalue(name))
    for url in (claim_url, reverse("links:course-timeline", kwargs={"pk": course.pk})):
        assert client.get(url).status_code == code, url


@pytest.mark.parametrize(
    ("name", "code"),
    [("author", 200), ("ta", 200), ("curator", 403), ("other_course_student", 404), ("outsider", 404)],
)
def test_only_members_propose_events(request, name, code, course):
    url = reverse("links:propose-event", kwargs={"pk": course.pk})
    # Site staff see every course but propose in none: they add events in the admin.
    assert client_for(request.getfixturevalue(name)).get(url).status_code == code


def test_anonymous_is_sent_to_sign_in(course, claim_url):
    response = Client().get(claim_url)
    assert response.status_code == 302
    assert "login" in response.url


@pytest.mark.parametrize(
    ("name", "code"),
    [("ta", 200), ("instructor", 200), ("curator", 200), ("author", 403), ("other_instructor", 404)],
)
def test_the_review_page_is_for_the_courses_staff(request, name, code, course):
    response = client_for(request.getfixturevalue(name)).get(
        reverse("links:review", kwargs={"pk": course.pk})
    )
    assert response.status_code == code


def test_the_review_page_lists_pending_proposals_and_accepts_an_event(author, ta, course, claim, summit):
    propose(author, course, claim, summit)
    source = SourceFactory()
    proposal = services.event_propose(
        user=author, course=course, title="Tashkent summit", date="2004", type="summit", source=source
    )
    client = client_for(ta)
    url = reverse("links:review", kwargs={"pk": course.pk})
    page = client.get(url).content.decode()
    assert "Tashkent summit" in page
    assert "c-20-8" in page
    assert "Date mismatch" in page

    decide = reverse("links:decide-event", kwargs={"pk": course.pk, "proposal_pk": proposal.pk})
    response = client.post(decide, {"accept": "1"})

    assert response.status_code == 302
    assert response.url == url
    assert EventProposal.objects.get(pk=proposal.pk).event.title == "Tashkent summit"
    assert "Tashkent summit" not in client.get(url).content.decode()


def test_a_member_proposes_an_event_from_the_page(author, course):
    url = reverse("links:propose-event", kwargs={"pk": course.pk})
    source = SourceFactory(key="reading-book")
    page = client_for(author).get(url).content.decode()
    assert 'value="reading-book"' in page

    bad = client_for(author).post(url, {"title": "", "date": "soon", "type": "summit", "source": ""})
    assert bad.status_code == 400
    assert not EventProposal.objects.exists()

    good = client_for(author).post(
        url, {"title": "Astana summit", "date": "2005-07", "type": "summit", "source": "reading-book"}
    )
    assert good.status_code == 302
    assert EventProposal.objects.get().source == source


def test_the_course_timeline_shows_accepted_links_only(
    author, ta, course, claim, summit, other_course_student, other_course
):
    shown = propose(author, course, claim, summit)
    services.link_decide(user=ta, proposal=shown, accept=True)
    propose(author, course, Claim.objects.get(key="c-20-9"), summit, relation="context")
    services.link_propose(
        user=other_course_student, course=other_course, claim=Claim.objects.get(key="c-21-1"), event=summit,
        relation="describes",
    )  # fmt: skip

    page = client_for(author).get(reverse("links:course-timeline", kwargs={"pk": course.pk})).content.decode()

    assert "c-20-8" in page
    assert "Date mismatch" in page
    assert "c-20-9" not in page
    assert "c-21-1" not in page


def test_pages_run_a_bounded_number_of_queries(author, groupmate, ta, course, claim, claim_url):
    client = client_for(ta)
    urls = [
        claim_url,
        reverse("links:review", kwargs={"pk": course.pk}),
        reverse("links:course-timeline", kwargs={"pk": course.pk}),
        reverse("links:propose-event", kwargs={"pk": course.pk}),
    ]

    def add(links: int, events: int) -> None:
        for event in EventFactory.create_batch(links):
            proposal = propose(groupmate, course, claim, event)
            if event.pk % 2:
                services.link_decide(user=ta, proposal=proposal, accept=True)
        for n in range(events):
            services.event_propose(
                user=author,
                course=course,
                title=f"Event {n}",
                date="2001",
                type="other",
                source=SourceFactory(),
            )

    # One of each kind, decided and pending (a list's people and course come in a query
    # each, asked only when it has rows), then many more: the count does not grow.
    add(links=2, events=1)
    before = [queries_for(client, url) for url in urls]
    add(links=6, events=4)
    after = [queries_for(client, url) for url in urls]
    assert after == before
