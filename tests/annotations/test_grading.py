"""What counts toward an assignment and the score it earns (``annotations.grading``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotations import grading, selectors
from annotations.models import Claim, Membership, Paragraph, Section, Source
from annotations.models.annotation import Visibility
from annotations.models.assignments import Assignment, Extension, Grade, Scoring, WorkMode
from annotations.models.challenges import Stance
from annotations.services import annotations as annotation_services
from annotations.services import challenges as challenge_services
from annotations.services import links as link_services
from annotations.services import threads as thread_services
from tests.factories import AssignmentFactory, EventFactory, MembershipFactory, UserFactory
from tests.helpers import plan_with_only

pytestmark = pytest.mark.django_db

START = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
DUE = START + dt.timedelta(days=7)
LATE_UNTIL = DUE + dt.timedelta(days=2)


@pytest.fixture
def task(course, instructor):
    """Open 1–8 March 2027, late window to 10 March; asks two annotations and one challenge."""
    return AssignmentFactory(
        course=course, created_by=instructor, opens_at=START, due_at=DUE, late_until=LATE_UNTIL
    )


def paragraph(paper, order: int = 1) -> Paragraph:
    return paper.paragraphs.get(order=order)


def claim_in(section_key: str) -> Claim:
    return Claim.objects.filter(paragraph__section__key=section_key).order_by("paragraph__order", "start")[0]


def note(user, course, para: Paragraph, *, body="A note.", visibility=Visibility.COURSE, claim=None):
    start, end = (claim.start, claim.end) if claim else (0, 15)
    return annotation_services.annotation_create(
        user=user,
        course=course,
        paragraph=para,
        start=start,
        end=end,
        exact=para.text[start:end],
        body=body,
        visibility=visibility,
        claim=claim,
    )


def challenge(user, course, claim, *, sources=(), visibility=Visibility.COURSE):
    return challenge_services.challenge_create(
        user=user,
        course=course,
        claim=claim,
        stance=Stance.DISPUTES if sources else Stance.SUPPORTS,
        argument="Because.",
        citations=[{"source": source} for source in sources],
        visibility=visibility,
    )


def at(time_machine, moment: dt.datetime) -> None:
    time_machine.move_to(moment, tick=False)


def tallies(task, student) -> dict[str, tuple[int, int]]:
    progress = grading.student_progress(task, student)
    return {kind: (tally.on_time, tally.late) for kind, tally in progress.tallies.items()}


def test_shared_notes_count_and_private_notes_bare_highlights_and_deleted_ones_do_not(
    task, course, author, paper, time_machine
):
    at(time_machine, START + dt.timedelta(days=1))
    note(author, course, paragraph(paper, 1))
    note(author, course, paragraph(paper, 2), visibility=Visibility.PRIVATE)
    note(author, course, paragraph(paper, 3), body="")
    deleted = note(author, course, paragraph(paper, 4))
    annotation_services.annotation_delete(user=author, annotation=deleted)

    assert tallies(task, author)["annotations"] == (1, 0)


def test_work_counts_on_time_then_late_and_not_before_opening_or_after_the_late_window(
    task, course, author, paper, time_machine
):
    for moment in (
        START - dt.timedelta(minutes=1),  # before it opens
        START,
        DUE,  # the due minute itself is on time
        DUE + dt.timedelta(seconds=1),
        LATE_UNTIL,
        LATE_UNTIL + dt.timedelta(seconds=1),  # too late
    ):
        at(time_machine, moment)
        note(author, course, paragraph(paper, 1))

    assert tallies(task, author)["annotations"] == (2, 2)


def test_an_extension_moves_the_due_date_and_the_late_window_for_one_student(
    task, course, author, groupmate, paper, time_machine
):
    Extension.objects.create(
        assignment=task,
        student=author,
        due_at=DUE + dt.timedelta(days=3),
        late_until=DUE + dt.timedelta(days=5),
    )
    for user in (author, groupmate):
        at(time_machine, DUE + dt.timedelta(days=1))
        note(user, course, paragraph(paper, 1))
        at(time_machine, DUE + dt.timedelta(days=4))
        note(user, course, paragraph(paper, 1))

    assert tallies(task, author)["annotations"] == (1, 1)
    assert tallies(task, groupmate)["annotations"] == (0, 1)
    window = grading.student_progress(task, author).window
    assert window.extended
    assert window.due_at == DUE + dt.timedelta(days=3)


def test_a_section_in_scope_brings_its_subsections_and_nothing_else(
    task, course, author, paper, time_machine
):
    task.sections.set([Section.objects.get(key__startswith="common-interests")])
    inside = Paragraph.objects.filter(section__key="common-military-and-security-interests").first()
    outside = Paragraph.objects.filter(section__key="introduction").first()
    at(time_machine, START + dt.timedelta(days=1))
    note(author, course, inside)
    note(author, course, outside)
    challenge(author, course, claim_in("common-strategic-energy-interests"))
    challenge(author, course, claim_in("introduction"))

    assert tallies(task, author) == {"annotations": (1, 0), "challenges": (1, 0)}
    assert grading.Scope(task).describe() == Section.objects.get(key__startswith="common-interests").title


def test_a_scope_reads_its_ids_once_per_version_of_the_reading(task, paper):
    """The ids are kept under the reading's stamp: a later scope of the same choice reads the
    stamp alone, and any change to the reading's sections, paragraphs or claims is seen."""
    chosen = Section.objects.get(key__startswith="common-interests")
    task.sections.set([chosen])
    first = grading.Scope(Assignment.objects.get(pk=task.pk))
    before = (first.section_ids, first.claim_ids, first.paragraph_ids)
    assert before[0] > {chosen.pk}  # with its subsections
    assert before[1]
    assert before[2]

    again = grading.Scope(Assignment.objects.get(pk=task.pk))
    with CaptureQueriesContext(connection) as context:
        assert (again.section_ids, again.claim_ids, again.paragraph_ids) == before
    assert len(context.captured_queries) == 1  # the stamp

    # A new subsection of a chosen section, with a paragraph and a claim: a change of the reading.
    sub = Section.objects.create(
        document=paper, parent=chosen, key="new-sub", title="New", level=3, order=999
    )
    text = "A new paragraph that states a new thing."
    para = Paragraph.objects.create(document=paper, section=sub, anchor="p-999", order=999, text=text)
    claim = Claim.objects.create(
        key="c-new-1", paragraph=para, quote="states a new thing", start=text.index("states"),
        end=len(text) - 1, paraphrase="New.", kind=Claim.Kind.FACTUAL,
    )  # fmt: skip
    after = grading.Scope(Assignment.objects.get(pk=task.pk))
    assert after.section_ids == before[0] | {sub.pk}
    assert after.paragraph_ids == before[2] | {para.pk}
    assert after.claim_ids == before[1] | {claim.pk}


