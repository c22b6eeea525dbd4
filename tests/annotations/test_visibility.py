"""The visibility rule, for every kind of user, in the pages and the API.

Notes under test (see ``notes``):
- P: the author's private note; G: the author's note for group A; C: the author's note for the course;
- GB: a note for group B by a student of group B; X: a course note in another course;
- D: the author's deleted course note.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.models.annotation import Visibility
from tests.factories import AnnotationFactory

pytestmark = pytest.mark.django_db

SEES = {
    "author": {"P", "G", "C"},
    "groupmate": {"G", "C"},
    "other_group_student": {"C", "GB"},
    "ungrouped_student": {"C"},
    "other_course_student": {"X"},
    "ta": {"G", "C", "GB"},
    "instructor": {"G", "C", "GB"},
    "other_instructor": {"X"},
    "curator": {"G", "C", "GB", "X"},
    "outsider": set(),
    "anonymous": set(),
}


@pytest.fixture
def notes(
    course, other_course, group_a, group_b, author, groupmate, other_group_student, other_course_student
):
    from django.utils import timezone

    def note(who, where, visibility, group=None, **extra):
        return AnnotationFactory(course=where, author=who, visibility=visibility, group=group, **extra)

    return {
        "P": note(author, course, Visibility.PRIVATE, body="zq-private thoughts"),
        "G": note(author, course, Visibility.GROUP, group_a, body="zq-for group A"),
        "C": note(author, course, Visibility.COURSE, body="zq-for everyone"),
        "GB": note(other_group_student, course, Visibility.GROUP, group_b, body="zq-for group B"),
        "X": note(other_course_student, other_course, Visibility.COURSE, body="zq-elsewhere"),
        "D": note(author, course, Visibility.COURSE, body="zq-deleted words", deleted_at=timezone.now()),
    }


@pytest.fixture
def everyone(
    author,
    groupmate,
    other_group_student,
    ungrouped_student,
    other_course_student,
    ta,
    instructor,
    other_instructor,
    curator,
    outsider,
):
    return {
        "author": author,
        "groupmate": groupmate,
        "other_group_student": other_group_student,
        "ungrouped_student": ungrouped_student,
        "other_course_student": other_course_student,
        "ta": ta,
        "instructor": instructor,
        "other_instructor": other_instructor,
        "curator": curator,
        "outsider": outsider,
        "anonymous": None,
    }


def api_as(user) -> APIClient:
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    return api


@pytest.mark.parametrize("who", list(SEES))
def test_the_api_list_shows_exactly_what_the_rule_allows(notes, everyone, who):
    response = api_as(everyone[who]).get("/api/v1/annotations/", {"page_size": 200})

    if who == "anonymous":
        assert response.status_code == 401
        return
    names = {name for name, note in notes.items() if note.pk in {a["id"] for a in response.json()["results"]}}
    assert names == SEES[who]


@pytest.mark.parametrize("who", list(SEES))
def test_the_api_detail_is_a_404_for_what_the_rule_hides(notes, everyone, who):
    api = api_as(everyone[who])

    for name, note in notes.items():
        response = api.get(f"/api/v1/annotations/{note.pk}/")
        expected = 200 if name in SEES[who] else (401 if who == "anonymous" else 404)
        assert response.status_code == expected, (name, response.status_code)
        if expected == 200:
            assert response.json()["body"] == note.body


@pytest.mark.parametrize("who", [w for w in SEES if w not in {"anonymous"}])
def test_only_the_author_may_edit_or_delete_and_others_learn_nothing(notes, everyone, who):
    api = api_as(everyone[who])
    note = notes["G"]

    edit = api.patch(f"/api/v1/annotations/{note.pk}/", {"body": "changed"}, format="json")
    delete = api.delete(f"/api/v1/annotations/{note.pk}/")

    note.refresh_from_db()
    if who == "author":
        assert (edit.status_code, delete.status_code) == (200, 204)
        assert note.body == "changed"
        assert note.deleted_at is not None
    else:
        expected = 403 if "G" in SEES[who] else 404
        assert (edit.status_code, delete.status_code) == (expected, expected)
        assert note.body == "zq-for group A"
        assert note.deleted_at is None


def test_anonymous_can_neither_write_nor_delete(notes):
    api = APIClient()

    assert api.patch(f"/api/v1/annotations/{notes['C'].pk}/", {"body": "x"}, format="json").status_code == 401
    assert api.delete(f"/api/v1/annotations/{notes['C'].pk}/").status_code == 401
    assert api.post("/api/v1/annotations/", {}, format="json").status_code == 401


@pytest.mark.parametrize("who", [w for w in SEES if w != "anonymous"])
def test_replies_follow_the_annotations_visibility(notes, everyone, who):
    response = api_as(everyone[who]).post(
        f"/api/v1/annotations/{notes['G'].pk}/replies/", {"body": "Agreed."}
    )

    if "G" not in SEES[who]:
        assert response.status_code == 404
    elif who == "curator":  # site staff see the course's work but do not take part in it
        assert response.status_code == 403
    else:
        assert response.status_code == 201
        assert notes["G"].replies.get().body == "Agreed."


@pytest.mark.parametrize("who", list(SEES))
def test_the_course_reading_page_shows_exactly_what_the_rule_allows(client, notes, everyone, course, who):
    if everyone[who] is not None:
        client.force_login(everyone[who])

    response = client.get(reverse("annotate:reading", kwargs={"pk": course.pk}))

    if who == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
        return
    if who in {"other_course_student", "other_instructor", "outsider"}:
        assert response.status_code == 404
        return
    text = response.content.decode()
    shown = {name for name, note in notes.items() if f'id="a-{note.pk}"' in text}
    assert shown == SEES[who] - {"X"}
    assert "zq-deleted words" not in text


def test_the_public_reading_shows_no_student_work(client, notes, paper):
    text = client.get(paper.get_absolute_url()).content.decode()

    assert not any(note.body in text for note in notes.values())


def test_a_student_who_moves_group_sees_the_new_groups_work(notes, groupmate, group_b):
    membership = groupmate.memberships.get()
    membership.group = group_b
    membership.save()

    ids = {a["id"] for a in api_as(groupmate).get("/api/v1/annotations/").json()["results"]}

    assert notes["GB"].pk in ids
    assert notes["G"].pk not in ids


def test_a_removed_student_no_longer_sees_the_course_even_their_own_work(notes, author):
    author.memberships.all().delete()

    response = api_as(author).get("/api/v1/annotations/")

    assert response.json()["results"] == []


@pytest.mark.parametrize("who", [w for w in SEES if w != "anonymous"])
def test_searching_finds_only_what_the_rule_allows(notes, everyone, who):
    response = api_as(everyone[who]).get("/api/v1/annotations/", {"q": "zq", "page_size": 200})

    found = {name for name, note in notes.items() if note.pk in {a["id"] for a in response.json()["results"]}}
    assert found == SEES[who]


@pytest.mark.parametrize("who", [w for w in SEES if w != "anonymous"])
def test_filtering_by_another_group_or_course_reveals_nothing(notes, everyone, who, group_b, other_course):
    api = api_as(everyone[who])

    by_group = {a["id"] for a in api.get("/api/v1/annotations/", {"group": group_b.pk}).json()["results"]}
    by_course = {
        a["id"] for a in api.get("/api/v1/annotations/", {"course": other_course.pk}).json()["results"]
    }

    assert by_group == ({notes["GB"].pk} if "GB" in SEES[who] else set())
    assert by_course == ({notes["X"].pk} if "X" in SEES[who] else set())
