"""The assignment pages: the list, setting and editing, a student's progress, the class
table, grading with its conflicts, extensions, and releasing grades."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from annotations.models import Claim, Section, Source
from annotations.models.annotation import Visibility
from annotations.models.assignments import Assignment, Extension, Grade
from annotations.models.challenges import Stance
from annotations.services import assignments as assignment_services
from annotations.services import challenges as challenge_services
from tests.factories import AnnotationFactory, AssignmentFactory, ClaimFactory, MembershipFactory, UserFactory
from tests.helpers import queries_for

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def signed_in(client, user):
    client.force_login(user)
    return client


def when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def dated(course, instructor):
    """An assignment with fixed dates: open 1 January 2027, due the 10th, late work until the 12th."""
    return AssignmentFactory(
        course=course,
        title="Fixed dates",
        opens_at=when("2027-01-01T00:00"),
        due_at=when("2027-01-10T00:00"),
        late_until=when("2027-01-12T00:00"),
        created_by=instructor,
    )


def dispute(author, course, claim=None):
    source = Source.objects.filter(course__isnull=True).order_by("key").first()
    return challenge_services.challenge_create(
        user=author, course=course, claim=claim or Claim.objects.get(key="c-20-8"), stance=Stance.DISPUTES,
        argument="Not so.", visibility=Visibility.COURSE,
        citations=[{"source": source, "page": "4", "quote": "", "url_fragment": ""}],
    )  # fmt: skip


def page_urls(assignment, student) -> dict[str, str]:
    return {
        "list": reverse("assignments:list", kwargs={"pk": assignment.course_id}),
        "create": reverse("assignments:create", kwargs={"pk": assignment.course_id}),
        "detail": reverse("assignments:detail", kwargs={"pk": assignment.pk}),
        "edit": reverse("assignments:edit", kwargs={"pk": assignment.pk}),
        "delete": reverse("assignments:delete", kwargs={"pk": assignment.pk}),
        "progress": reverse("assignments:progress", kwargs={"pk": assignment.pk}),
        "grade": reverse("assignments:grade", kwargs={"pk": assignment.pk, "user_id": student.pk}),
    }


def rows_of(html: str) -> list[str]:
    """The usernames of the class table's rows, in order."""
    return re.findall(r'<th scope="row" class="student">([^<]+)</th>', html)


# -- who may see what ---------------------------------------------------------------------


def test_every_page_sends_an_anonymous_visitor_to_sign_in(client, assignment, author):
    for name, url in page_urls(assignment, author).items():
        response = client.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("login")), name


@pytest.mark.parametrize("name", ["outsider", "other_course_student", "other_instructor"])
def test_people_outside_the_course_get_not_found_everywhere(request, client, assignment, author, name):
    signed_in(client, request.getfixturevalue(name))
    for page, url in page_urls(assignment, author).items():
        response = client.get(url)
        assert response.status_code == 404, page
    for action in ("release", "withhold", "extension-grant"):
        response = client.post(reverse(f"assignments:{action}", kwargs={"pk": assignment.pk}))
        assert response.status_code == 404, action


def test_a_student_may_not_open_the_staff_pages(client, assignment, author, groupmate):
    signed_in(client, author)
    urls = page_urls(assignment, groupmate)
    for page in ("create", "edit", "delete", "progress", "grade"):
        assert client.get(urls[page]).status_code == 403, page
    for action in ("release", "extension-grant"):
        assert client.post(reverse(f"assignments:{action}", kwargs={"pk": assignment.pk})).status_code == 403
    assert not Extension.objects.exists()
    assignment.refresh_from_db()
    assert assignment.grades_released_at is None


