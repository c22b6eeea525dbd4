"""/api/v1/notifications/: list and filter my own, retrieve, mark read."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotations.models import Notification
from annotations.services.notifications import notify

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications/"


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def notes(course, other_course, author, ta, groupmate, other_course_student):
    # The author is also a student of the other course, to filter by course.
    from annotations.models.courses import Role
    from tests.factories import MembershipFactory

    MembershipFactory(course=other_course, user=author, role=Role.STUDENT)
    first = notify(recipient=author, kind="reply", actor=ta, course=course, message="A reply", url="/a/")
    second = notify(recipient=author, kind="mention", actor=ta, course=course, message="A mention", url="/b/")
    third = notify(
        recipient=author,
        kind="reply",
        actor=other_course_student,
        course=other_course,
        message="Elsewhere",
        url="/c/",
    )
    theirs = notify(recipient=groupmate, kind="reply", actor=ta, course=course, message="Theirs", url="/d/")
    first.read_at = second.created_at
    first.save()
    return {"first": first, "second": second, "third": third, "theirs": theirs}


def texts(response) -> list[str]:
    return [item["text"] for item in response.data["results"]]


def test_anonymous_gets_401(notes):
    assert client_for(None).get(URL).status_code == 401
    assert client_for(None).post(f"{URL}mark_read/", {"all": True}).status_code == 401


def test_it_lists_only_my_notifications_newest_first(author, notes, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        response = client_for(author).get(URL)

    assert response.status_code == 200
    assert texts(response) == ["Elsewhere", "A mention", "A reply"]
    item = response.data["results"][1]
    assert item["kind"] == "mention"
    assert item["actor"] == "ta"
    assert item["url"] == "/b/"
    assert item["unread"] is True


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("unread=true", ["Elsewhere", "A mention"]),
        ("unread=false", ["A reply"]),
        ("kind=reply", ["Elsewhere", "A reply"]),
    ],
)
def test_it_filters(author, notes, query, expected):
    assert texts(client_for(author).get(f"{URL}?{query}")) == expected


def test_it_filters_by_course(author, course, notes):
    assert texts(client_for(author).get(f"{URL}?course={course.pk}")) == ["A mention", "A reply"]


def test_retrieve_is_mine_only(author, groupmate, notes):
    assert client_for(author).get(f"{URL}{notes['second'].pk}/").data["text"] == "A mention"
    assert client_for(groupmate).get(f"{URL}{notes['second'].pk}/").status_code == 404


def test_mark_read_by_ids_leaves_others_alone(author, notes):
    response = client_for(author).post(
        f"{URL}mark_read/", {"ids": [notes["second"].pk, notes["theirs"].pk]}, format="json"
    )

    assert response.status_code == 200
    assert response.data == {"marked": 1, "unread": 1}
    assert Notification.objects.get(pk=notes["theirs"].pk).read_at is None


def test_mark_read_all_with_a_token(author, notes):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=author).key}")

    response = client.post(f"{URL}mark_read/", {"all": True}, format="json")

    assert response.data == {"marked": 2, "unread": 0}
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


def test_mark_read_without_ids_or_all_is_a_400(author, notes):
    response = client_for(author).post(f"{URL}mark_read/", {}, format="json")
    assert response.status_code == 400
    assert "ids" in response.data
    assert Notification.objects.filter(read_at__isnull=True).count() == 3
