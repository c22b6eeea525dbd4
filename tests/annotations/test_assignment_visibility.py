"""The two privacy options of an assignment, wherever student work is read:

- "hide peers until posted": a student sees classmates' work in the scope only once they
  have posted their own there (staff's work and work outside the scope stay visible; the
  hiding ends when the assignment closes);
- "anonymous to peers": classmates see the work but not who made it; its author and the
  course's staff do.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from annotations import selectors
from annotations.models import Claim, Section
from annotations.models.annotation import Visibility
from annotations.models.challenges import Stance
from annotations.services import annotations as annotation_services
from annotations.services import assignments as assignment_services
from annotations.services import challenges as challenge_services

pytestmark = pytest.mark.django_db

ANNO_JSONLD = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'


def note(user, course, paragraph, body="My reading of this."):
    return annotation_services.annotation_create(
        user=user,
        course=course,
        paragraph=paragraph,
        start=0,
        end=12,
        body=body,
        visibility=Visibility.COURSE,
    )


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def intro(paper):
    return Section.objects.get(document=paper, key="introduction")


@pytest.fixture
def hiding(course, instructor, intro):
    """Open now, on the introduction, hiding classmates' work until one posts."""
    now = timezone.now()
    return assignment_services.assignment_create(
        user=instructor,
        course=course,
        title="First impressions",
        opens_at=now - dt.timedelta(days=1),
        due_at=now + dt.timedelta(days=5),
        sections=[intro],
        required_annotations=1,
        hide_peers_until_posted=True,
    )


@pytest.fixture
def work(course, author, instructor, intro, paper):
    """The author's note in the introduction, one outside it, and the instructor's in it."""
    inside = intro.paragraphs.order_by("order").first()
    outside = paper.paragraphs.exclude(section=intro).order_by("order").first()
    return {
        "inside": note(author, course, inside),
        "outside": note(author, course, outside),
        "staff": note(instructor, course, inside, body="A model answer."),
        "paragraph": inside,
    }


def visible_ids(user) -> set[int]:
    return set(selectors.visible_annotations(user).values_list("pk", flat=True))


def test_a_student_who_has_not_posted_sees_no_classmate_work_in_the_scope(hiding, work, groupmate):
    assert visible_ids(groupmate) == {work["outside"].pk, work["staff"].pk}


def test_posting_in_the_scope_reveals_the_classmates_work(hiding, work, course, groupmate):
    mine = note(groupmate, course, work["paragraph"])
    assert visible_ids(groupmate) == {work["inside"].pk, work["outside"].pk, work["staff"].pk, mine.pk}


def test_the_author_and_staff_always_see_it(hiding, work, author, ta):
    assert work["inside"].pk in visible_ids(author)
    assert work["inside"].pk in visible_ids(ta)


def test_the_hiding_ends_when_the_assignment_closes(hiding, work, groupmate, time_machine):
    time_machine.move_to(hiding.closes_at + dt.timedelta(minutes=1))
    assert work["inside"].pk in visible_ids(groupmate)


def test_hidden_work_leaks_through_no_api(hiding, work, course, groupmate):
    client = api(groupmate)
    listed = client.get(reverse("api:annotation-list"), {"course": course.pk}).data["results"]
    assert work["inside"].pk not in {row["id"] for row in listed}
    assert client.get(reverse("api:annotation-detail", args=[work["inside"].pk])).status_code == 404
    searched = client.get(reverse("api:annotation-list"), {"text": "reading"}).data["results"]
    assert work["inside"].pk not in {row["id"] for row in searched}
    collection_url = reverse("api:course-annotation-collection", args=[course.pk])
    assert client.get(collection_url).json()["total"] == 2
    items = client.get(collection_url, {"page": 1}).json()["items"]
    exported = {item["id"].rstrip("/").rsplit("/", 1)[-1] for item in items}
    assert exported == {str(work["outside"].pk), str(work["staff"].pk)}


def test_hidden_work_is_not_on_the_course_reading_page(hiding, work, course, client, groupmate):
    client.force_login(groupmate)
    page = client.get(reverse("annotate:reading", args=[course.pk])).content.decode()
    assert "A model answer." in page
    assert f'id="a-{work["inside"].pk}"' not in page
    assert f'id="a-{work["outside"].pk}"' in page


def test_challenges_in_the_scope_are_hidden_the_same_way(hiding, course, author, groupmate, intro):
    claim = Claim.objects.filter(paragraph__section=intro).order_by("key").first()
    filed = challenge_services.challenge_create(
        user=author, course=course, claim=claim, stance=Stance.SUPPORTS, argument="It holds."
    )
    assert not selectors.visible_challenges(groupmate).filter(pk=filed.pk).exists()
    note(groupmate, course, intro.paragraphs.first())
    assert selectors.visible_challenges(groupmate).filter(pk=filed.pk).exists()


# -- anonymous to peers ----------------------------------------------------------------------


@pytest.fixture
def anonymous(course, instructor):
    now = timezone.now()
    return assignment_services.assignment_create(
        user=instructor,
        course=course,
        title="Blind review",
        opens_at=now - dt.timedelta(days=1),
        due_at=now + dt.timedelta(days=5),
        required_annotations=1,
        required_challenges=1,
        anonymous_to_peers=True,
    )


@pytest.fixture
def anonymous_note(anonymous, course, author, paper):
    return note(author, course, paper.paragraphs.get(order=2), body="Unsigned thoughts.")


def test_classmates_see_the_note_but_not_its_author_in_the_api(anonymous_note, groupmate, author, ta):
    url = reverse("api:annotation-detail", args=[anonymous_note.pk])
    assert api(groupmate).get(url).data["author"] is None
    assert api(author).get(url).data["author"] == "author"
    assert api(ta).get(url).data["author"] == "author"


def test_a_filter_by_author_does_not_unmask_anonymous_work(anonymous_note, groupmate, ta):
    query = {"author": "author"}
    assert api(groupmate).get(reverse("api:annotation-list"), query).data["results"] == []
    staff_sees = api(ta).get(reverse("api:annotation-list"), query).data["results"]
    assert [row["id"] for row in staff_sees] == [anonymous_note.pk]


def test_the_w3c_form_has_no_creator_for_classmates(anonymous_note, groupmate, ta):
    url = reverse("api:annotation-detail", args=[anonymous_note.pk])
    assert "creator" not in api(groupmate).get(url, HTTP_ACCEPT=ANNO_JSONLD).json()
    assert api(ta).get(url, HTTP_ACCEPT=ANNO_JSONLD).json()["creator"]["nickname"] == "author"


def test_the_reading_page_says_anonymous_classmate_to_peers(anonymous_note, course, client, groupmate, ta):
    url = reverse("annotate:reading", args=[course.pk])
    client.force_login(groupmate)
    page = client.get(url).content.decode()
    assert "Anonymous classmate" in page
    assert "<strong>author</strong>" not in page
    client.force_login(ta)
    assert "<strong>author</strong>" in client.get(url).content.decode()


def test_anonymous_challenges_hide_their_author_on_the_claim_page_and_in_the_api(
    anonymous, course, author, groupmate, client
):
    claim = Claim.objects.order_by("key").first()
    filed = challenge_services.challenge_create(
        user=author, course=course, claim=claim, stance=Stance.SUPPORTS, argument="It holds."
    )
    assert api(groupmate).get(reverse("api:challenge-detail", args=[filed.pk])).data["author"] is None
    client.force_login(groupmate)
    page = client.get(reverse("challenges:claim", args=[course.pk, claim.key])).content.decode()
    assert "Anonymous classmate" in page
    assert "<strong>author</strong>" not in page