def test_a_ta_grades_but_does_not_set_or_release(client, assignment, author, ta):
    signed_in(client, ta)
    urls = page_urls(assignment, author)
    assert "author" in rows_of(client.get(urls["progress"]).content.decode())
    assert "Save the grade" in client.get(urls["grade"]).content.decode()
    for page in ("create", "edit", "delete"):
        assert client.get(urls[page]).status_code == 403, page
    assert client.post(reverse("assignments:release", kwargs={"pk": assignment.pk})).status_code == 403
    detail = client.get(urls["detail"]).content.decode()
    assert "The class table" in detail
    assert "Release the grades" not in detail
    assert "Edit the assignment" not in detail


def test_a_student_cannot_be_graded_outside_the_course(
    client, assignment, instructor, ta, other_course_student
):
    signed_in(client, instructor)
    for user in (other_course_student, ta):
        url = reverse("assignments:grade", kwargs={"pk": assignment.pk, "user_id": user.pk})
        assert client.get(url).status_code == 404


def test_the_course_page_links_to_assignments_and_the_dashboard_for_staff(client, course, author, ta):
    course_url = reverse("courses:detail", kwargs={"pk": course.pk})
    list_url = reverse("assignments:list", kwargs={"pk": course.pk})
    dashboard_url = reverse("assignments:dashboard", kwargs={"pk": course.pk})
    html = signed_in(client, author).get(course_url).content.decode()
    assert list_url in html
    assert dashboard_url not in html
    html = signed_in(client, ta).get(course_url).content.decode()
    assert list_url in html
    assert dashboard_url in html


# -- the list -----------------------------------------------------------------------------


def test_the_list_says_each_assignment_in_words(client, course, assignment, author, instructor, time_machine):
    section = Section.objects.filter(document=course.reading, level=1).order_by("order").first()
    later = AssignmentFactory(
        course=course, title="Later one", required_annotations=1, required_challenges=0, required_links=3
    )
    later.sections.set([section])
    time_machine.move_to(assignment.due_at + dt.timedelta(days=1))
    html = (
        signed_in(client, author).get(reverse("assignments:list", kwargs={"pk": course.pk})).content.decode()
    )
    assert assignment.title in html
    assert "Later one" in html
    assert "2 annotations, 1 challenge" in html
    assert "1 annotation, 3 claim–event links" in html
    assert "the whole reading" in html
    assert section.title in html
    assert "late window" in html
    assert "individual work" in html
    assert "New assignment" not in html
    html = signed_in(client, instructor).get(reverse("assignments:list", kwargs={"pk": course.pk})).content
    assert reverse("assignments:create", kwargs={"pk": course.pk}) in html.decode()


def test_an_empty_list_says_what_comes_next(client, course, author, instructor):
    url = reverse("assignments:list", kwargs={"pk": course.pk})
    assert "When your instructor sets one" in signed_in(client, author).get(url).content.decode()
    assert "Set the first one" in signed_in(client, instructor).get(url).content.decode()


def test_the_list_runs_as_many_queries_for_five_assignments_as_for_one(client, course, author):
    section = Section.objects.filter(document=course.reading).order_by("order").first()
    url = reverse("assignments:list", kwargs={"pk": course.pk})
    signed_in(client, author)
    AssignmentFactory(course=course).sections.set([section])
    one = queries_for(client, url)
    for _ in range(4):
        AssignmentFactory(course=course).sections.set([section])
    assert queries_for(client, url) == one


# -- setting, editing, deleting ------------------------------------------------------------


def form_data(**changes) -> dict:
    data = {
        "title": "Read section 2",
        "instructions": "Read *closely*.",
        "claims": "",
        "opens_at": "2027-02-01T09:00",
        "due_at": "2027-02-08T17:00",
        "late_until": "2027-02-10T17:00",
        "late_penalty": "20",
        "work_mode": "individual",
        "scoring": "scaled",
        "points": "10",
        "required_annotations": "3",
        "required_challenges": "1",
        "required_sources": "0",
        "required_replies": "0",
        "required_links": "0",
    }
    data.update(changes)
    return data


