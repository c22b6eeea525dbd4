"""The generate_scale_data command: synthetic course work, by seed, at small sizes here."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Max, Q
from django.urls import reverse

from annotations.models import (
    Annotation,
    Assignment,
    AuditEntry,
    Challenge,
    Course,
    CourseGroup,
    Document,
    EventProposal,
    Flag,
    Grade,
    Membership,
    ModerationItem,
    Notification,
    Post,
    Source,
    Tag,
    Thread,
)
from annotations.models.annotation import Visibility
from annotations.models.challenges import ProposalStatus, Stance
from annotations.models.courses import Role
from annotations.models.discussion import NotificationKind
from annotations.models.moderated import ModerationState
from annotations.models.moderation import Action, FlagStatus, ItemStatus
from annotations.scale_data import CONTEXT, PASSWORD, Plan, Sink
from annotations.selectors import sources_for_proposal, visible_annotations
from annotations.services import links
from annotations.services.notifications import EVENT_DECIDED

SMALL = {
    "courses": 3,
    "students": 8,
    "annotations": 300,
    "challenges": 60,
    "posts": 120,
    "big_course_students": 10,
    "big_thread_posts": 30,
}


def generate(**options) -> str:
    out = StringIO()
    call_command("generate_scale_data", **{**SMALL, **options}, stdout=out, stderr=StringIO(), verbosity=0)
    return out.getvalue()


def counts(seed: int = 1) -> dict[str, int]:
    courses = Course.objects.filter(title__startswith=f"Scale {seed} · course ")
    return {
        "users": get_user_model().objects.filter(username__startswith=f"s{seed}-c").count(),
        "courses": courses.count(),
        "groups": CourseGroup.objects.filter(course__in=courses).count(),
        "memberships": Membership.objects.filter(course__in=courses).count(),
        "course sources": Source.objects.filter(course__in=courses).count(),
        "annotations": Annotation.objects.filter(course__in=courses).count(),
        "challenges": Challenge.objects.filter(course__in=courses).count(),
        "posts": Post.objects.filter(thread__course__in=courses).count(),
        "event proposals": EventProposal.objects.filter(course__in=courses).count(),
        "assignments": Assignment.objects.filter(course__in=courses).count(),
        "grades": Grade.objects.filter(assignment__course__in=courses).count(),
    }


@pytest.fixture
def generated(paper) -> str:
    return generate()


def test_it_creates_the_rows_the_options_ask_for(generated):
    assert counts() == Plan(seed=1, **SMALL).expected()
    assert counts() == {
        "users": 3 * 2 + 10 + 2 * 8,
        "courses": 3,
        "groups": 15,
        "memberships": 32,
        "course sources": 60,
        "annotations": 300,
        "challenges": 60,
        "posts": 120,
        "event proposals": 3 * 2,
        "assignments": 6,
        "grades": 20,
    }
    assert "annotations" in generated
    assert re.search(r"^  event proposals +6$", generated, re.MULTILINE)
    assert "Elapsed" in generated


def test_course_one_is_the_big_course_with_the_big_thread(generated):
    big = Course.objects.get(title="Scale 1 · course 001")
    assert big.memberships.filter(role="student").count() == 10
    assert big.memberships.filter(role="instructor").get().user.username == "s1-c001-instructor"
    assert big.memberships.filter(role="ta").get().user.username == "s1-c001-ta"
    assert Thread.objects.filter(course=big).annotate(n=Count("posts")).filter(n=30).exists()
    assert set(Grade.objects.filter(assignment__course=big).values_list("student__username", flat=True)) == {
        f"s1-c001-u{n:04d}" for n in range(1, 11)
    }


def test_every_user_has_the_shared_password(generated):
    user = get_user_model().objects.get(username="s1-c002-u0003")
    assert user.check_password(PASSWORD)
    assert (
        len(
            set(
                get_user_model()
                .objects.filter(username__startswith="s1-c")
                .values_list("password", flat=True)
            )
        )
        == 1
    )
    assert get_user_model().objects.get(username="s1-c003-ta").check_password(PASSWORD)


def test_every_annotation_quotes_its_paragraph_exactly(generated):
    annotations = Annotation.objects.filter(course__title__startswith="Scale 1 ").select_related(
        "paragraph", "claim"
    )
    for annotation in annotations:
        text = annotation.paragraph.text
        assert annotation.exact == text[annotation.start : annotation.end] != ""
        assert annotation.prefix == text[max(0, annotation.start - CONTEXT) : annotation.start]
        assert annotation.suffix == text[annotation.end : annotation.end + CONTEXT]
        assert annotation.paragraph_anchor == annotation.paragraph.anchor
        if annotation.claim is not None:
            assert annotation.claim.paragraph_id == annotation.paragraph_id
            assert annotation.claim.start <= annotation.start < annotation.end <= annotation.claim.end
    assert annotations.exclude(claim=None).exists()


def test_group_work_carries_the_authors_group(generated):
    group_work = Annotation.objects.filter(visibility=Visibility.GROUP, course__title__startswith="Scale 1 ")
    assert group_work.exists()
    assert not group_work.exclude(
        group_id__in=Membership.objects.filter(course=F("course"), user=F("user")).values("group")
    ).exists()
    for annotation in group_work:
        assert (
            Membership.objects.get(course=annotation.course, user=annotation.author).group_id
            == annotation.group_id
        )
    assert not Annotation.objects.exclude(visibility=Visibility.GROUP).exclude(group=None).exists()


def test_the_rows_satisfy_the_databases_constraints(generated):
    # Foreign keys are checked at commit, which a test never reaches: check them now.
    connection.check_constraints()
    work = Challenge.objects.filter(course__title__startswith="Scale 1 ")
    assert not work.filter(stance__in=[Stance.DISPUTES, Stance.QUALIFIES], citations=None).exists()
    assert not work.filter(status="open").exclude(resolved_at=None).exists()
    for thread in Thread.objects.filter(course__title__startswith="Scale 1 "):
        published = thread.posts.filter(moderation=ModerationState.PUBLISHED)
        assert thread.last_post_at == published.aggregate(last=Max("created_at"))["last"]
        assert not thread.posts.exclude(parent=None).exclude(parent__thread=thread).exists()


def test_the_review_queue_matches_the_state_of_the_work(generated):
    items = ModerationItem.objects.filter(course__title__startswith="Scale 1 ")
    assert items.exists()
    for item in items:
        target = item.target
        assert item.author_id == target.author_id
        open_flags = item.flags.filter(status=FlagStatus.OPEN).count()
        assert item.flag_count == open_flags
        if target.moderation == ModerationState.HIDDEN:
            assert (item.status, item.last_action) == (ItemStatus.CLOSED, Action.HIDE)
            assert target.moderation_reason
        elif target.moderation == ModerationState.PENDING:
            assert item.status == ItemStatus.OPEN
        else:
            assert item.status == (ItemStatus.OPEN if open_flags else ItemStatus.CLOSED)
    assert not Flag.objects.filter(item__in=items, flagger=F("item__author")).exists()
    hidden = Annotation.objects.filter(
        moderation=ModerationState.HIDDEN, course__title__startswith="Scale 1 "
    )
    assert hidden.count() == items.filter(annotation__in=hidden).count()


def test_a_big_course_has_an_event_proposal_per_ten_students(paper):
    generate(courses=2, big_course_students=45)
    proposed = dict(
        EventProposal.objects.filter(course__title__startswith="Scale 1 ")
        .values_list("course__title")
        .annotate(n=Count("pk"))
    )
    assert proposed == {"Scale 1 · course 001": 4, "Scale 1 · course 002": 2}


@pytest.fixture
def proposing(paper) -> str:
    """Courses big enough to propose events in every status (6, 3 and 3 proposals)."""
    return generate(students=30, big_course_students=60)


def _event_proposals() -> list[EventProposal]:
    return list(
        EventProposal.objects.filter(course__title__startswith="Scale 1 ")
        .select_related("course", "proposer", "source", "decided_by")
        .order_by("pk")
    )


def test_event_proposals_come_from_students_citing_what_they_may_cite(proposing):
    proposals = _event_proposals()
    assert {p.course.title for p in proposals} == {f"Scale 1 · course {n:03d}" for n in (1, 2, 3)}
    for proposal in proposals:
        assert Membership.objects.filter(
            course=proposal.course, user=proposal.proposer, role=Role.STUDENT
        ).exists()
        assert sources_for_proposal(proposal.proposer, proposal.course).filter(pk=proposal.source_id).exists()
        assert proposal.title
        assert 1996 <= proposal.date.year <= 2024
        if proposal.end_date is None:
            assert proposal.end_precision == ""
        else:
            assert proposal.end_date > proposal.date
        # As the service stores a partial date: the first day of its month or year.
        if proposal.precision == "month":
            assert proposal.date.day == 1
        if proposal.precision == "year":
            assert (proposal.date.month, proposal.date.day) == (1, 1)


def test_decided_event_proposals_are_decided_by_staff_who_tell_the_proposer(proposing):
    proposals = _event_proposals()
    assert {p.status for p in proposals} == set(ProposalStatus.values)
    for proposal in proposals:
        if proposal.status == ProposalStatus.PROPOSED:
            assert (proposal.decided_by, proposal.decided_at, proposal.feedback) == (None, None, "")
            continue
        assert Membership.objects.filter(
            course=proposal.course, user=proposal.decided_by, role__in=[Role.TA, Role.INSTRUCTOR]
        ).exists()
        assert proposal.decided_at > proposal.created_at
        # The synthetic data adds nothing to the timeline every course shares.
        assert proposal.event is None
        news = Notification.objects.get(
            recipient=proposal.proposer, created_at=proposal.decided_at, params={"event": proposal.title}
        )
        assert (news.kind, news.actor, news.course) == (
            NotificationKind.LINK_DECIDED,
            proposal.decided_by,
            proposal.course,
        )
        assert news.message == EVENT_DECIDED[proposal.status]
        assert news.text == EVENT_DECIDED[proposal.status] % {"event": proposal.title}
        assert news.url == reverse("links:review", kwargs={"pk": proposal.course_id})


def test_a_generated_decision_notifies_as_the_service_does(proposing):
    made = Notification.objects.filter(
        course__title__startswith="Scale 1 ",
        course__event_proposals__status=ProposalStatus.PROPOSED,
        message=EVENT_DECIDED[ProposalStatus.ACCEPTED],
    ).first()
    proposal = EventProposal.objects.filter(course=made.course, status=ProposalStatus.PROPOSED).first()
    decider = Membership.objects.get(course=made.course, role=Role.TA).user
    links.event_decide(user=decider, proposal=proposal, accept=True)
    real = Notification.objects.get(
        recipient=proposal.proposer, actor=decider, course=proposal.course, params={"event": proposal.title}
    )
    fields = ("kind", "course", "message", "url")
    assert [getattr(real, name) for name in fields] == [getattr(made, name) for name in fields]


def test_a_student_of_course_two_sees_none_of_course_ones_work(generated):
    student = get_user_model().objects.get(username="s1-c002-u0001")
    visible = visible_annotations(student)
    assert not visible.filter(course__title="Scale 1 · course 001").exists()
    assert (
        visible.filter(course__title="Scale 1 · course 002", visibility=Visibility.COURSE)
        .exclude(author=student)
        .exists()
    )
    assert not visible.filter(~Q(author=student), visibility=Visibility.PRIVATE).exists()


def test_running_it_again_with_the_same_seed_writes_nothing(generated):
    before = counts()
    ids = set(Annotation.objects.values_list("pk", flat=True))
    out = generate()
    assert "already there" in out
    assert counts() == before
    assert set(Annotation.objects.values_list("pk", flat=True)) == ids


def _content() -> list[tuple]:
    return list(
        Annotation.objects.filter(course__title__startswith="Scale 1 ")
        .order_by("pk")
        .values_list(
            "course__title", "author__username", "paragraph_anchor", "start", "end", "body", "visibility"
        )
    )


def test_replace_regenerates_the_same_counts(generated):
    before = counts()
    content = _content()
    old_ids = set(
        Annotation.objects.filter(course__title__startswith="Scale 1 ").values_list("pk", flat=True)
    )
    out = generate(replace=True)
    assert "Deleted seed 1" in out
    assert counts() == before
    # Nothing of the first generation is left beside the second, which is the same work.
    assert Annotation.objects.count() == len(old_ids)
    assert _content() == content
    connection.check_constraints()


def _proposed_events() -> list[tuple]:
    return [
        (p.course.title, p.proposer.username, p.title, p.date, p.source.key, p.status, p.decided_at)
        for p in _event_proposals()
    ]


def test_replace_regenerates_the_same_event_proposals_and_only_those(generated):
    before = _proposed_events()
    old_ids = {p.pk for p in _event_proposals()}
    generate(replace=True)
    assert _proposed_events() == before
    assert EventProposal.objects.count() == len(old_ids)
    assert not EventProposal.objects.filter(pk__in=old_ids).exists()


def test_replace_refuses_to_leave_rows_pointing_at_the_deleted_seed(generated):
    # The audit log is append-only: an entry about a course of the seed keeps the seed.
    AuditEntry.objects.create(
        actor=None,
        actor_name="",
        course=Course.objects.get(title="Scale 1 · course 002"),
        action="course.note",
        target_type="course",
        target_id="2",
        target_label="course 002",
    )
    with pytest.raises(IntegrityError):
        generate(replace=True)
    assert counts() == Plan(seed=1, **SMALL).expected()


def test_a_dry_run_writes_nothing(paper):
    out = generate(dry_run=True)
    assert "Would create seed 1" in out
    assert "annotations" in out
    assert re.search(r"^  event proposals +6$", out, re.MULTILINE)
    assert counts() == dict.fromkeys(counts(), 0)


def test_it_refuses_without_the_paper(paper):
    Document.objects.filter(pk=paper.pk).update(slug="elsewhere")
    with pytest.raises(CommandError, match="load_reading"):
        generate()
    assert counts()["users"] == 0


def test_two_seeds_live_side_by_side(generated):
    generate(seed=2, annotations=200)
    assert counts(1)["annotations"] == 300
    assert counts(2)["annotations"] == 200
    assert counts(2)["users"] == counts(1)["users"]
    generate(seed=2, annotations=100, replace=True)
    assert (counts(1)["annotations"], counts(2)["annotations"]) == (300, 100)
    assert counts(1) == Plan(seed=1, **SMALL).expected()
    connection.check_constraints()


def _indexes(table: str) -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {name for name, details in constraints.items() if details["index"]}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the indexes are rebuilt on PostgreSQL only")
def test_indexes_dropped_for_a_large_load_are_all_back(paper, monkeypatch):
    before = {table: _indexes(table) for table in ("annotations_annotation", "annotations_post")}
    monkeypatch.setattr(Sink, "REBUILD_AT", 50)
    generate()
    assert {table: _indexes(table) for table in before} == before
    assert "annotation_created_idx" in before["annotations_annotation"]
    assert Annotation.objects.filter(course__title__startswith="Scale 1 ").count() == 300


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the bulk load is PostgreSQL's")
def test_a_dangling_reference_in_a_bulk_load_is_refused(paper):
    sink = Sink(progress=False)
    with transaction.atomic():
        if not sink.begin_bulk_load([Tag, Annotation.tags.through]):
            pytest.skip("the database user cannot defer the checks")
        tag = Tag.objects.create(name="dangling")
        sink.write(
            "annotation tags", Annotation.tags.through, ["annotation", "tag"], [(2_000_000_000, tag.pk)]
        )
        with pytest.raises(IntegrityError, match="points at nothing"):
            sink.end_bulk_load()
        transaction.set_rollback(True)
