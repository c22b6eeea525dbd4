"""Grade exports (plain and Canvas CSV) and the class's work as JSON."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from django.urls import reverse

from annotations import exports
from annotations.models import Claim, Paragraph, Source
from annotations.models.annotation import Visibility
from annotations.models.challenges import Stance
from annotations.services import annotations as annotation_services
from annotations.services import assignments as assignment_services
from annotations.services import challenges as challenge_services
from annotations.services import links as link_services
from annotations.services import threads as thread_services
from tests.factories import EventFactory, MembershipFactory, UserFactory
from tests.helpers import queries_for

pytestmark = pytest.mark.django_db


# -- building work ------------------------------------------------------------------------------


@pytest.fixture
def paragraph(paper) -> Paragraph:
    return paper.paragraphs.order_by("order").first()


@pytest.fixture
def claim(paper) -> Claim:
    return Claim.objects.filter(paragraph__document=paper).order_by("key").first()


@pytest.fixture
def source() -> Source:
    return Source.objects.filter(course__isnull=True).exclude(kind=Source.Kind.NOTE).order_by("key").first()


def note(user, course, paragraph, *, visibility=Visibility.COURSE, body="A note."):
    return annotation_services.annotation_create(
        user=user, course=course, paragraph=paragraph, start=0, end=20, body=body, visibility=visibility
    )


def dispute(user, course, claim, source, *, visibility=Visibility.COURSE, argument="Not so."):
    return challenge_services.challenge_create(
        user=user, course=course, claim=claim, stance=Stance.DISPUTES, argument=argument,
        citations=[{"source": source, "page": "12", "quote": "Later.", "url_fragment": ""}],
        visibility=visibility,
    )  # fmt: skip


def student(course, username, group=None, **names):
    user = UserFactory(username=username, **names)
    MembershipFactory(course=course, user=user, group=group)
    return user


def read_csv(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff"), "a BOM first, so Excel reads UTF-8"
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def graded_class(course, group_a, group_b, author, groupmate, other_group_student, instructor, assignment,
                 paragraph, claim, source):  # fmt: skip
    """The author meets everything; the groupmate wrote one of two annotations; the other
    group's student is overridden to 7.5 with feedback; two more students with tricky names."""
    note(author, course, paragraph)
    note(author, course, paragraph)
    dispute(author, course, claim, source)
    note(groupmate, course, paragraph)
    # Private work never counts.
    note(groupmate, course, paragraph, visibility=Visibility.PRIVATE)
    assignment_services.grade_set(
        user=instructor, assignment=assignment, student=other_group_student, score="7.5",
        feedback="=Good *work*, see p. 4",
    )  # fmt: skip
    student(course, "zhang", group_b, first_name="Wěi", last_name="Zhāng", email="zhang@example.org")
    student(course, "anna", first_name="Анна", last_name="")
    student(course, "mallory", first_name='=HYPERLINK("http://x")', last_name="")
    return assignment


def canvas_url(assignment) -> str:
    return reverse("assignments:grades-canvas-csv", kwargs={"pk": assignment.pk})


def grades_url(assignment) -> str:
    return reverse("assignments:grades-csv", kwargs={"pk": assignment.pk})


def work_url(assignment) -> str:
    return reverse("assignments:work-json", kwargs={"pk": assignment.pk})


def course_work_url(course) -> str:
    return reverse("assignments:course-work-json", kwargs={"pk": course.pk})


# -- who may export --------------------------------------------------------------------------------


URLS = [canvas_url, grades_url, work_url]


@pytest.mark.parametrize("url", URLS)
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
def test_only_the_courses_staff_export_an_assignment(request, client, assignment, url, name, code):
    response = signed_in(client, request.getfixturevalue(name)).get(url(assignment))
    assert response.status_code == code
    if code == 200:
        assert response["Content-Disposition"].startswith("attachment;")
    else:
        assert b"username" not in response.content


@pytest.mark.parametrize(
    ("name", "code"),
    [("ta", 200), ("instructor", 200), ("curator", 200), ("author", 403), ("other_instructor", 404)],
)
def test_only_the_courses_staff_export_the_courses_work(request, client, course, name, code):
    response = signed_in(client, request.getfixturevalue(name)).get(course_work_url(course))
    assert response.status_code == code


@pytest.mark.parametrize("url", [*URLS])
def test_anonymous_is_sent_to_sign_in(client, assignment, url):
    response = client.get(url(assignment))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_anonymous_is_sent_to_sign_in_for_the_courses_work(client, course):
    response = client.get(course_work_url(course))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


# -- Canvas -----------------------------------------------------------------------------------