def test_a_reports_assignment_brings_its_scope_in_the_same_query(task, instructor, paper):
    """Read for a report, the assignment carries the reading's stamp and its chosen sections
    and claims (on PostgreSQL in its own query, elsewhere a query each for the two choices):
    its scope is the one the assignment alone gives, with no further query once the ids are
    kept, and a change of the reading is still seen."""
    chosen_section = Section.objects.get(key__startswith="common-interests")
    chosen_claim = Claim.objects.filter(paragraph__document=paper, paragraph__section__key="introduction")[0]
    task.sections.set([chosen_section])
    task.claims.set([chosen_claim])
    plain = grading.Scope(Assignment.objects.get(pk=task.pk))
    expected = (plain.section_ids, plain.claim_ids, plain.paragraph_ids)
    assert chosen_claim.pk in expected[1]
    assert chosen_section.pk in expected[0]

    with CaptureQueriesContext(connection) as context:
        scope = grading.Scope(selectors.assignment_for_report(instructor, task.pk))
        assert (scope.section_ids, scope.claim_ids, scope.paragraph_ids) == expected
    assert len(context.captured_queries) == (1 if connection.vendor == "postgresql" else 3)
    assert (scope.chosen_section_ids, scope.chosen_claim_ids) == ({chosen_section.pk}, {chosen_claim.pk})

    # Nothing chosen: the whole reading.
    task.sections.clear()
    task.claims.clear()
    assert grading.Scope(selectors.assignment_for_report(instructor, task.pk)).whole

    # A new paragraph under the chosen section: a new stamp, so the ids are read afresh.
    task.sections.set([chosen_section])
    text = "A paragraph added later."
    added = Paragraph.objects.create(
        document=paper, section=chosen_section, anchor="p-998", order=998, text=text
    )
    assert added.pk in grading.Scope(selectors.assignment_for_report(instructor, task.pk)).paragraph_ids


