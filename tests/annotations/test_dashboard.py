"""The course dashboard: participation over time, annotations per paragraph, the most
challenged claims, what waits for staff and the assignments' standing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from annotations.models import Claim, Course, Paragraph, Source
from annotations.models.annotation import Visibility
from annotations.models.challenges import ChallengeStatus, Stance
from annotations.services import annotations as annotation_services
from annotations.services import challenges as challenge_services
from annotations.services import links as link_services
from annotations.services import threads as thread_services
from tests.factories import EventFactory, MembershipFactory, UserFactory
from tests.helpers import queries_for
from timeline.models import Event

pytestmark = pytest.mark.django_db

START = dt.datetime(2027, 1, 4, 9, tzinfo=dt.UTC)  # a Monday


@pytest.fixture
def paragraphs(paper) -> list[Paragraph]:
    return list(paper.paragraphs.order_by("order"))


@pytest.fixture
def claims(paper) -> list[Claim]:
    return list(Claim.objects.filter(paragraph__document=paper).order_by("key")[:3])


@pytest.fixture
def source() -> Source:
    return Source.objects.filter(course__isnull=True).exclude(kind=Source.Kind.NOTE).order_by("key").first()


@pytest.fixture
def started(course) -> Course:
    """The course, begun on Monday 4 January 2027."""
    Course.objects.filter(pk=course.pk).update(created_at=START)
    course.refresh_from_db()
    return course


def note(user, course, paragraph, *, visibility=Visibility.COURSE):
    return annotation_services.annotation_create(
        user=user, course=course, paragraph=paragraph, start=0, end=20, body="A note.", visibility=visibility
    )


def challenge(user, course, claim, source, *, stance=Stance.DISPUTES, visibility=Visibility.COURSE):
    return challenge_services.challenge_create(
        user=user, course=course, claim=claim, stance=stance, argument="Because.",
        citations=[{"source": source, "page": "3", "quote": "", "url_fragment": ""}], visibility=visibility,
    )  # fmt: skip


def dashboard_url(course) -> str:
    return reverse("assignments:dashboard", kwargs={"pk": course.pk})


def signed_in(client, user):
    client.force_login(user)
    return client


def table_rows(html: str) -> dict[str, list[int]]:
    """The participation table: each period's date with its counts (annotations,
    challenges, posts, replies, total)."""
    rows = re.findall(
        r'<tr><th scope="row"><time datetime="([\d-]+)">[^<]*</time></th>((?:<td>\d+</td>)+)</tr>', html
    )
    return {day: [int(n) for n in re.findall(r"<td>(\d+)</td>", cells)] for day, cells in rows}


def heat_cells(html: str) -> dict[str, int]:
    return {anchor: int(n) for anchor, n in re.findall(r'aria-label="([\w-]+): (\d+) annotations?"', html)}


# -- who sees it -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("ta", 200),
        ("instructor", 200),
        ("curator", 200),
        ("author", 403),
        ("other_course_student", 404),
        ("other_instructor", 404),
        ("outsider", 404),
    ],
)
def test_only_the_courses_staff_see_the_dashboard(request, client, course, name, code):
    response = signed_in(client, request.getfixturevalue(name)).get(dashboard_url(course))

    assert response.status_code == code
    assert ("Participation over time" in response.content.decode()) is (code == 200)


def test_anonymous_is_sent_to_sign_in(client, course):
    response = client.get(dashboard_url(course))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


# -- participation ----------------------------------------------------------------------------------


def test_participation_counts_shared_work_per_day_in_a_young_course(
    client, started, author, groupmate, ta, paragraphs, claims, source, time_machine
):
    course = started
    time_machine.move_to(START + dt.timedelta(hours=1))
    shared = note(author, course, paragraphs[0])
    note(author, course, paragraphs[0], visibility=Visibility.PRIVATE)
    time_machine.move_to(START + dt.timedelta(days=2, hours=1))
    note(groupmate, course, paragraphs[0], visibility=Visibility.GROUP)
    disputed = challenge(author, course, claims[0], source)
    challenge(groupmate, course, claims[0], source, visibility=Visibility.PRIVATE)
    thread = thread_services.thread_create(user=author, course=course, title="Dates", body="Which?")
    thread_services.post_create(user=groupmate, thread=thread, body="June.")
    annotation_services.reply_create(user=groupmate, annotation=shared, body="Agreed.")
    challenge_services.challenge_respond(user=groupmate, challenge=disputed, body="Really?")
    time_machine.move_to(START + dt.timedelta(days=4))

    response = signed_in(client, ta).get(dashboard_url(course))

    html = response.content.decode()
    rows = table_rows(html)
    assert list(rows) == ["2027-01-04", "2027-01-05", "2027-01-06", "2027-01-07", "2027-01-08"]
    assert rows["2027-01-04"] == [1, 0, 0, 0, 1]
    assert rows["2027-01-05"] == [0, 0, 0, 0, 0]
    assert rows["2027-01-06"] == [1, 1, 2, 2, 6]
    assert "<caption" in html
    assert "Shared work per day" in html
    assert '<th scope="col">Annotations</th>' in html


def test_participation_is_weekly_once_the_course_is_three_weeks_old(
    client, started, author, ta, paragraphs, time_machine
):
    course = started
    time_machine.move_to(START + dt.timedelta(days=1))
    note(author, course, paragraphs[0])
    time_machine.move_to(START + dt.timedelta(days=6))  # Sunday: still the first week
    note(author, course, paragraphs[1])
    time_machine.move_to(START + dt.timedelta(days=15))
    note(author, course, paragraphs[2])
    time_machine.move_to(START + dt.timedelta(days=30))

    rows = table_rows(signed_in(client, ta).get(dashboard_url(course)).content.decode())

    assert list(rows) == ["2027-01-04", "2027-01-11", "2027-01-18", "2027-01-25", "2027-02-01"]
    assert [counts[0] for counts in rows.values()] == [2, 0, 1, 0, 0]


def test_the_chart_is_an_accessible_svg(client, course, author, ta, paragraphs):
    note(author, course, paragraphs[0])

    html = signed_in(client, ta).get(dashboard_url(course)).content.decode()

    assert re.search(
        r'<svg[^>]*role="img"[^>]*aria-labelledby="participation-title participation-desc"', html
    )
    assert '<title id="participation-title">Shared work per day in SCO Seminar</title>' in html
    assert "1 annotations" in html  # the description states the totals
    assert html.count('class="chart__bar chart__bar--annotations"') == 1
    assert "css/dashboard.css" in html


# -- heat map ------------------------------------------------------------------------------------


def test_the_heat_map_counts_shared_annotations_per_paragraph_and_links_to_them(
    client, course, author, groupmate, ta, paragraphs
):
    for _ in range(3):
        note(author, course, paragraphs[0])
    note(groupmate, course, paragraphs[0], visibility=Visibility.GROUP)
    note(author, course, paragraphs[0], visibility=Visibility.PRIVATE)
    note(ta, course, paragraphs[0], visibility=Visibility.PRIVATE)  # the viewer's own draft too
    note(author, course, paragraphs[2])
    deleted = note(author, course, paragraphs[2])
    annotation_services.annotation_delete(user=author, annotation=deleted)

    html = signed_in(client, ta).get(dashboard_url(course)).content.decode()

    cells = heat_cells(html)
    assert len(cells) == len(paragraphs)
    assert cells[paragraphs[0].anchor] == 4
    assert cells[paragraphs[1].anchor] == 0
    assert cells[paragraphs[2].anchor] == 1
    reading = reverse("annotate:reading", kwargs={"pk": course.pk})
    assert f'<a class="heat heat--4" href="{reading}#{paragraphs[0].anchor}"' in html
    assert f'<a class="heat heat--1" href="{reading}#{paragraphs[2].anchor}"' in html
    assert f'<a class="heat heat--0" href="{reading}#{paragraphs[1].anchor}"' in html
    assert f'<h3 class="heat-section">{paragraphs[0].section.title}</h3>' in html


# -- claims and waiting work ------------------------------------------------------------------------


def test_the_most_challenged_claims_come_first_with_stances_and_evidence(
    client, course, author, groupmate, ta, claims, source
):
    challenge(author, course, claims[1], source)
    challenge(groupmate, course, claims[1], source, stance=Stance.SUPPORTS)
    challenge(groupmate, course, claims[1], source, visibility=Visibility.PRIVATE)
    challenge(author, course, claims[0], source, visibility=Visibility.PRIVATE)
    challenge(author, course, claims[0], source, visibility=Visibility.PRIVATE)
    challenge(author, course, claims[2], source, stance=Stance.QUALIFIES)

    response = signed_in(client, ta).get(dashboard_url(course))

    rows = response.context["challenged"]
    assert [(row.claim.key, row.total) for row in rows] == [(claims[1].key, 2), (claims[2].key, 1)]
    assert dict(rows[0].by_stance) == {"disputes": 1, "supports": 1, "qualifies": 0, "needs context": 0}
    html = response.content.decode()
    claim_url = reverse("challenges:claim", kwargs={"pk": course.pk, "key": claims[1].key})
    assert f'<a href="{claim_url}">{claims[1].key}</a>' in html
    assert 'class="evidence evidence--contested"' in html


def test_open_items_list_what_waits_for_staff_oldest_first(
    client, course, author, groupmate, ta, claims, source, time_machine
):
    time_machine.move_to("2027-03-01T10:00:00Z")
    first = challenge(author, course, claims[0], source)
    time_machine.move_to("2027-03-02T10:00:00Z")
    challenge(groupmate, course, claims[1], source)
    resolved = challenge(groupmate, course, claims[2], source)
    challenge_services.challenge_resolve(
        user=ta,
        challenge=resolved,
        status=ChallengeStatus.REJECTED,
        feedback="No.",
        expected_version=resolved.version,
    )
    challenge(author, course, claims[2], source, visibility=Visibility.PRIVATE)
    link_services.link_propose(
        user=author, course=course, claim=claims[0], event=EventFactory(), relation="describes"
    )
    declined = link_services.link_propose(
        user=author, course=course, claim=claims[1], event=EventFactory(), relation="describes"
    )
    link_services.link_decide(user=ta, proposal=declined, accept=False, feedback="No.")
    link_services.event_propose(
        user=author, course=course, title="A summit in Astana", date="2005-07-05", type=Event.Type.SUMMIT,
        source=source,
    )  # fmt: skip

    response = signed_in(client, ta).get(dashboard_url(course))

    groups = {group.key: group for group in response.context["open_items"]}
    assert groups["challenges"].count == 2
    assert groups["challenges"].items[0].text == f"author disputes {claims[0].key}"
    assert groups["challenges"].items[0].url.endswith(f"/claims/{claims[0].key}/#challenge-{first.pk}")
    assert groups["links"].count == 1
    assert groups["events"].count == 1
    html = response.content.decode()
    assert 'Open challenges: <span class="waiting__count">2</span>' in html
    assert "A summit in Astana (author)" in html
    assert reverse("links:review", kwargs={"pk": course.pk}) in html


def test_the_assignments_summary_counts_complete_students(
    client, course, author, groupmate, ta, assignment, paragraphs, claims, source
):
    note(author, course, paragraphs[0])
    note(author, course, paragraphs[1])
    challenge(author, course, claims[0], source)
    note(groupmate, course, paragraphs[0])

    response = signed_in(client, ta).get(dashboard_url(course))

    [summary] = response.context["assignments"]
    assert (summary.students, summary.complete, summary.late) == (2, 1, 0)
    html = response.content.decode()
    assert assignment.title in html
    assert reverse("assignments:grades-canvas-csv", kwargs={"pk": assignment.pk}) in html


# -- queries ---------------------------------------------------------------------------------------


def test_the_dashboard_does_not_query_more_for_more_work(
    client, course, group_a, author, ta, assignment, paragraphs, claims, source
):
    client = signed_in(client, ta)
    note(author, course, paragraphs[0])
    challenge(author, course, claims[0], source)
    few = queries_for(client, dashboard_url(course))

    for n in range(5):
        someone = UserFactory(username=f"student{n}")
        MembershipFactory(course=course, user=someone, group=group_a)
        annotation = note(someone, course, paragraphs[n + 1], visibility=Visibility.GROUP)
        annotation_services.reply_create(user=author, annotation=annotation, body="Yes.")
        challenge(someone, course, claims[n % len(claims)], source)
        thread = thread_services.thread_create(user=someone, course=course, title=f"T{n}", body="Hi")
        thread_services.post_create(user=author, thread=thread, body="Hello")
        link_services.link_propose(
            user=someone, course=course, claim=claims[0], event=EventFactory(), relation="describes"
        )

    assert queries_for(client, dashboard_url(course)) == few
