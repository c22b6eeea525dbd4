"""The course's claims with their evidence status, a claim's challenges and their forms,
and errata on the public and the course pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.models import Claim, Source
from annotations.models.annotation import Visibility
from annotations.models.challenges import Challenge, ChallengeResponse, Erratum, Stance
from annotations.services import challenges as services
from annotations.views import challenges as challenge_views
from tests.helpers import queries_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(paper) -> Claim:
    return Claim.objects.filter(paragraph__document=paper).order_by("key").first()


@pytest.fixture
def source() -> Source:
    return Source.objects.filter(course__isnull=True).order_by("key").first()


def signed_in(client, user):
    client.force_login(user)
    return client


def dispute(author, course, claim, source, visibility=Visibility.COURSE, argument="Not *so*."):
    return services.challenge_create(
        user=author, course=course, claim=claim, stance=Stance.DISPUTES, argument=argument,
        citations=[{"source": source, "page": "44", "quote": "The treaty was signed later.", "url_fragment": ""}],
        visibility=visibility,
    )  # fmt: skip


def claims_url(course) -> str:
    return reverse("challenges:claims", kwargs={"pk": course.pk})


def claim_url(course, claim) -> str:
    return reverse("challenges:claim", kwargs={"pk": course.pk, "key": claim.key})


# -- the claims page ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [("author", 200), ("ta", 200), ("curator", 200), ("other_course_student", 404), ("outsider", 404)],
)
def test_who_sees_the_course_claims(request, client, course, claim, name, code):
    response = signed_in(client, request.getfixturevalue(name)).get(claims_url(course))
    assert response.status_code == code


def test_anonymous_is_sent_to_sign_in(client, course):
    response = client.get(claims_url(course))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_the_claims_page_shows_each_claims_evidence_status_and_filters_by_it(
    client, course, author, ta, claim, source
):
    dispute(author, course, claim, source)
    client = signed_in(client, author)

    everything = client.get(claims_url(course)).content.decode()
    contested = client.get(claims_url(course) + "?status=contested")
    kind_and_status = client.get(claims_url(course) + f"?status=contested&kind={claim.kind}")

    assert everything.count('class="evidence evidence--contested"') == 1
    assert "evidence--unchallenged" in everything
    assert [c.pk for c, _e in contested.context["rows"]] == [claim.pk]
    assert [c.pk for c, _e in kind_and_status.context["rows"]] == [claim.pk]
    other_kind = next(k for k in Claim.Kind.values if k != claim.kind)
    assert client.get(claims_url(course) + f"?status=contested&kind={other_kind}").context["rows"] == []


def test_a_group_challenge_does_not_change_what_another_group_sees(
    client, course, author, other_group_student, ta, claim, source
):
    challenge = dispute(author, course, claim, source, visibility=Visibility.GROUP)
    services.challenge_resolve(user=ta, challenge=challenge, status="upheld", expected_version=1)

    response = signed_in(client, other_group_student).get(claims_url(course) + "?status=disputed")

    assert response.context["rows"] == []
    assert (
        "Not <em>so</em>"
        not in signed_in(client, other_group_student).get(claim_url(course, claim)).content.decode()
    )


def test_the_claims_page_runs_a_bounded_number_of_queries(
    client, course, author, groupmate, ta, curator, claim, paper, source
):
    client = signed_in(client, author)
    url = claims_url(course)
    before = queries_for(client, url)
    for other in Claim.objects.filter(paragraph__document=paper).order_by("key")[:6]:
        dispute(groupmate, course, other, source)
    services.erratum_confirm(user=curator, claim=claim, text="Corrected.")
    assert queries_for(client, url) <= before + 1


# -- a claim's page ---------------------------------------------------------------------


def test_the_claim_page_shows_challenges_with_sources_pinpoints_thread_and_reasons(
    client, course, author, groupmate, claim, source
):
    challenge = dispute(author, course, claim, source)
    services.challenge_respond(user=groupmate, challenge=challenge, body="I *agree*.")

    page = signed_in(client, groupmate).get(claim_url(course, claim)).content.decode()

    assert "Evidence status" in page
    assert "evidence--contested" in page
    assert f'href="#challenge-{challenge.pk}"' in page
    assert "Not <em>so</em>" in page
    assert "p. 44" in page
    assert "The treaty was signed later." in page
    assert "I <em>agree</em>" in page
    assert 'name="version"' not in page  # students get no resolve form


def test_the_claim_page_is_404_for_a_claim_key_that_does_not_exist(client, course, author):
    response = signed_in(client, author).get(
        reverse("challenges:claim", kwargs={"pk": course.pk, "key": "nope"})
    )
    assert response.status_code == 404


def test_staff_see_the_resolve_form_with_the_version(client, course, author, ta, claim, source):
    challenge = dispute(author, course, claim, source)
    page = signed_in(client, ta).get(claim_url(course, claim)).content.decode()
    assert reverse("challenges:resolve", kwargs={"pk": challenge.pk}) in page
    assert 'name="version" value="1"' in page


def test_the_claim_page_links_to_the_event_links_page_only_where_it_exists(client, course, author, claim):
    from django.urls import NoReverseMatch

    page = signed_in(client, author).get(claim_url(course, claim)).content.decode()
    try:
        expected = reverse("links:claim", kwargs={"pk": course.pk, "key": claim.key})
    except NoReverseMatch:
        assert "links to events in this course" not in page
    else:
        assert expected in page


def test_a_member_files_a_challenge_through_the_form(client, course, author, claim, source):
    response = signed_in(client, author).post(
        reverse("challenges:create", kwargs={"pk": course.pk, "key": claim.key}),
        {"stance": "qualifies", "argument": "Partly.", "visibility": "course", "source_1": source.key,
         "page_1": "9", "quote_1": "a quote", "url_fragment_1": "#s"},
    )  # fmt: skip
    assert response.status_code == 302
    challenge = Challenge.objects.get()
    assert (challenge.stance, challenge.author) == ("qualifies", author)
    assert list(challenge.citations.values_list("source__key", "page", "quote", "url_fragment")) == [
        (source.key, "9", "a quote", "#s")
    ]


def test_the_form_refuses_a_dispute_without_a_source_with_a_400_and_the_message(
    client, course, author, claim
):
    response = signed_in(client, author).post(
        reverse("challenges:create", kwargs={"pk": course.pk, "key": claim.key}),
        {"stance": "disputes", "argument": "Wrong.", "visibility": "course"},
    )
    assert response.status_code == 400
    assert str(services.NEEDS_SOURCE) in response.content.decode()
    assert not Challenge.objects.exists()


def test_the_form_is_404_outside_the_course(client, course, other_course_student, claim):
    response = signed_in(client, other_course_student).post(
        reverse("challenges:create", kwargs={"pk": course.pk, "key": claim.key}),
        {"stance": "supports", "argument": "Yes.", "visibility": "course"},
    )
    assert response.status_code == 404


def test_responding_through_the_form(client, course, author, groupmate, claim, source):
    challenge = dispute(author, course, claim, source)
    response = signed_in(client, groupmate).post(
        reverse("challenges:respond", kwargs={"pk": challenge.pk}), {"body": "Why?"}
    )
    assert response.status_code == 302
    assert ChallengeResponse.objects.get().body == "Why?"


def test_a_student_cannot_resolve_through_the_page(client, course, author, claim, source):
    challenge = dispute(author, course, claim, source)
    response = signed_in(client, author).post(
        reverse("challenges:resolve", kwargs={"pk": challenge.pk}), {"status": "upheld", "version": 1}
    )
    assert response.status_code == 403
    challenge.refresh_from_db()
    assert challenge.status == "open"


def test_a_stale_resolution_through_the_page_is_a_409_showing_the_current_state(
    client, course, author, ta, instructor, claim, source
):
    challenge = dispute(author, course, claim, source)
    url = reverse("challenges:resolve", kwargs={"pk": challenge.pk})
    first = signed_in(client, ta).post(url, {"status": "rejected", "feedback": "Not convinced", "version": 1})
    second = signed_in(client, instructor).post(
        url, {"status": "upheld", "feedback": "Convinced", "version": 1}
    )

    assert first.status_code == 302
    assert second.status_code == 409
    page = second.content.decode()
    assert "Someone else changed this challenge first" in page
    assert "Not convinced" in page
    assert "Convinced</p>" not in page.replace("Not convinced", "")
    assert reverse("challenges:reopen", kwargs={"pk": challenge.pk}) in page
    challenge.refresh_from_db()
    assert (challenge.status, challenge.version) == ("rejected", 2)


def test_reopening_through_the_page(client, course, author, ta, claim, source):
    challenge = dispute(author, course, claim, source)
    services.challenge_resolve(user=ta, challenge=challenge, status="rejected", expected_version=1)
    response = signed_in(client, ta).post(
        reverse("challenges:reopen", kwargs={"pk": challenge.pk}), {"version": 2}
    )
    assert response.status_code == 302
    challenge.refresh_from_db()
    assert (challenge.status, challenge.version) == ("open", 3)


# -- errata -----------------------------------------------------------------------------


def test_an_erratum_shows_on_the_public_page_and_in_every_course(
    client, course, other_course, author, other_course_student, curator, claim
):
    services.erratum_confirm(user=curator, claim=claim, text="The agreement was signed in 2001.")

    public = client.get(claim.get_absolute_url()).content.decode()
    assert "Erratum" in public
    assert "The agreement was signed in 2001." in public
    for user, each in ((author, course), (other_course_student, other_course)):
        page = signed_in(client, user).get(claim_url(each, claim)).content.decode()
        assert "evidence--corrected" in page
        assert "The agreement was signed in 2001." in page


def test_the_public_claim_page_has_no_erratum_box_without_one(client, claim):
    assert 'class="erratum"' not in client.get(claim.get_absolute_url()).content.decode()


def test_site_staff_confirm_an_erratum_in_the_admin(client, curator, claim):
    response = signed_in(client, curator).post(
        reverse("admin:annotations_erratum_add"),
        {"claim": claim.pk, "text": "Corrected date.", "challenge": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    erratum = Erratum.objects.get()
    assert (erratum.claim, erratum.confirmed_by, erratum.text) == (claim, curator, "Corrected date.")


def test_the_claim_page_runs_a_bounded_number_of_queries(
    client, course, author, groupmate, ta, claim, source
):
    client = signed_in(client, ta)
    dispute(author, course, claim, source)
    before = queries_for(client, claim_url(course, claim))
    for n in range(4):
        more = dispute(groupmate if n % 2 else author, course, claim, source, argument=f"Point {n}")
        services.challenge_respond(user=groupmate, challenge=more, body=f"reply {n}")
    assert queries_for(client, claim_url(course, claim)) == before


def test_the_claim_page_shows_its_challenges_fifty_at_a_time_newest_first(
    client, course, author, groupmate, claim, source, monkeypatch
):
    monkeypatch.setattr(challenge_views, "CHALLENGES_PER_PAGE", 2)
    filed = [dispute(author, course, claim, source, argument=f"Point number {n}.") for n in range(3)]
    gone = dispute(groupmate, course, claim, source, argument="Withdrawn point.")
    services.challenge_delete(user=groupmate, challenge=gone)
    kept = dispute(groupmate, course, claim, source, argument="Answered point.")
    services.challenge_respond(user=author, challenge=kept, body="An answer.")
    services.challenge_delete(user=groupmate, challenge=kept)
    client = signed_in(client, author)

    first = client.get(claim_url(course, claim)).content.decode()
    second = client.get(claim_url(course, claim) + "?page=2").content.decode()

    assert "Challenges (4)" in first
    assert "Page 1 of 2" in first
    assert 'href="?page=2#challenges-heading"' in first
    # The deleted challenge with a response heads its thread; the one without is gone.
    assert "This challenge was deleted by its author." in first
    assert "Point number 2." in first
    assert "Point number 1." not in first
    assert "Point number 1." in second
    assert "Point number 0." in second
    assert "Withdrawn point." not in first + second
    assert [f'id="challenge-{c.pk}"' in second for c in filed] == [True, True, False]