def test_the_count_queries_are_kept_per_process_and_any_change_to_what_they_read_is_seen(
    task, course, author, groupmate, group_a, paper, time_machine, monkeypatch
):
    """The counts' SQL is built once for the same assignment, dates, scope and class; a change
    to any of them (the assignment's dates, an extension, the scope, one group asked for)
    builds the queries afresh, and each answer is the one the new settings give."""
    at(time_machine, START + dt.timedelta(days=1))
    note(author, course, paragraph(paper, 1))
    note(groupmate, course, paragraph(paper, 14))
    built = []
    queries = grading._Counter.queries
    monkeypatch.setattr(grading._Counter, "queries", lambda *a, **k: built.append(1) or queries(*a, **k))

    def notes(group_id: int | None = None) -> dict[str, tuple[int, int]]:
        # The assignment as a request reads it: a new object each time.
        fresh = Assignment.objects.get(pk=task.pk)
        return {
            row.username: (row.tallies["annotations"].on_time, row.tallies["annotations"].late)
            for row in grading.class_standings(fresh, group_id=group_id)
        }

    assert notes()["author"] == (1, 0)
    assert notes()["author"] == (1, 0)
    assert len(built) == 1  # the second asked the kept queries

    Assignment.objects.filter(pk=task.pk).update(due_at=START + dt.timedelta(hours=12))
    assert notes()["author"] == (0, 1)  # now late
    assert len(built) == 2

    Extension.objects.create(assignment=task, student=author, due_at=DUE)
    assert notes()["author"] == (1, 0)  # on time again, for the author alone
    assert notes()["groupmate"] == (0, 1)
    assert len(built) == 3

    assert notes(group_a.pk) == {"author": (1, 0), "groupmate": (0, 1)}  # one group's queries
    assert len(built) == 4

    task.sections.set([paragraph(paper, 14).section])
    assert notes()["author"] == (0, 0)  # paragraph 1 is out of scope now
    assert notes()["groupmate"] == (0, 1)
    assert len(built) == 5

    # A section with no paragraphs: nothing can count, and the database is not asked.
    empty = Section.objects.create(document=paper, key="empty", title="Empty", level=2, order=998)
    task.sections.set([empty])
    with CaptureQueriesContext(connection) as context:
        assert set(notes().values()) == {(0, 0)}
    assert not [query for query in context.captured_queries if "COUNT(" in query["sql"]]
    assert notes()["author"] == (0, 0)  # and kept as such
    assert len(built) == 6


def test_a_claim_in_scope_brings_its_paragraph_and_challenges_on_it(
    task, course, author, paper, time_machine
):
    chosen = claim_in("introduction")
    other_claim = Claim.objects.exclude(paragraph=chosen.paragraph).order_by("key")[0]
    task.claims.set([chosen])
    at(time_machine, START + dt.timedelta(days=1))
    note(author, course, chosen.paragraph)  # the paragraph holding the claim
    note(author, course, other_claim.paragraph)
    challenge(author, course, chosen)
    challenge(author, course, other_claim)

    assert tallies(task, author) == {"annotations": (1, 0), "challenges": (1, 0)}


def test_sources_are_distinct_sources_cited_in_shared_challenges(task, course, author, paper, time_machine):
    task.required_sources = 2
    task.save()
    first, second, third = Source.objects.filter(course__isnull=True).order_by("key")[:3]
    claims = Claim.objects.order_by("key")[:3]
    at(time_machine, START + dt.timedelta(days=1))
    challenge(author, course, claims[0], sources=[first, second])
    challenge(author, course, claims[1], sources=[first])
    challenge(author, course, claims[2], sources=[third], visibility=Visibility.PRIVATE)

    assert tallies(task, author)["sources"] == (2, 0)


