"""Moderation in the admin: a course's TAs and instructors come in without ``is_staff`` and
see only their courses' work; the queue's acts go through the moderation service; the
audit log is read, filtered and exported, never changed."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from annotations.models import Annotation, Challenge, Claim, Course, Document, Post, Source
from annotations.models.annotation import Visibility
from annotations.models.assignments import Assignment, Grade
from annotations.models.moderated import ModerationState
from annotations.models.moderation import AuditEntry, Flag, ItemStatus, ModerationItem
from annotations.services import annotations as annotation_services
from annotations.services import assignments as assignment_services
from annotations.services import challenges as challenge_services
from annotations.services import moderation
from annotations.services import sources as source_services
from annotations.services import threads as thread_services
from tests.factories import AssignmentFactory, MembershipFactory, UserFactory
from tests.helpers import queries_for
from timeline.models import Event

pytestmark = pytest.mark.django_db

QUEUE = reverse("admin:annotations_moderationitem_changelist")
AUDIT = reverse("admin:annotations_auditentry_changelist")
EXPORT = reverse("admin:annotations_auditentry_export")


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change(model, pk) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk])


def write_and_flag(course: Course, writer, flagger, paper, word: str) -> list:
    """One piece of each kind of ``writer``'s work in ``course``, each flagged by ``flagger``."""
    thread = thread_services.thread_create(user=flagger, course=course, title=f"On {word}", body="Opening.")
    claim = Claim.objects.filter(paragraph__document=paper).order_by("paragraph__order", "start").first()
    source, _ = source_services.source_add(
        user=writer, course=course, kind="article", authors=["Doe, Jane"], year=2001, title=f"Source {word}"
    )
    work = [
        annotation_services.annotation_create(
            user=writer,
            course=course,
            paragraph=paper.paragraphs.get(order=1),
            start=0,
            end=10,
            body=f"Note {word}",
            visibility=Visibility.COURSE,
        ),
        challenge_services.challenge_create(
            user=writer, course=course, claim=claim, stance="needs_context", argument=f"Argument {word}"
        ),
        thread_services.post_create(user=writer, thread=thread, body=f"Post {word}"),
        source,
    ]
    for target in work:
        moderation.flag_create(user=flagger, target=target, reason="spam")
    return work


@pytest.fixture
def both_courses(course, other_course, author, groupmate, other_course_student, paper, ta, other_instructor):
    """Flagged work, a hide (so an audit entry) and a grade in ``course`` and in ``other_course``."""
    other_flagger = MembershipFactory(course=other_course, user=UserFactory(username="other_flagger")).user
    mine = write_and_flag(course, author, groupmate, paper, "alpha")
    theirs = write_and_flag(other_course, other_course_student, other_flagger, paper, "omega")
    moderation.hide(user=ta, target=mine[0], reason="Mine: off-topic.")
    moderation.hide(user=other_instructor, target=theirs[0], reason="Theirs: off-topic.")
    for who, student, in_course in (
        (ta, author, course),
        (other_instructor, other_course_student, other_course),
    ):
        assignment = AssignmentFactory(course=in_course, title=f"Task of {in_course.title}")
        assignment_services.grade_set(user=who, assignment=assignment, student=student, score="5")
    return mine, theirs


def course_of_row(obj) -> int | None:
    for path in ("course_id", "item.course_id", "thread.course_id", "assignment.course_id"):
        value = obj
        for step in path.split("."):
            value = getattr(value, step, None)
        if value is not None:
            return value
    return None


SCOPED = [ModerationItem, Flag, Annotation, Post, Challenge, Source, AuditEntry, Assignment, Grade]


def test_an_instructor_without_is_staff_gets_in_and_the_index_lists_only_course_work(
    client, instructor, both_courses
):
    assert not instructor.is_staff
    assert not instructor.is_superuser
    client.force_login(instructor)

    index = client.get(reverse("admin:index"))

    assert index.status_code == 200
    shown = {model["object_name"] for app in index.context["app_list"] for model in app["models"]}
    assert {model.__name__ for model in SCOPED} <= shown
    assert not shown & {"Claim", "Document", "Event", "Actor", "Course", "Membership", "Erratum", "User"}


@pytest.mark.parametrize("who", ["author", "reader"])
def test_students_and_outsiders_are_sent_to_the_login(request, client, both_courses, who):
    client.force_login(request.getfixturevalue(who))

    response = client.get(QUEUE)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("model", SCOPED, ids=lambda m: m.__name__)