def test_the_canvas_csv_has_canvas_header_points_possible_and_final_scores(client, graded_class, ta):
    response = signed_in(client, ta).get(canvas_url(graded_class))

    rows = read_csv(response)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="sco-seminar-{exports.slugify(graded_class.title)}-grades.csv"'
    )
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", graded_class.title]
    assert rows[1] == ["Points Possible", "", "", "", "", "10"]
    by_login = {row[3]: row for row in rows[2:]}
    assert by_login["author"] == ["author", "", "", "author", "Group A", "10"]
    assert by_login["groupmate"][5] == "2.5"  # 10 × (1/2 + 0/1) ÷ 2
    assert by_login["other_group_student"][4:] == ["Group B", "7.5"]  # the override
    assert by_login["zhang"][:5] == ["Zhāng, Wěi", "", "", "zhang", "Group B"]
    assert by_login["anna"][0] == "Анна"
    assert by_login["anna"][4] == "", "no group, no section"
    assert len(rows) == 2 + 6


def test_a_name_that_looks_like_a_formula_is_written_as_text(client, graded_class, ta):
    canvas = read_csv(signed_in(client, ta).get(canvas_url(graded_class)))
    plain = read_csv(client.get(grades_url(graded_class)))

    assert [row[0] for row in canvas if row[3] == "mallory"] == ['\'=HYPERLINK("http://x")']
    header = plain[0]
    mallory = next(row for row in plain if row[0] == "mallory")
    assert mallory[header.index("name")] == '\'=HYPERLINK("http://x")'
    other = next(row for row in plain if row[0] == "other_group_student")
    assert other[header.index("feedback")] == "'=Good *work*, see p. 4"


def test_cells_are_neutralised_but_numbers_stay_numbers():
    assert exports.spreadsheet_safe("=1+1") == "'=1+1"
    assert exports.spreadsheet_safe("+33 1 23") == "'+33 1 23"
    assert exports.spreadsheet_safe("-2") == "'-2"
    assert exports.spreadsheet_safe("@SUM(A1)") == "'@SUM(A1)"
    assert exports.spreadsheet_safe("\tx") == "'\tx"
    assert exports.spreadsheet_safe("\rx") == "'\rx"
    assert exports.spreadsheet_safe("Zhāng") == "Zhāng"
    assert exports.spreadsheet_safe(Decimal("-2.50")) == "-2.5"
    assert exports.spreadsheet_safe(Decimal("1234.00")) == "1234"
    assert exports.spreadsheet_safe(3) == "3"
    assert exports.spreadsheet_safe(True) == "yes"


# -- the plain grade sheet ------------------------------------------------------------------------


def test_the_grades_csv_shows_every_number_behind_each_grade(client, graded_class, ta, instructor):
    response = signed_in(client, ta).get(grades_url(graded_class))

    rows = read_csv(response)
    header = rows[0]
    assert header == [
        "username", "name", "email", "group",
        "annotations done", "annotations asked", "annotations late",
        "challenges done", "challenges asked", "challenges late",
        "late", "automatic score", "formula", "override", "final score", "feedback",
        "graded by", "graded at", "grades released",
    ]  # fmt: skip
    by_username = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    author = by_username["author"]
    assert (author["annotations done"], author["annotations asked"], author["challenges done"]) == (
        "2",
        "2",
        "1",
    )
    assert (author["late"], author["automatic score"], author["override"], author["final score"]) == (
        "no", "10", "", "10"
    )  # fmt: skip
    assert author["graded by"] == ""
    assert author["grades released"] == "no"
    groupmate = by_username["groupmate"]
    assert groupmate["annotations done"] == "1", "the private annotation does not count"
    assert groupmate["automatic score"] == "2.5"
    assert "1/2 + 0/1" in groupmate["formula"]
    other = by_username["other_group_student"]
    assert (other["automatic score"], other["override"], other["final score"]) == ("0", "7.5", "7.5")
    assert other["graded by"] == "instructor"
    assert other["graded at"].startswith(
        str(graded_class.grades.get(student__username="other_group_student").graded_at.date())
    )
    assert "T" in other["graded at"]
    zhang = by_username["zhang"]
    assert (zhang["name"], zhang["email"], zhang["group"]) == ("Wěi Zhāng", "zhang@example.org", "Group B")


def test_the_grades_csv_says_when_grades_are_released(client, graded_class, instructor):
    assignment_services.grades_release(user=instructor, assignment=graded_class)

    rows = read_csv(signed_in(client, instructor).get(grades_url(graded_class)))

    assert {row[-1] for row in rows[1:]} == {"yes"}


def test_a_course_title_without_ascii_letters_still_gives_a_file_name(graded_class):
    graded_class.course.title = "Семинар"
    graded_class.title = "Задание"

    assert exports.export_filename(graded_class) == (
        f"course-{graded_class.course_id}-assignment-{graded_class.pk}-grades.csv"
    )


