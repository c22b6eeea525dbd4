"""Backups: a course or the whole site goes to one file and comes back row for row."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.utils import timezone

from annotations.models import (
    Annotation,
    Assignment,
    AuditEntry,
    Claim,
    Course,
    Post,
    Source,
    Tag,
    ThreadVisit,
)
from annotations.models.challenges import ChallengeStatus, Stance
from annotations.models.moderation import FlagReason
from annotations.services import annotations as annotation_services
from annotations.services import assignments as assignment_services
from annotations.services import challenges as challenge_services
from annotations.services import links as link_services
from annotations.services import moderation as moderation_services
from annotations.services import sources as source_services
from annotations.services import threads as thread_services
from annotations.services.backup import (
    REFERENCE_KEYS,
    BackupError,
    backup_read,
    backup_restore,
    backup_write,
    course_querysets,
    scope_snapshot,
    site_querysets,
)
from tests.factories import AssignmentFactory, MembershipFactory, UserFactory
from timeline.models import Event

# Rows that belong to neither one course nor the reading: the site backup carries them.
SITE_ONLY = {
    "annotations.notificationpreference",
    "annotations.languagepreference",
    "annotations.claimeventlink",
}


@pytest.fixture
def leaver(course, group_b):
    """A student whose account exists only because of this course (so a restore recreates it)."""
    user = UserFactory(username="leaver", first_name="Lea", email="lea@example.org")
    MembershipFactory(course=course, user=user, group=group_b)
    return user


@pytest.fixture
def busy_course(course, author, groupmate, leaver, ta, instructor, curator, group_a, paper):
    """The course with one of every kind of row, made through the services."""
    paragraph = paper.paragraphs.order_by("order").first()
    claim = Claim.objects.filter(paragraph__document=paper).order_by("pk").first()
    reading_source = Source.objects.filter(course__isnull=True).order_by("pk").first()
    event = Event.objects.order_by("pk").first()
    note = annotation_services.annotation_create(
        user=author,
        course=course,
        paragraph=paragraph,
        start=0,
        end=12,
        tags=["evidence", "dates"],
        body="A *group* note.",
        visibility=Annotation.Visibility.GROUP,
    )
    annotation_services.reply_create(user=groupmate, annotation=note, body="I agree.")
    course_source, _created = source_services.source_add(
        user=author, course=course, kind="web", title="A course source", url="https://example.org/a"
    )
    challenge = challenge_services.challenge_create(
        user=leaver,
        course=course,
        claim=claim,
        stance=Stance.DISPUTES,
        argument="The date is wrong.",
        citations=[{"source": reading_source, "page": "12"}, {"source": course_source, "quote": "x"}],
    )
    challenge_services.challenge_respond(user=author, challenge=challenge, body="Which date?")
    challenge = challenge_services.challenge_resolve(
        user=ta, challenge=challenge, status=ChallengeStatus.UPHELD, feedback="Right.", expected_version=1
    )
    challenge_services.erratum_confirm(
        user=curator, claim=claim, text="The year is 2001.", challenge=challenge
    )
    link_services.link_propose(user=author, course=course, claim=claim, event=event, relation="describes")
    link_services.event_propose(
        user=leaver, course=course, title="A meeting", date="2003-05-02", type="summit", source=course_source
    )
    thread = thread_services.thread_create(
        user=author, course=course, title="On the claim", body="First", claim=claim
    )
    first = thread.posts.get()
    reply = thread_services.post_create(user=leaver, thread=thread, body="A reply", parent=first)
    thread_services.post_edit(user=leaver, post=reply, body="A reply, edited")
    thread_services.reaction_toggle(user=author, post=reply)
    thread_services.reaction_toggle(user=groupmate, annotation=note)
    ThreadVisit.objects.create(user=author, thread=thread, last_read_at=timezone.now())
    moderation_services.flag_create(user=author, target=reply, reason=FlagReason.SPAM)
    moderation_services.hide(user=ta, target=reply, reason="Off topic.")
    assignment = AssignmentFactory(course=course, created_by=instructor)
    assignment.claims.add(claim)
    assignment.sections.add(paragraph.section)
    assignment_services.extension_grant(
        user=instructor,
        assignment=assignment,
        student=leaver,
        due_at=assignment.due_at + dt.timedelta(days=3),
        reason="Ill",
    )
    assignment_services.grade_set(
        user=instructor, assignment=assignment, student=leaver, score=Decimal("7.25"), feedback="Good."
    )
    assignment_services.grades_release(user=instructor, assignment=assignment)
    return course


def _rows(course_pk: int | None = None) -> dict[str, list[dict]]:
    """Every row of the scope as the database holds it, compared independently of the backup's hashes."""
    querysets = course_querysets(course_pk) if course_pk else site_querysets()
    result = {}
    for qs in querysets:
        m2m = [f.name for f in qs.model._meta.many_to_many]
        rows = []
        for obj in qs.order_by("pk").prefetch_related(*m2m):
            values = {f.attname: getattr(obj, f.attname) for f in qs.model._meta.concrete_fields}
            for name in m2m:
                values[name] = sorted(related.pk for related in getattr(obj, name).all())
            rows.append(values)
        result[qs.model._meta.label_lower] = rows
    return result