@pytest.mark.parametrize("who", ["instructor", "ta"])
def test_course_staff_see_only_their_courses_rows(request, client, course, both_courses, model, who):
    client.force_login(request.getfixturevalue(who))

    rows = list(client.get(changelist(model)).context["cl"].result_list)

    assert rows
    assert {course_of_row(row) for row in rows} == {course.pk}


@pytest.mark.parametrize("model", SCOPED, ids=lambda m: m.__name__)
def test_site_staff_see_every_courses_rows(client, curator, course, other_course, both_courses, model):
    client.force_login(curator)

    rows = list(client.get(changelist(model)).context["cl"].result_list)

    assert {course.pk, other_course.pk} <= {course_of_row(row) for row in rows}


@pytest.mark.parametrize("model", [Claim, Event, Document, Course], ids=lambda m: m.__name__)
def test_the_records_and_courses_stay_with_site_staff(client, instructor, paper, model):
    client.force_login(instructor)
    obj = model.objects.first()

    assert client.get(changelist(model)).status_code == 403
    assert client.get(change(model, obj.pk)).status_code == 403


def test_another_courses_item_is_as_if_it_did_not_exist(client, instructor, both_courses):
    _mine, theirs = both_courses
    client.force_login(instructor)
    item = ModerationItem.objects.get(annotation=theirs[0])

    response = client.get(change(ModerationItem, item.pk), follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:index")
    assert "doesn’t exist" in response.content.decode()
    assert "Note omega" not in response.content.decode()


def test_an_item_page_shows_the_work_and_its_flags_read_only(client, ta, both_courses):
    mine, _theirs = both_courses
    client.force_login(ta)
    item = ModerationItem.objects.get(challenge=mine[1])

    page = client.get(change(ModerationItem, item.pk))

    text = page.content.decode()
    assert "Argument alpha" in text
    assert "groupmate" in text
    assert "spam" in text
    assert not page.context["adminform"].form.fields  # nothing to edit
    assert client.post(change(ModerationItem, item.pk), {}).status_code == 403


def test_the_moderated_models_show_their_state_and_keep_tombstones(client, ta, author, both_courses):
    mine, _theirs = both_courses
    annotation_services.annotation_delete(user=author, annotation=Annotation.objects.get(pk=mine[0].pk))
    client.force_login(ta)

    listing = client.get(changelist(Annotation), {"moderation__exact": "hidden"})
    page = client.get(change(Annotation, mine[0].pk))

    assert [row.pk for row in listing.context["cl"].result_list] == [mine[0].pk]
    assert "Mine: off-topic." in page.content.decode()
    assert {"moderation", "moderation_reason"} <= set(page.context["adminform"].readonly_fields)
    assert not page.context["adminform"].form.fields


def hide_via_admin(client, items, reason: str, versions: dict[int, int] | None = None):
    data = {
        "action": "hide_items",
        "confirmed": "yes",
        "reason": reason,
        ACTION_CHECKBOX_NAME: [i.pk for i in items],
    }
    for item in items:
        data[f"version_{item.pk}"] = (versions or {}).get(item.pk, item.version)
    return client.post(QUEUE, data, follow=True)


def test_hiding_asks_for_a_reason_then_hides_each_item_and_writes_the_audit(client, instructor, both_courses):
    mine, _theirs = both_courses
    client.force_login(instructor)
    items = list(
        ModerationItem.objects.filter(course=mine[1].course, challenge__isnull=False)
        | ModerationItem.objects.filter(post=mine[2])
    )

    confirmation = client.post(QUEUE, {"action": "hide_items", ACTION_CHECKBOX_NAME: [i.pk for i in items]})
    without_reason = hide_via_admin(client, items, "  ")
    done = hide_via_admin(client, items, "Spam links: see the course rules.")

    assert "Why is it hidden?" in confirmation.content.decode()
    assert "Argument alpha" in confirmation.content.decode()
    assert "This field is required" in without_reason.content.decode()
    assert Challenge.objects.get(pk=mine[1].pk).moderation == ModerationState.HIDDEN
    assert Post.objects.get(pk=mine[2].pk).moderation_reason == "Spam links: see the course rules."
    entries = AuditEntry.objects.filter(action="moderation.hide", actor=instructor)
    assert sorted(entries.values_list("target_type", flat=True)) == ["challenge", "post"]
    assert set(entries.values_list("reason", flat=True)) == {"Spam links: see the course rules."}
    assert [str(m) for m in done.context["messages"]].count(
        f"challenge {mine[1].pk} by author: done (hide)."
    ) == 1


def test_a_stale_version_is_reported_and_not_overwritten(client, instructor, ta, both_courses):
    mine, _theirs = both_courses
    client.force_login(instructor)
    item = ModerationItem.objects.get(source=mine[3])
    seen = item.version
    moderation.moderate(user=ta, item=item, action="dismiss", expected_version=seen)

    response = hide_via_admin(client, [item], "Spam.", versions={item.pk: seen})

    assert Source.objects.get(pk=mine[3].pk).moderation == ModerationState.PUBLISHED
    assert not AuditEntry.objects.filter(action="moderation.hide", target_type="source").exists()
    [message] = [str(m) for m in response.context["messages"]]
    assert str(moderation.CONFLICT) in message
    assert f"version {seen + 1}" in message


def test_the_other_acts_run_through_the_service_and_report_each_item(client, ta, both_courses):
    mine, _theirs = both_courses
    client.force_login(ta)
    hidden = ModerationItem.objects.get(annotation=mine[0])
    flagged = ModerationItem.objects.get(post=mine[2])

    restored = client.post(
        QUEUE, {"action": "restore_items", ACTION_CHECKBOX_NAME: [hidden.pk, flagged.pk]}, follow=True
    )
    dismissed = client.post(
        QUEUE, {"action": "dismiss_flags", ACTION_CHECKBOX_NAME: [flagged.pk]}, follow=True
    )

    assert Annotation.objects.get(pk=mine[0].pk).moderation == ModerationState.PUBLISHED
    messages = [str(m) for m in restored.context["messages"]]
    assert any("done (restore)" in m for m in messages)
    assert any("Only hidden work can be restored." in m for m in messages)
    flagged.refresh_from_db()
    assert flagged.status == ItemStatus.CLOSED
    assert flagged.flag_count == 0
    assert Flag.objects.get(item=flagged).status == "dismissed"
    assert any("done (dismiss the flags)" in str(m) for m in dismissed.context["messages"])


def test_the_queue_filters_by_flag_reason_and_state_most_flagged_first(
    client, ta, course, both_courses, ungrouped_student
):
    mine, _theirs = both_courses
    moderation.flag_create(user=ungrouped_student, target=mine[3], reason="harassment")
    client.force_login(ta)

    listing = client.get(QUEUE).context["cl"].result_list
    harassment = client.get(QUEUE, {"flag_reason": "harassment"}).context["cl"].result_list
    hidden = client.get(QUEUE, {"state": "hidden"}).context["cl"].result_list

    assert listing[0].source_id == mine[3].pk  # two flags
    assert [item.source_id for item in harassment] == [mine[3].pk]
    assert [item.annotation_id for item in hidden] == [mine[0].pk]


def test_another_courses_items_cannot_be_acted_on_by_forging_their_ids(client, instructor, both_courses):
    _mine, theirs = both_courses
    client.force_login(instructor)
    item = ModerationItem.objects.get(post=theirs[2])

    hide_via_admin(client, [item], "Not yours.")

    assert Post.objects.get(pk=theirs[2].pk).moderation == ModerationState.PUBLISHED


def test_the_audit_log_cannot_be_added_changed_or_deleted(client, curator, both_courses):
    client.force_login(curator)
    entry = AuditEntry.objects.first()
    before = list(AuditEntry.objects.values())

    add = client.post(reverse("admin:annotations_auditentry_add"), {"action": "forged", "actor_name": "x"})
    edit = client.post(change(AuditEntry, entry.pk), {"reason": "rewritten"})
    delete = client.post(reverse("admin:annotations_auditentry_delete", args=[entry.pk]), {"post": "yes"})
    bulk = client.post(
        AUDIT, {"action": "delete_selected", ACTION_CHECKBOX_NAME: [entry.pk], "post": "yes"}, follow=True
    )
    view = client.get(change(AuditEntry, entry.pk))

    assert (add.status_code, edit.status_code, delete.status_code) == (403, 403, 403)
    assert "No action selected" in bulk.content.decode()  # there is no delete action to choose
    assert list(AuditEntry.objects.values()) == before
    assert view.status_code == 200
    assert entry.reason in view.content.decode()


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_the_audit_export_has_the_filtered_rows_and_defuses_formulas(
    client, instructor, ta, course, both_courses
):
    mine, _theirs = both_courses
    moderation.hide(user=ta, target=mine[3], reason='=HYPERLINK("http://evil.example","click")')
    client.force_login(instructor)

    page = client.get(AUDIT, {"action": "moderation.hide"})
    everything = read_csv(client.get(EXPORT))
    hides = read_csv(client.get(EXPORT, {"action": "moderation.hide"}))

    assert f"{EXPORT}?action=moderation.hide" in page.content.decode()
    assert everything[0] == [
        "at", "actor", "course", "action", "target type", "target id", "target", "reason", "before", "after",
    ]  # fmt: skip
    assert len(everything) - 1 == AuditEntry.objects.filter(course=course).count()
    assert {row[2] for row in everything[1:]} == {course.title}
    assert {row[3] for row in hides[1:]} == {"moderation.hide"}
    assert '\'=HYPERLINK("http://evil.example","click")' in {row[7] for row in hides[1:]}
    assert any('"moderation": "hidden"' in row[9] for row in hides[1:])


def test_the_audit_export_action_downloads_the_selected_entries(client, curator, both_courses):
    client.force_login(curator)
    entry = AuditEntry.objects.filter(action="moderation.hide").first()

    response = client.post(AUDIT, {"action": "export_csv", ACTION_CHECKBOX_NAME: [entry.pk]})

    rows = read_csv(response)
    assert response["Content-Disposition"].startswith("attachment;")
    assert [row[7] for row in rows[1:]] == [entry.reason]


def test_students_cannot_export_the_audit_log(client, author, both_courses):
    client.force_login(author)

    response = client.get(EXPORT)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_an_instructor_sets_their_courses_assignments_a_ta_only_reads_them(
    client, instructor, ta, course, other_course, both_courses
):
    client.force_login(ta)
    assert client.get(reverse("admin:annotations_assignment_add")).status_code == 403
    client.force_login(instructor)

    form = client.get(reverse("admin:annotations_assignment_add")).context["adminform"].form

    assert list(form.fields["course"].queryset) == [course]


@pytest.mark.parametrize("url", [QUEUE, AUDIT])
def test_the_queue_and_the_audit_log_run_a_fixed_number_of_queries(
    client, instructor, course, groupmate, paper, both_courses, url
):
    client.force_login(instructor)
    before = queries_for(client, url)
    extra = MembershipFactory(course=course, user=UserFactory(username="writer2")).user
    for work in write_and_flag(course, extra, groupmate, paper, "more"):
        moderation.hide(user=instructor, target=work, reason="Noise.")

    assert queries_for(client, url) == before


def test_a_ta_grades_in_their_course_and_never_sees_anothers_assignments(
    client, ta, course, other_course, both_courses
):
    client.force_login(ta)
    mine = Grade.objects.get(assignment__course=course)
    theirs = Grade.objects.get(assignment__course=other_course)

    listing = client.get(changelist(Grade)).content.decode()
    client.post(change(Grade, mine.pk), {"score": "8", "feedback": "Good.", "seen_version": mine.version})
    refused = client.post(
        change(Grade, theirs.pk), {"score": "0", "feedback": "", "seen_version": theirs.version}
    )

    assert f"Task of {course.title}" in listing
    assert f"Task of {other_course.title}" not in listing  # not even in the filters
    assert Grade.objects.get(pk=mine.pk).score == 8
    assert refused.status_code == 302
    assert Grade.objects.get(pk=theirs.pk).score == 5
    assert AuditEntry.objects.filter(action="grading.grade", actor=ta, target_id=str(mine.pk)).exists()


def test_work_awaiting_approval_is_approved_from_the_queue(client, instructor, author, course, paper):
    moderation.course_set_premoderation(user=instructor, course=course, enabled=True)
    note = annotation_services.annotation_create(
        user=author,
        course=course,
        paragraph=paper.paragraphs.get(order=1),
        start=0,
        end=10,
        body="Waiting note",
        visibility=Visibility.COURSE,
    )
    item = ModerationItem.objects.get(annotation=note)
    client.force_login(instructor)

    waiting = client.get(QUEUE, {"state": "pending"}).context["cl"].result_list
    response = client.post(QUEUE, {"action": "approve_items", ACTION_CHECKBOX_NAME: [item.pk]}, follow=True)

    assert [row.pk for row in waiting] == [item.pk]
    assert Annotation.objects.get(pk=note.pk).moderation == ModerationState.PUBLISHED
    assert any("done (approve)" in str(m) for m in response.context["messages"])
    assert AuditEntry.objects.filter(action="moderation.approve", target_id=str(note.pk)).exists()
