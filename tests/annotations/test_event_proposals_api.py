"""event_propose and event_decide, and /api/v1/event-proposals/: new events into the timeline."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.test import APIClient

from annotations.models.challenges import EventProposal, ProposalStatus
from annotations.services import links as services
from tests.factories import SourceFactory
from timeline.models import Event

pytestmark = pytest.mark.django_db

URL = "/api/v1/event-proposals/"


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def source(course, author):
    return SourceFactory(key="course-book", course=course, added_by=author)


def propose(user, course, source, **extra) -> EventProposal:
    fields = {
        "title": "Tashkent summit",
        "date": "2004-06",
        "end_date": "",
        "place": "Tashkent",
        "type": "summit",
        "description": "Regional anti-terrorist structure launched.",
        **extra,
    }
    return services.event_propose(user=user, course=course, source=source, **fields)


def test_a_member_proposes_an_event_with_a_partial_date(author, course, source):
    proposal = propose(author, course, source)

    stored = EventProposal.objects.get(pk=proposal.pk)
    assert (stored.date, stored.precision) == (dt.date(2004, 6, 1), "month")
    assert (stored.source, stored.proposer, stored.status) == (source, author, ProposalStatus.PROPOSED)


def test_it_refuses_a_proposal_without_a_source_or_with_a_bad_date(author, course):
    with pytest.raises(ValidationError) as error:
        propose(author, course, None, date="June 2004", end_date="2003")
    assert set(error.value.message_dict) == {"source", "date"}
    with pytest.raises(ValidationError) as error:
        propose(author, course, SourceFactory(), date="2004-06-15", end_date="2004-05")
    assert error.value.message_dict == {"end_date": [services.END_BEFORE_START]}
    assert not EventProposal.objects.exists()


def test_it_refuses_a_source_of_another_course(author, course, other_course, other_course_student):
    hidden = SourceFactory(course=other_course, added_by=other_course_student)
    with pytest.raises(ValidationError) as error:
        propose(author, course, hidden)
    assert error.value.message_dict == {"source": [services.SOURCE_NOT_VISIBLE]}


def test_someone_outside_the_course_cannot_propose(other_course_student, course):
    with pytest.raises(PermissionDenied):
        propose(other_course_student, course, SourceFactory())


def test_accepting_creates_the_event_on_the_public_timeline(author, ta, course, source, client):
    proposal = propose(author, course, source)

    decided = services.event_decide(user=ta, proposal=proposal, accept=True, feedback="Good find.")

    event = Event.objects.get(pk=decided.event_id)
    assert event.key == "tashkent-summit-2004"
    assert (event.title, event.date, event.precision, event.place) == (
        "Tashkent summit", dt.date(2004, 6, 1), "month", "Tashkent",
    )  # fmt: skip
    assert list(event.sources.all()) == [source]
    assert not event.participants.exists()
    assert "Tashkent summit" in client.get("/timeline/").content.decode()
    api = client.get("/api/v1/events/tashkent-summit-2004/")
    assert api.status_code == 200
    assert api.json()["title"] == "Tashkent summit"


def test_accepting_a_title_with_underscores_gives_the_event_a_valid_key(author, ta, course, source):
    proposal = propose(author, course, source, title="The __init__ of the SCO_charter -- 2002")

    decided = services.event_decide(user=ta, proposal=proposal, accept=True)

    event = Event.objects.get(pk=decided.event_id)
    assert event.key == "the-init-of-the-sco-charter-2002-2004"
    assert event.title == "The __init__ of the SCO_charter -- 2002"


def test_declining_keeps_the_proposal_with_feedback_and_no_event(author, instructor, course, source):
    proposal = propose(author, course, source)
    services.event_decide(user=instructor, proposal=proposal, accept=False, feedback="Out of scope.")
    stored = EventProposal.objects.get(pk=proposal.pk)
    assert (stored.status, stored.feedback, stored.event) == ("declined", "Out of scope.", None)
    assert not Event.objects.filter(title="Tashkent summit").exists()


def test_a_second_decision_is_refused_and_creates_no_second_event(author, ta, instructor, course, source):
    proposal = propose(author, course, source)
    services.event_decide(user=ta, proposal=proposal, accept=True)
    with pytest.raises(services.AlreadyDecided):
        services.event_decide(user=instructor, proposal=proposal, accept=True)
    assert Event.objects.filter(title="Tashkent summit").count() == 1


def test_the_api_creates_lists_and_decides(author, ta, course, source):
    created = client_for(author).post(
        URL,
        {
            "course": course.pk,
            "title": "Tashkent summit",
            "date": "2004-06-17",
            "type": "summit",
            "source": "course-book",
        },
    )
    assert created.status_code == 201, created.data
    assert (created.data["date"], created.data["precision"], created.data["source"]) == (
        "2004-06-17", "day", "course-book",
    )  # fmt: skip

    students = client_for(author).post(f"{URL}{created.data['id']}/decide/", {"accept": True})
    assert students.status_code == 403

    decided = client_for(ta).post(f"{URL}{created.data['id']}/decide/", {"accept": True})
    assert decided.status_code == 200
    assert (decided.data["status"], decided.data["event"]) == ("accepted", "tashkent-summit-2004")

    again = client_for(ta).post(f"{URL}{created.data['id']}/decide/", {"accept": False})
    assert again.status_code == 409
    assert again.data["current"]["status"] == "accepted"


def test_the_api_reports_bad_fields(author, course):
    response = client_for(author).post(
        URL, {"course": course.pk, "title": "X", "date": "2004-13", "type": "summit", "source": "nope"}
    )
    assert response.status_code == 400
    assert "source" in response.data
    SourceFactory(key="fine")
    response = client_for(author).post(
        URL, {"course": course.pk, "title": "X", "date": "2004-13", "type": "summit", "source": "fine"}
    )
    assert response.status_code == 400
    assert "date" in response.data


@pytest.mark.parametrize(
    ("name", "seen"),
    [
        ("groupmate", True),
        ("ta", True),
        ("curator", True),
        ("other_course_student", False),
        ("outsider", False),
    ],
)
def test_course_members_see_event_proposals(request, name, seen, author, course, source):
    proposal = propose(author, course, source)
    client = client_for(request.getfixturevalue(name))
    assert [p["id"] for p in client.get(URL).data["results"]] == ([proposal.pk] if seen else [])
    assert client.get(f"{URL}{proposal.pk}/").status_code == (200 if seen else 404)


def test_filters_and_anonymous(author, groupmate, ta, course, source):
    mine = propose(author, course, source)
    theirs = propose(groupmate, course, source, title="Astana summit", date="2005")
    services.event_decide(user=ta, proposal=theirs, accept=False)
    client = client_for(author)
    assert [p["id"] for p in client.get(f"{URL}?author=author").data["results"]] == [mine.pk]
    assert [p["id"] for p in client.get(f"{URL}?status=declined").data["results"]] == [theirs.pk]
    assert len(client.get(f"{URL}?course={course.pk}").data["results"]) == 2
    assert client_for(None).get(URL).status_code == 401