def _raw_delete(querysets: list[models.QuerySet]) -> None:
    """Remove the rows (and their many-to-many rows) as a wiped database would lack them,
    bypassing the audit log's refusal, which is the point of the log, not of this test."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
    for qs in reversed(querysets):
        pks = list(qs.order_by().values_list("pk", flat=True))
        for f in qs.model._meta.many_to_many:
            through = f.remote_field.through
            through.objects.filter(**{f"{f.m2m_field_name()}__in": pks})._raw_delete(connection.alias)
        qs.model._base_manager.filter(pk__in=pks)._raw_delete(connection.alias)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def _backup(**kwargs) -> io.BytesIO:
    stream = io.BytesIO()
    backup_write(stream=stream, **kwargs)
    stream.seek(0)
    return stream


def test_a_course_comes_back_row_for_row_after_its_rows_are_wiped(busy_course, leaver):
    before_rows = _rows(busy_course.pk)
    before = scope_snapshot(scope="course", course_pk=busy_course.pk)
    stream = _backup(scope="course", course=busy_course)
    assert all(before_rows[label] for label in before_rows), "the fixture makes a row of every kind"

    _raw_delete([*course_querysets(busy_course.pk), get_user_model().objects.filter(pk=leaver.pk)])
    assert not Course.objects.filter(pk=busy_course.pk).exists()
    report = backup_restore(stream=stream)

    assert _rows(busy_course.pk) == before_rows
    assert scope_snapshot(scope="course", course_pk=busy_course.pk) == before
    restored = get_user_model().objects.get(pk=leaver.pk)
    assert (restored.username, restored.email, restored.password) == ("leaver", leaver.email, leaver.password)
    assert report.counts["auth.user"] == 1  # the others were still here and are kept as they are
    assert report.counts["annotations.auditentry"] == len(before_rows["annotations.auditentry"])


def test_a_restored_course_keeps_working_with_new_rows(busy_course, author, leaver):
    stream = _backup(scope="course", course=busy_course)
    _raw_delete(course_querysets(busy_course.pk))
    backup_restore(stream=stream)
    thread = busy_course.threads.get()
    # New ids continue after the restored ones (PostgreSQL's sequences were moved on).
    post = thread_services.post_create(user=author, thread=thread, body="After the restore")
    assert post.pk > max(Post.objects.exclude(pk=post.pk).values_list("pk", flat=True))


def test_the_file_is_versioned_gzip_json_with_counts_and_hashes(busy_course):
    data = json.loads(gzip.decompress(_backup(scope="course", course=busy_course).getvalue()))
    assert (data["format"], data["version"], data["scope"]) == ("sco-backup", 1, "course")
    assert data["course"] == {
        "pk": busy_course.pk,
        "title": "SCO Seminar",
        "reading": busy_course.reading.slug,
    }
    tables = {table["model"]: table for table in data["models"]}
    assert tables["annotations.annotation"]["count"] == 1
    assert len(tables["annotations.annotation"]["sha256"]) == 64
    # The reading is referred to by key, so a database that loaded it with other ids still fits.
    note = tables["annotations.annotation"]["rows"][0]["fields"]
    assert note["document"] == {"ref": ["annotations.document", busy_course.reading.slug]}
    assert sorted(tag["ref"][1] for tag in note["tags"]) == ["dates", "evidence"]
    # Timestamps keep their microseconds.
    created = Annotation.objects.get().created_at
    assert note["created_at"] == created.isoformat()


def test_every_model_that_points_at_a_course_is_in_the_course_backup():
    in_backup = {qs.model for qs in course_querysets(0)}
    pointing = {
        model
        for model in apps.get_models()
        for f in model._meta.concrete_fields
        if f.is_relation and f.related_model is Course
    }
    assert pointing <= in_backup
    # And every model of the two apps is either carried by a course backup, referred to by key, or site-wide.
    for app in ("annotations", "timeline"):
        for model in apps.get_app_config(app).get_models():
            label = model._meta.label_lower
            assert model in in_backup or model in REFERENCE_KEYS or label in SITE_ONLY, label


def test_it_refuses_to_restore_a_course_the_database_holds(busy_course, tmp_path):
    path = tmp_path / "course.json.gz"
    call_command("backup", "export", "--course", str(busy_course.pk), "-o", str(path), stdout=io.StringIO())
    annotations = Annotation.objects.count()
    with pytest.raises(CommandError, match=f"already holds course {busy_course.pk}"):
        call_command("backup", "restore", str(path), stdout=io.StringIO())
    assert Annotation.objects.count() == annotations


def test_a_dry_run_restores_checks_and_leaves_nothing(busy_course, tmp_path):
    path = tmp_path / "course.json.gz"
    call_command("backup", "export", "--course", str(busy_course.pk), "-o", str(path), stdout=io.StringIO())
    _raw_delete(course_querysets(busy_course.pk))
    out = io.StringIO()
    call_command("backup", "restore", str(path), "--dry-run", stdout=out)
    assert "Would restore" in out.getvalue()
    assert "hashes match" in out.getvalue()
    assert not Course.objects.filter(pk=busy_course.pk).exists()
    call_command("backup", "restore", str(path), stdout=out)
    assert Course.objects.filter(pk=busy_course.pk).exists()


def test_it_refuses_a_damaged_file(busy_course):
    data = json.loads(gzip.decompress(_backup(scope="course", course=busy_course).getvalue()))
    data["models"][-1]["rows"][0]["fields"]["feedback"] = "Changed by hand."
    with pytest.raises(BackupError, match="damaged"):
        backup_read(io.BytesIO(gzip.compress(json.dumps(data).encode())))
    with pytest.raises(BackupError, match="not a readable backup"):
        backup_read(io.BytesIO(b"not gzip"))


def test_it_refuses_a_course_whose_reading_is_missing_here(busy_course):
    data = json.loads(gzip.decompress(_backup(scope="course", course=busy_course).getvalue()))
    _raw_delete(course_querysets(busy_course.pk))
    data["course"]["reading"] = "another-reading"
    for table in data["models"]:
        table.pop("sha256")
    with pytest.raises(BackupError, match="load_reading"):
        _check_only(data)


def _check_only(data: dict) -> None:
    from annotations.services.backup import _check_target

    tables = [(apps.get_model(table["model"]), table["rows"]) for table in data["models"]]
    _check_target(data, tables)


def test_it_refuses_a_username_that_belongs_to_another_account_here(busy_course, leaver):
    stream = _backup(scope="course", course=busy_course)
    _raw_delete([*course_querysets(busy_course.pk), get_user_model().objects.filter(pk=leaver.pk)])
    UserFactory(username="leaver")
    with pytest.raises(BackupError, match="'leaver' belongs to another account"):
        backup_restore(stream=stream)
    assert not Course.objects.filter(pk=busy_course.pk).exists()


def test_a_missing_tag_is_created_again_by_name(busy_course):
    stream = _backup(scope="course", course=busy_course)
    _raw_delete([*course_querysets(busy_course.pk), Tag.objects.filter(name="dates")])
    backup_restore(stream=stream)
    assert sorted(Annotation.objects.get().tags.values_list("name", flat=True)) == ["dates", "evidence"]


def test_the_whole_site_comes_back_row_for_row_into_an_emptied_database(busy_course, other_course_student):
    before_rows = _rows()
    before = scope_snapshot(scope="site")
    stream = _backup(scope="site")
    with pytest.raises(BackupError, match="not empty"):
        backup_restore(stream=io.BytesIO(stream.getvalue()))

    _raw_delete(site_querysets())
    assert not get_user_model().objects.exists()
    assert not Claim.objects.exists()
    backup_restore(stream=stream)

    assert _rows() == before_rows
    assert scope_snapshot(scope="site") == before
    assert AuditEntry.objects.filter(course=busy_course).count() == len(
        [row for row in before_rows["annotations.auditentry"] if row["course_id"] == busy_course.pk]
    )
    assert Assignment.objects.get(course=busy_course).grades.get().score == Decimal("7.25")