def test_replies_responses_and_posts_count_as_replies(
    task, course, author, groupmate, paper, group_a, time_machine
):
    task.required_replies = 3
    task.save()
    at(time_machine, START + dt.timedelta(days=1))
    annotation = note(author, course, paragraph(paper, 1))
    filed = challenge(author, course, Claim.objects.order_by("key")[0])
    thread = thread_services.thread_create(
        user=author, course=course, title="On p-1", body="Let us discuss.", group=group_a
    )
    annotation_services.reply_create(user=groupmate, annotation=annotation, body="Agreed.")
    challenge_services.challenge_respond(user=groupmate, challenge=filed, body="Why?")
    thread_services.post_create(user=groupmate, thread=thread, body="A post.")
    gone = thread_services.post_create(user=groupmate, thread=thread, body="Withdrawn.")
    thread_services.post_delete(user=groupmate, post=gone)

    assert tallies(task, groupmate)["replies"] == (3, 0)


def test_declined_link_proposals_do_not_count(task, course, author, instructor, time_machine):
    task.required_links = 2
    task.save()
    claims = Claim.objects.order_by("key")[:2]
    at(time_machine, START + dt.timedelta(days=1))
    kept = link_services.link_propose(
        user=author, course=course, claim=claims[0], event=EventFactory(), relation="describes"
    )
    declined = link_services.link_propose(
        user=author, course=course, claim=claims[1], event=EventFactory(), relation="describes"
    )
    link_services.link_decide(user=instructor, proposal=declined, accept=False, feedback="No.")

    assert tallies(task, author)["links"] == (1, 0)
    assert kept.status == "proposed"


def test_group_work_credits_each_member_and_counts_a_source_once_per_group(
    task, course, author, groupmate, other_group_student, ungrouped_student, paper, time_machine
):
    task.work_mode = WorkMode.GROUP
    task.required_sources = 1
    task.save()
    source = Source.objects.filter(course__isnull=True).order_by("key")[0]
    claims = Claim.objects.order_by("key")[:2]
    at(time_machine, START + dt.timedelta(days=1))
    note(author, course, paragraph(paper, 1))
    at(time_machine, DUE + dt.timedelta(hours=1))
    note(groupmate, course, paragraph(paper, 2))
    challenge(author, course, claims[0], sources=[source])
    challenge(groupmate, course, claims[1], sources=[source])
    note(ungrouped_student, course, paragraph(paper, 3))

    rows = {p.student.username: p for p in grading.class_progress(task)}
    for member in ("author", "groupmate"):
        assert {k: (t.on_time, t.late) for k, t in rows[member].tallies.items()} == {
            "annotations": (1, 1),
            "challenges": (0, 2),
            "sources": (0, 1),
        }
    assert rows["other_group_student"].tallies["annotations"].counted == 0
    assert rows["ungrouped_student"].tallies["annotations"].late == 1


def test_scaled_score_shows_its_formula_and_the_late_penalty_applies_only_when_late_work_was_needed(
    task, course, author, groupmate, paper, time_machine
):
    task.late_penalty = 20
    task.points = Decimal("10")
    task.save()
    at(time_machine, START + dt.timedelta(days=1))
    note(author, course, paragraph(paper, 1))
    note(groupmate, course, paragraph(paper, 1))
    note(groupmate, course, paragraph(paper, 2))
    at(time_machine, DUE + dt.timedelta(days=1))
    note(author, course, paragraph(paper, 2))  # late, and needed for the second annotation
    note(groupmate, course, paragraph(paper, 3))  # late, but two were done on time

    rows = {p.student.username: p for p in grading.class_progress(task)}
    assert rows["author"].auto_score == Decimal("4.00")
    assert rows["author"].formula == "10 × (2/2 + 0/1) ÷ 2 = 5; late: − 20% = 4"
    assert rows["author"].late
    assert rows["groupmate"].auto_score == Decimal("5.00")
    assert not rows["groupmate"].late
    assert rows["groupmate"].missing == {"challenges": 1}


def test_all_or_nothing_gives_the_points_only_when_every_requirement_is_met(
    task, course, author, groupmate, paper, time_machine
):
    task.scoring = Scoring.ALL_OR_NOTHING
    task.save()
    at(time_machine, START + dt.timedelta(days=1))
    for user in (author, groupmate):
        note(user, course, paragraph(paper, 1))
        note(user, course, paragraph(paper, 2))
    challenge(author, course, Claim.objects.order_by("key")[0])

    rows = {p.student.username: p for p in grading.class_progress(task)}
    assert (rows["author"].auto_score, rows["author"].formula) == (
        Decimal("10.00"),
        "2 of 2 requirements met → 10",
    )
    assert (rows["groupmate"].auto_score, rows["groupmate"].formula) == (
        Decimal("0.00"),
        "1 of 2 requirements met → 0",
    )