# -- query counts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", URLS)
def test_exports_do_not_query_more_for_more_students(client, course, ta, assignment, paragraph, url):
    client = signed_in(client, ta)
    first = student(course, "first")
    note(first, course, paragraph)
    few = queries_for(client, url(assignment))

    for n in range(6):
        more = student(course, f"more{n}")
        note(more, course, paragraph)
        assignment_services.grade_set(user=ta, assignment=assignment, student=more, score="3")

    assert queries_for(client, url(assignment)) == few


def test_the_courses_work_does_not_query_more_for_more_work(client, course, group_a, author, ta, paragraph,
                                                             claim, source):  # fmt: skip
    client = signed_in(client, ta)
    note(author, course, paragraph)
    dispute(author, course, claim, source)
    thread_services.thread_create(user=author, course=course, title="First", body="Hello")
    few = queries_for(client, course_work_url(course))

    for n in range(4):
        someone = student(course, f"more{n}", group_a)
        annotation = note(someone, course, paragraph, visibility=Visibility.GROUP)
        annotation_services.reply_create(user=author, annotation=annotation, body="Agreed.")
        dispute(someone, course, claim, source)
        thread = thread_services.thread_create(
            user=someone, course=course, title=f"T{n}", body="Hi", group=group_a
        )
        thread_services.post_create(user=author, thread=thread, body="Reply")
        link_services.link_propose(
            user=someone, course=course, claim=claim, event=EventFactory(), relation="describes"
        )

    assert queries_for(client, course_work_url(course)) == few


# -- JSON -----------------------------------------------------------------------------------------


def test_the_assignment_work_json_lists_each_students_counted_work(client, graded_class, ta, source):
    response = signed_in(client, ta).get(work_url(graded_class))

    data = json.loads(response.content)
    assert response["Content-Disposition"].endswith('-work.json"')
    assert data["assignment"]["title"] == graded_class.title
    assert data["assignment"]["scope"] == "the whole reading"
    assert data["assignment"]["requirements"] == {"annotations": 2, "challenges": 1}
    students = {row["username"]: row for row in data["students"]}
    author = students["author"]
    assert author["tallies"]["annotations"] == {"asked": 2, "on_time": 2, "late": 0}
    assert author["score"] == "10"
    assert author["complete"] is True
    assert len(author["work"]["annotations"]) == 2
    assert [c["sources"] for c in author["work"]["challenges"]] == [[source.key]]
    groupmate = students["groupmate"]
    assert len(groupmate["work"]["annotations"]) == 1, "the private annotation is not listed"
    assert students["other_group_student"]["override"] == "7.5"
    assert students["zhang"]["name"] == "Wěi Zhāng"


def test_the_courses_work_json_carries_shared_work_and_never_private(client, course, group_a, author,
                                                                      groupmate, ta, paragraph, claim, source):  # fmt: skip
    shared = note(author, course, paragraph, body="Shared **note**")
    grouped = note(groupmate, course, paragraph, visibility=Visibility.GROUP, body="For the group")
    note(author, course, paragraph, visibility=Visibility.PRIVATE, body="My secret")
    annotation_services.reply_create(user=groupmate, annotation=shared, body="Nice")
    challenge = dispute(author, course, claim, source, argument="Wrong date")
    dispute(groupmate, course, claim, source, visibility=Visibility.PRIVATE, argument="Private doubt")
    # A TA's own private note is private too: the export never carries it.
    note(ta, course, paragraph, visibility=Visibility.PRIVATE, body="TA's draft")
    thread = thread_services.thread_create(user=author, course=course, title="Dates", body="Which date?")
    thread_services.post_create(user=groupmate, thread=thread, body="June")
    event = EventFactory()
    link_services.link_propose(user=author, course=course, claim=claim, event=event, relation="describes")

    data = json.loads(signed_in(client, ta).get(course_work_url(course)).content)

    text = json.dumps(data)
    assert "My secret" not in text
    assert "Private doubt" not in text
    assert "TA's draft" not in text
    annotations = {a["id"]: a for a in data["annotations"]}
    assert set(annotations) == {shared.pk, grouped.pk}
    assert annotations[shared.pk]["body"] == "Shared **note**"
    assert annotations[shared.pk]["author"] == "author"
    assert annotations[shared.pk]["group"] == "Group A"
    assert annotations[shared.pk]["paragraph"] == paragraph.anchor
    assert [r["body"] for r in annotations[shared.pk]["replies"]] == ["Nice"]
    assert annotations[grouped.pk]["visibility"] == "group"
    assert [c["id"] for c in data["challenges"]] == [challenge.pk]
    assert data["challenges"][0]["claim"] == claim.key
    assert data["challenges"][0]["sources"][0]["source"] == source.key
    assert data["links"][0]["event"] == event.key
    assert [t["title"] for t in data["threads"]] == ["Dates"]
    assert [p["body"] for p in data["threads"][0]["posts"]] == ["Which date?", "June"]