def test_an_instructor_sets_an_assignment_with_sections_and_claims(client, course, instructor):
    section = Section.objects.filter(document=course.reading).order_by("order")[1]
    signed_in(client, instructor)
    url = reverse("assignments:create", kwargs={"pk": course.pk})
    form = client.get(url).content.decode()
    assert "A section includes its subsections" in form
    assert 'type="datetime-local"' in form
    assert "Percent taken off the automatic score when late work was needed" in form  # the model's help
    response = client.post(
        url, form_data(sections=[str(section.pk)], claims="c-20-8, c-21-1 c-20-8", anonymous_to_peers="on")
    )
    created = Assignment.objects.get(course=course, title="Read section 2")
    assert response.status_code == 302
    assert response["Location"] == created.get_absolute_url()
    assert list(created.sections.all()) == [section]
    assert sorted(created.claims.values_list("key", flat=True)) == ["c-20-8", "c-21-1"]
    assert created.due_at == when("2027-02-08T17:00")  # the site's time zone is UTC in tests
    assert created.instructions_html.strip() == "<p>Read <em>closely</em>.</p>"
    assert created.anonymous_to_peers
    assert created.late_penalty == 20
    assert created.required_annotations == 3


def test_bad_input_shows_each_error_and_writes_nothing(client, course, instructor):
    signed_in(client, instructor)
    url = reverse("assignments:create", kwargs={"pk": course.pk})
    response = client.post(url, form_data(claims="c-20-8, c-999-1, nonsense"))
    assert response.status_code == 400
    assert (
        "No claim of the course&#x27;s reading has these keys: c-999-1, nonsense."
        in response.content.decode()
    )
    response = client.post(
        url, form_data(due_at="2027-01-01T09:00", required_annotations="0", required_challenges="0")
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert str(assignment_services.DUE_BEFORE_OPEN) in html
    assert "Ask for at least one piece of work" in html
    response = client.post(url, form_data(late_until="2027-02-08T16:00"))
    assert str(assignment_services.LATE_BEFORE_DUE) in response.content.decode()
    response = client.post(url, form_data(points="0"))
    assert "Ensure this value is greater than or equal to 0.01." in response.content.decode()
    assert not Assignment.objects.filter(course=course).exists()


def test_claims_of_another_reading_are_refused_by_key(client, course, instructor):
    foreign = ClaimFactory()  # a claim of another reading
    response = signed_in(client, instructor).post(
        reverse("assignments:create", kwargs={"pk": course.pk}), form_data(claims=foreign.key)
    )
    assert foreign.key in response.content.decode()
    assert not Assignment.objects.exists()


def test_the_edit_form_is_filled_in_and_saves(client, assignment, instructor):
    assignment.claims.set(Claim.objects.filter(key__in=["c-20-8", "c-21-1"]))
    signed_in(client, instructor)
    url = reverse("assignments:edit", kwargs={"pk": assignment.pk})
    html = client.get(url).content.decode()
    assert re.search(r'name="claims" value="c-(20-8, c-21-1|21-1, c-20-8)"', html)
    assert f'value="{assignment.title}"' in html
    opens = timezone.localtime(assignment.opens_at).strftime("%Y-%m-%dT%H:%M")
    assert f'type="datetime-local" name="opens_at" value="{opens}"' in html
    response = client.post(url, form_data(title="Refused", required_annotations="0", required_challenges="0"))
    assert response.status_code == 400
    assert "Ask for at least one piece of work" in response.content.decode()
    assignment.refresh_from_db()
    assert assignment.title != "Refused"
    assert assignment.required_annotations == 2
    response = client.post(url, form_data(title="Renamed", claims="c-21-1"))
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.title == "Renamed"
    assert list(assignment.claims.values_list("key", flat=True)) == ["c-21-1"]


def test_deleting_asks_first_and_refuses_once_there_are_grades(client, assignment, instructor, author):
    signed_in(client, instructor)
    url = reverse("assignments:delete", kwargs={"pk": assignment.pk})
    assert "Delete the assignment" in client.get(url).content.decode()
    assignment_services.grade_set(user=instructor, assignment=assignment, student=author, score="5")
    response = client.post(url)
    assert response.status_code == 400
    assert "cannot be deleted" in response.content.decode()
    assert Assignment.objects.filter(pk=assignment.pk).exists()
    Grade.objects.filter(assignment=assignment).delete()
    response = client.post(url)
    assert response["Location"] == reverse("assignments:list", kwargs={"pk": assignment.course_id})
    assert not Assignment.objects.filter(pk=assignment.pk).exists()


# -- a student's progress -------------------------------------------------------------------


def test_a_student_sees_what_is_missing_and_what_was_late(client, course, dated, author, time_machine):
    time_machine.move_to(when("2027-01-05T10:00"), tick=False)
    on_time = AnnotationFactory(course=course, author=author, body="On time.")
    AnnotationFactory(course=course, author=author, body="", visibility=Visibility.COURSE)  # bare highlight
    AnnotationFactory(course=course, author=author, body="Private", visibility=Visibility.PRIVATE)
    time_machine.move_to(when("2027-01-11T10:00"), tick=False)
    late = AnnotationFactory(course=course, author=author, body="Late.")
    html = signed_in(client, author).get(dated.get_absolute_url()).content.decode()
    assert "Still to do: 1 challenge." in html
    assert "Some of it was late." in html
    assert "2 annotations, 1 challenge" in html
    assert "1 late" in html
    assert on_time.get_absolute_url() in html
    assert late.get_absolute_url() in html
    work = html.split("Your work that counts")[1].split("</ul>")[0]
    assert work.count('class="tag tag--warn">late<') == 1
    assert "bare highlights" in html
    assert "5 × (1/1 + 0/1) ÷ 2" not in html  # not the default formula: 10 points
    assert "10 × (2/2 + 0/1) ÷ 2 = 5" in html
    assert "Grades are not released yet" in html


def test_a_student_who_did_everything_is_told_so(client, course, dated, author, time_machine):
    time_machine.move_to(when("2027-01-05T10:00"), tick=False)
    AnnotationFactory(course=course, author=author)
    AnnotationFactory(course=course, author=author)
    challenge = dispute(author, course)
    html = signed_in(client, author).get(dated.get_absolute_url()).content.decode()
    assert "Everything asked is done." in html
    assert (
        reverse("challenges:claim", kwargs={"pk": course.pk, "key": "c-20-8"}) + f"#challenge-{challenge.pk}"
        in html
    )


def test_staff_see_no_progress_of_their_own_but_the_staff_links(client, assignment, instructor):
    html = signed_in(client, instructor).get(assignment.get_absolute_url()).content.decode()
    assert "Your progress" not in html
    for name in ("grades-csv", "grades-canvas-csv", "work-json", "progress", "edit", "delete"):
        assert reverse(f"assignments:{name}", kwargs={"pk": assignment.pk}) in html, name
    assert "Release the grades" in html


def test_the_options_are_said_in_words(client, assignment, author):
    Assignment.objects.filter(pk=assignment.pk).update(hide_peers_until_posted=True, anonymous_to_peers=True)
    html = signed_in(client, author).get(assignment.get_absolute_url()).content.decode()
    assert "Classmates' work in the scope appears once you have posted your own." in html
    assert "Your name is hidden from classmates" in html


# -- grades ---------------------------------------------------------------------------------


def test_an_override_and_feedback_reach_the_student_only_once_released(
    client, assignment, author, instructor, ta
):
    url = reverse("assignments:grade", kwargs={"pk": assignment.pk, "user_id": author.pk})
    signed_in(client, ta)
    page = client.get(url).content.decode()
    assert 'name="version" value="0"' in page
    assert "Leave empty to keep the automatic score, 0.00 of 10" in page
    response = client.post(url, {"score": "7.5", "feedback": "Good *start*.", "version": "0"})
    assert response.status_code == 302
    grade = Grade.objects.get(assignment=assignment, student=author)
    assert grade.score == Decimal("7.50")
    assert grade.graded_by == ta
    assert grade.version == 1
    table = client.get(reverse("assignments:progress", kwargs={"pk": assignment.pk})).content.decode()
    assert "7.5" in table
    assert "ta," in table

    student_page = signed_in(client, author).get(assignment.get_absolute_url()).content.decode()
    assert "Grades are not released yet" in student_page
    assert "Good" not in student_page

    signed_in(client, instructor).post(reverse("assignments:release", kwargs={"pk": assignment.pk}))
    student_page = signed_in(client, author).get(assignment.get_absolute_url()).content.decode()
    assert "Your grade: <strong>7.5</strong> of 10 (set by staff)" in student_page
    assert "Good <em>start</em>." in student_page

    signed_in(client, instructor).post(reverse("assignments:withhold", kwargs={"pk": assignment.pk}))
    assert "Good" not in signed_in(client, author).get(assignment.get_absolute_url()).content.decode()


def test_a_bad_score_is_explained_and_nothing_is_saved(client, assignment, author, ta):
    url = reverse("assignments:grade", kwargs={"pk": assignment.pk, "user_id": author.pk})
    response = signed_in(client, ta).post(url, {"score": "11", "feedback": "", "version": "0"})
    assert response.status_code == 400
    assert "A score cannot be more than the assignment&#x27;s 10 points." in response.content.decode()
    assert not Grade.objects.exists()


def test_a_stale_version_is_a_conflict_that_keeps_the_first_grade(client, assignment, author, ta, instructor):
    url = reverse("assignments:grade", kwargs={"pk": assignment.pk, "user_id": author.pk})
    signed_in(client, ta).post(url, {"score": "6", "feedback": "First.", "version": "0"})
    response = signed_in(client, instructor).post(url, {"score": "9", "feedback": "Second.", "version": "0"})
    html = response.content.decode()
    assert response.status_code == 409
    assert "Someone else graded author first (ta" in html
    assert "Score: 6." in html
    assert 'name="version" value="1"' in html
    assert 'value="6"' in html
    assert "First.</textarea>" in html
    grade = Grade.objects.get(assignment=assignment, student=author)
    assert (grade.score, grade.feedback, grade.version) == (Decimal("6.00"), "First.", 1)


def test_release_twice_says_so(client, assignment, instructor):
    signed_in(client, instructor)
    url = reverse("assignments:release", kwargs={"pk": assignment.pk})
    client.post(url)
    response = client.post(url, follow=True)
    assert str(assignment_services.ALREADY_RELEASED) in response.content.decode()


# -- extensions -----------------------------------------------------------------------------


def test_an_extension_is_granted_shown_to_the_student_and_revoked(client, dated, author, ta, time_machine):
    time_machine.move_to(when("2027-01-05T10:00"), tick=False)
    signed_in(client, ta)
    detail = client.get(dated.get_absolute_url()).content.decode()
    assert f'<option value="{author.pk}">author</option>' in detail
    response = client.post(
        reverse("assignments:extension-grant", kwargs={"pk": dated.pk}),
        {"student": author.pk, "due_at": "2027-01-15T12:00", "late_until": "", "reason": "Ill"},
    )
    assert response.status_code == 302
    extension = Extension.objects.get(assignment=dated, student=author)
    assert extension.due_at == when("2027-01-15T12:00")
    assert extension.granted_by == ta
    assert "Ill" in client.get(dated.get_absolute_url()).content.decode()
    html = signed_in(client, author).get(dated.get_absolute_url()).content.decode()
    assert "extended to" in html
    assert "15 Jan 2027, 12:00" in html
    signed_in(client, ta).post(
        reverse("assignments:extension-revoke", kwargs={"pk": dated.pk, "user_id": author.pk})
    )
    assert not Extension.objects.exists()


def test_an_extension_before_the_due_date_is_refused_on_the_page(client, dated, author, ta):
    response = signed_in(client, ta).post(
        reverse("assignments:extension-grant", kwargs={"pk": dated.pk}),
        {"student": author.pk, "due_at": "2027-01-09T12:00", "late_until": "", "reason": ""},
    )
    assert response.status_code == 400
    assert "An extension must end after the assignment&#x27;s due date (2027-01-10 00:00)." in (
        response.content.decode()
    )
    assert not Extension.objects.exists()


# -- the class table ------------------------------------------------------------------------


def test_the_class_table_sorts_and_filters(
    client, course, dated, author, groupmate, other_group_student, ungrouped_student, ta, time_machine
):
    time_machine.move_to(when("2027-01-05T10:00"), tick=False)
    AnnotationFactory(course=course, author=groupmate)
    AnnotationFactory(course=course, author=groupmate)
    AnnotationFactory(course=course, author=other_group_student)
    time_machine.move_to(when("2027-01-11T10:00"), tick=False)
    AnnotationFactory(course=course, author=ungrouped_student)
    signed_in(client, ta)
    url = reverse("assignments:progress", kwargs={"pk": dated.pk})
    html = client.get(url).content.decode()
    assert rows_of(html) == ["author", "groupmate", "other_group_student", "ungrouped_student"]
    assert "4 students, 0 complete, 1 late." in html
    assert '1/2 <span class="late-mark">(1 late)</span>' in html
    assert 'aria-sort="ascending"' in html

    html = client.get(url, {"sort": "annotations", "dir": "desc"}).content.decode()
    assert rows_of(html) == ["groupmate", "other_group_student", "ungrouped_student", "author"]
    assert 'aria-sort="descending"' in html
    html = client.get(url, {"sort": "score"}).content.decode()
    assert rows_of(html) == ["author", "other_group_student", "ungrouped_student", "groupmate"]
    html = client.get(url, {"sort": "late", "dir": "desc"}).content.decode()
    assert rows_of(html)[0] == "ungrouped_student"
    html = client.get(url, {"sort": "group", "dir": "desc"}).content.decode()
    assert rows_of(html)[0] == "ungrouped_student"

    html = client.get(url, {"group": author.memberships.get().group_id}).content.decode()
    assert rows_of(html) == ["author", "groupmate"]
    assert "2 students" in html
    html = client.get(url, {"group": "none"}).content.decode()
    assert rows_of(html) == ["ungrouped_student"]


def test_the_class_table_runs_as_many_queries_for_thirty_students_as_for_three(
    client, course, dated, ta, group_a
):
    url = reverse("assignments:progress", kwargs={"pk": dated.pk})
    signed_in(client, ta)
    for n in range(3):
        MembershipFactory(course=course, user=UserFactory(username=f"s{n:02}"), group=group_a)
    three = queries_for(client, url)
    for n in range(3, 30):
        student = UserFactory(username=f"s{n:02}")
        MembershipFactory(course=course, user=student, group=group_a if n % 2 else None)
        Grade.objects.create(assignment=dated, student=student, score=Decimal("3"), graded_by=ta)
    html = client.get(url).content.decode()
    assert len(rows_of(html)) == 30
    assert queries_for(client, url) == three


def test_each_class_table_row_links_to_its_grade_page_with_the_override_and_who_graded(
    client, course, dated, author, groupmate, ta, time_machine
):
    time_machine.move_to(when("2027-01-05T10:00"), tick=False)
    assignment_services.grade_set(user=ta, assignment=dated, student=author, score=Decimal("7.5"))
    html = (
        signed_in(client, ta).get(reverse("assignments:progress", kwargs={"pk": dated.pk})).content.decode()
    )

    row = {
        name: html[html.index(f'<th scope="row" class="student">{name}</th>') :]
        for name in ("author", "groupmate")
    }
    author_row = row["author"][: row["author"].index("</tr>")]
    groupmate_row = row["groupmate"][: row["groupmate"].index("</tr>")]
    assert "<td>7.5</td>" in author_row
    assert "<strong>7.5</strong>" in author_row
    assert f"ta, {timezone.localtime(when('2027-01-05T10:00')):%-d %b %Y, %H:%M}" in author_row
    assert (
        f'href="{reverse("assignments:grade", kwargs={"pk": dated.pk, "user_id": author.pk})}"' in author_row
    )
    assert "<td>—</td>" in groupmate_row
    assert "not yet" in groupmate_row
    assert (
        f'href="{reverse("assignments:grade", kwargs={"pk": dated.pk, "user_id": groupmate.pk})}"'
        in groupmate_row
    )


def test_grade_page_links_to_the_neighbours(client, assignment, author, groupmate, other_group_student, ta):
    url = reverse("assignments:grade", kwargs={"pk": assignment.pk, "user_id": groupmate.pk})
    html = signed_in(client, ta).get(url).content.decode()
    assert reverse("assignments:grade", kwargs={"pk": assignment.pk, "user_id": author.pk}) in html
    assert (
        reverse("assignments:grade", kwargs={"pk": assignment.pk, "user_id": other_group_student.pk}) in html
    )


@pytest.mark.parametrize(
    ("moment", "status"),
    [
        ("2026-12-31T23:00", "upcoming"),
        ("2027-01-05T10:00", "open"),
        ("2027-01-11T10:00", "late window"),
        ("2027-01-12T00:01", "closed"),
    ],
)
def test_the_status_follows_the_clock(client, course, dated, author, time_machine, moment, status):
    time_machine.move_to(when(moment), tick=False)
    html = (
        signed_in(client, author).get(reverse("assignments:list", kwargs={"pk": course.pk})).content.decode()
    )
    assert f'class="tag assignment-status assignment-status--{status.replace(" ", "-")}">{status}<' in html


def test_site_staff_may_open_and_set_everything(client, course, assignment, author, curator):
    signed_in(client, curator)
    urls = page_urls(assignment, author)
    for page in ("list", "create", "detail", "edit", "delete", "progress", "grade"):
        assert client.get(urls[page]).status_code == 200, page
    assert "Your progress" not in client.get(urls["detail"]).content.decode()
    response = client.post(urls["create"], form_data(title="By the curator"))
    assert response.status_code == 302
    assert Assignment.objects.get(title="By the curator").created_by == curator


def test_posts_in_discussions_count_as_replies_and_link_to_their_thread(client, course, author, instructor):
    from annotations.services.threads import thread_create

    replies = AssignmentFactory(
        course=course, required_annotations=0, required_challenges=0, required_replies=1
    )
    thread = thread_create(
        user=author,
        course=course,
        title="The founding date",
        body="Was it 2001?",
        claim=Claim.objects.get(key="c-20-8"),
    )
    html = signed_in(client, author).get(replies.get_absolute_url()).content.decode()
    assert "Everything asked is done." in html
    assert "Post in a discussion" in html
    assert reverse("threads:detail", kwargs={"pk": course.pk, "thread_pk": thread.pk}) in html


def test_the_class_table_names_someone_for_a_grader_gone_and_leaves_out_a_former_student(
    client, course, dated, author, groupmate, ta, time_machine
):
    time_machine.move_to(when("2027-01-05T10:00"), tick=False)
    Grade.objects.create(
        assignment=dated, student=author, score=Decimal("6"), graded_by=None, graded_at=timezone.now()
    )
    Grade.objects.create(assignment=dated, student=groupmate, score=Decimal("9.25"), graded_by=ta)
    groupmate.memberships.get(course=course).delete()

    html = (
        signed_in(client, ta).get(reverse("assignments:progress", kwargs={"pk": dated.pk})).content.decode()
    )
    assert rows_of(html) == ["author"]
    assert "1 student, 0 complete, 0 late." in html
    assert f"someone, {timezone.localtime(when('2027-01-05T10:00')):%-d %b %Y, %H:%M}" in html
    assert "9.25" not in html