def test_an_override_is_the_grade_and_no_override_keeps_the_automatic_score(task, author, groupmate, ta):
    Grade.objects.create(assignment=task, student=author, score=Decimal("7.5"), graded_by=ta)
    Grade.objects.create(assignment=task, student=groupmate, score=None, feedback="Good start.", graded_by=ta)

    rows = {p.student.username: p for p in grading.class_progress(task)}
    assert rows["author"].overridden
    assert rows["author"].score == Decimal("7.5")
    assert not rows["groupmate"].overridden
    assert rows["groupmate"].score == rows["groupmate"].auto_score


def test_staff_and_other_courses_are_not_in_the_class(task, author, ta, instructor, other_course_student):
    assert [p.student.username for p in grading.class_progress(task)] == ["author"]
    assert grading.student_progress(task, ta) is None


@pytest.mark.parametrize("table", [grading.class_progress, grading.class_standings])
def test_the_class_table_costs_the_same_queries_for_3_and_30_students(table, task, course, group_a, paper):
    task.required_sources = task.required_replies = task.required_links = 1
    task.work_mode = WorkMode.GROUP
    task.save()
    Extension.objects.create(
        assignment=task, student=MembershipFactory(course=course).user, due_at=LATE_UNTIL
    )
    MembershipFactory(course=course, group=group_a)

    def count() -> int:
        task.refresh_from_db()
        with CaptureQueriesContext(connection) as queries:
            rows = table(task)
        assert rows
        return len(queries.captured_queries)

    small = count()
    for _ in range(27):
        student = MembershipFactory(course=course, user=UserFactory(), group=group_a).user
        note(student, course, paragraph(paper, 1))
        Grade.objects.create(assignment=task, student=student, score=Decimal("3"))
        Extension.objects.create(assignment=task, student=student, due_at=LATE_UNTIL)
    assert count() == small


def test_counted_work_lists_the_students_own_pieces_with_their_timing(
    task, course, author, paper, time_machine
):
    at(time_machine, START + dt.timedelta(days=1))
    on_time = note(author, course, paragraph(paper, 1))
    at(time_machine, DUE + dt.timedelta(hours=2))
    late = note(author, course, paragraph(paper, 2))
    note(author, course, paragraph(paper, 3), visibility=Visibility.PRIVATE)

    assert grading.counted_work(task, author)["annotations"] == [(on_time, "on_time"), (late, "late")]
    assert timezone.is_aware(task.due_at)


def test_course_progress_gives_each_assignment_what_class_progress_gives_it_in_fixed_queries(
    task, course, instructor, author, groupmate, other_group_student, ungrouped_student, paper, time_machine
):
    grouped = AssignmentFactory(
        course=course,
        created_by=instructor,
        opens_at=START,
        due_at=DUE,
        late_until=LATE_UNTIL,
        work_mode=WorkMode.GROUP,
        required_sources=1,
        required_replies=1,
        required_links=1,
        scoring=Scoring.SCALED,
    )
    Extension.objects.create(assignment=grouped, student=author, due_at=LATE_UNTIL)
    Grade.objects.create(assignment=task, student=groupmate, score=Decimal("4"), graded_by=instructor)
    source = Source.objects.filter(course__isnull=True).order_by("key")[0]
    claims = Claim.objects.order_by("key")[:2]
    at(time_machine, START + dt.timedelta(days=1))
    annotation = note(author, course, paragraph(paper, 1))
    challenge(author, course, claims[0], sources=[source])
    link_services.link_propose(
        user=groupmate, course=course, claim=claims[1], event=EventFactory(), relation="dates"
    )
    at(time_machine, DUE + dt.timedelta(hours=1))
    note(groupmate, course, paragraph(paper, 2))
    annotation_services.reply_create(user=other_group_student, annotation=annotation, body="Yes.")
    note(ungrouped_student, course, paragraph(paper, 3))

    def seen(rows) -> list[tuple]:
        return [
            (p.student.username, p.window, p.score, {k: (t.on_time, t.late) for k, t in p.tallies.items()})
            for p in rows
        ]

    def assignments() -> list:
        return list(course.assignments.select_related("course").prefetch_related("sections", "claims"))

    expected = {a.pk: seen(grading.class_progress(a)) for a in (task, grouped)}
    two = assignments()
    with CaptureQueriesContext(connection) as queries_for_two:
        both = grading.course_progress(two)
    assert {pk: seen(rows) for pk, rows in both.items()} == expected
    assert expected[grouped.pk][0][3]["annotations"] == (1, 1)  # the group's work, credited to each

    AssignmentFactory(course=course, created_by=instructor, required_sources=1, required_links=1)
    three = assignments()
    with CaptureQueriesContext(connection) as queries_for_three:
        grading.course_progress(three)
    assert len(queries_for_three.captured_queries) == len(queries_for_two.captured_queries)


def standing_of(p: grading.Progress) -> tuple:
    """What the class table reads of one student's ``Progress``, as a ``Standing`` holds it."""
    grade = p.grade
    return (
        p.student.pk,
        p.student.username,
        p.group.name if p.group else None,
        {kind: (t.required, t.on_time, t.late) for kind, t in p.tallies.items()},
        p.auto_score,
        grade.score if grade else None,
        grade.graded_by.username if grade and grade.graded_by else None,
        grade.graded_at if grade else None,
        p.late,
        p.complete,
        p.score,
    )


def as_progress(s: grading.Standing) -> tuple:
    return (
        s.student_id,
        s.username,
        s.group_name,
        {kind: (t.required, t.on_time, t.late) for kind, t in s.tallies.items()},
        s.auto_score,
        s.override,
        s.graded_by,
        s.graded_at,
        s.late,
        s.complete,
        s.score,
    )


@pytest.mark.parametrize("mode", [WorkMode.INDIVIDUAL, WorkMode.GROUP])
def test_the_class_table_standings_say_what_class_progress_says(
    mode,
    task,
    course,
    author,
    groupmate,
    other_group_student,
    ungrouped_student,
    group_a,
    ta,
    paper,
    time_machine,
):
    task.work_mode = mode
    task.required_replies = 1
    task.scoring = Scoring.SCALED
    task.late_penalty = 10
    task.save()
    Extension.objects.create(assignment=task, student=groupmate, due_at=LATE_UNTIL)
    Grade.objects.create(assignment=task, student=author, score=Decimal("7.5"), graded_by=ta)
    Grade.objects.create(
        assignment=task, student=other_group_student, score=None, feedback="Hm.", graded_by=None
    )
    at(time_machine, START + dt.timedelta(days=1))
    first = note(author, course, paragraph(paper, 1))
    challenge(ungrouped_student, course, Claim.objects.order_by("key")[0])
    at(time_machine, DUE + dt.timedelta(hours=1))
    note(groupmate, course, paragraph(paper, 2))  # on time: the extension
    note(author, course, paragraph(paper, 3))  # late
    annotation_services.reply_create(user=other_group_student, annotation=first, body="Agreed.")
    thread = thread_services.thread_create(user=ungrouped_student, course=course, title="On p-1", body="Why?")
    thread_services.post_create(user=ungrouped_student, thread=thread, body="Because.")
    note(ta, course, paragraph(paper, 4))  # staff work counts for no one

    expected = [standing_of(p) for p in grading.class_progress(task)]
    assert [as_progress(s) for s in grading.class_standings(task)] == expected
    assert [row[1] for row in expected] == ["author", "groupmate", "other_group_student", "ungrouped_student"]
    in_a = [standing_of(p) for p in grading.class_progress(task, group_id=group_a.pk)]
    assert [as_progress(s) for s in grading.class_standings(task, group_id=group_a.pk)] == in_a
    assert [row[1] for row in in_a] == ["author", "groupmate"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="The index is read by PostgreSQL's planner.")
def test_the_class_counts_notes_from_the_counted_index_alone(task, course, author, paper, time_machine):
    task.required_challenges = 0
    task.save()
    at(time_machine, START + dt.timedelta(days=1))
    note(author, course, paragraph(paper, 1))
    counter = grading._Counter(task, {}, grading.window_for(task))
    rows = counter.queries({author.pk: author.pk}, Membership.objects.filter(course=course).values("user_id"))
    [(kind, tally)] = rows
    sql, params = tally.query.sql_with_params()
    plan = plan_with_only("annotation_counted_idx", sql, params)
    assert kind == "annotations"
    assert "Index Only Scan using annotation_counted_idx" in plan, plan
