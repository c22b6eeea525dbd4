"""Backups of one course or of the whole site, to a single gzip-compressed JSON file.

A backup lists, model by model, every row of its scope as Django's ``python`` serializer
writes it (primary keys, every field, many-to-many lists), with the row count and a
SHA-256 hash of a canonical form of the rows. Restoring inserts the rows with their
primary keys (never updates: the audit log refuses updates), inside one transaction,
checks every foreign key, resets PostgreSQL's sequences, then exports the scope again
from the database and compares counts and hashes with the file: a restore that would
not give back identical rows is rolled back.

Two scopes:

- ``course``: the course and everything in it (groups, memberships, sources added in the
  course, annotations and replies, challenges with citations and responses, errata shown
  by its challenges, link and event proposals, threads, posts, revisions, reactions,
  visits, notifications, the moderation queue, flags, audit entries, assignments,
  extensions, grades) and the user accounts those rows point at. The reading (document,
  sections, paragraphs, claims, the reading's sources, events, actors) is *not* in the
  file: rows refer to it by natural key (slug, anchor, key) and the restore finds it in
  the target database, where ``load_reading`` must have loaded it. Tags are referred to
  by name and created when missing.
- ``site``: every row of the timeline and annotations apps, user accounts and auth
  groups, for an empty database after ``migrate`` (no ``load_reading``). Sessions, API
  tokens, login-failure records and the admin's change history are not included.
"""

from __future__ import annotations

import datetime as dt
import decimal
import gzip
import hashlib
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any

import django
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core import serializers
from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.core.serializers.base import DeserializationError
from django.db import IntegrityError, connections, models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from annotations.models import (
    Annotation,
    AnnotationReply,
    Assignment,
    AuditEntry,
    Challenge,
    ChallengeResponse,
    ChallengeSource,
    Claim,
    Course,
    CourseGroup,
    Document,
    Erratum,
    EventProposal,
    Extension,
    Flag,
    Grade,
    LinkProposal,
    Membership,
    ModerationItem,
    Notification,
    Paragraph,
    Post,
    PostRevision,
    Reaction,
    Section,
    Source,
    Tag,
    Thread,
    ThreadVisit,
)
from timeline.models import Actor, Event

FORMAT = "sco-backup"
VERSION = 1
SCOPES = ("course", "site")
# Tables the site scope leaves out (see the module docstring); the rest of these apps is in.
SITE_APPS = ("timeline", "annotations")


class BackupError(Exception):
    """A backup that cannot be written or restored; the message says why and what to do."""


# Rows a course backup refers to without carrying them, by a key that survives a reload.
REFERENCE_KEYS: dict[type[models.Model], Callable[[QuerySet], dict[int, tuple]]] = {
    Document: lambda qs: {pk: (slug,) for pk, slug in qs.values_list("pk", "slug")},
    Section: lambda qs: {pk: (d, k) for pk, d, k in qs.values_list("pk", "document__slug", "key")},
    Paragraph: lambda qs: {pk: (d, a) for pk, d, a in qs.values_list("pk", "document__slug", "anchor")},
    Claim: lambda qs: {pk: (key,) for pk, key in qs.values_list("pk", "key")},
    Source: lambda qs: {pk: (key,) for pk, key in qs.values_list("pk", "key")},
    Event: lambda qs: {pk: (key,) for pk, key in qs.values_list("pk", "key")},
    Actor: lambda qs: {pk: (key,) for pk, key in qs.values_list("pk", "key")},
    Tag: lambda qs: {pk: (name,) for pk, name in qs.values_list("pk", "name")},
    Permission: lambda qs: {
        pk: (a, m, c)
        for pk, a, m, c in qs.values_list("pk", "content_type__app_label", "content_type__model", "codename")
    },
}
# How to find a referenced row again from its key, in the target database.
REFERENCE_LOOKUP: dict[type[models.Model], Callable[[tuple], Q]] = {
    Document: lambda k: Q(slug=k[0]),
    Section: lambda k: Q(document__slug=k[0], key=k[1]),
    Paragraph: lambda k: Q(document__slug=k[0], anchor=k[1]),
    Claim: lambda k: Q(key=k[0]),
    Source: lambda k: Q(key=k[0], course__isnull=True),
    Event: lambda k: Q(key=k[0]),
    Actor: lambda k: Q(key=k[0]),
    Tag: lambda k: Q(name=k[0]),
    Permission: lambda k: Q(content_type__app_label=k[0], content_type__model=k[1], codename=k[2]),
}
# References that are created when the target database lacks them (the rest must be there).
CREATED_WHEN_MISSING: dict[type[models.Model], Callable[[tuple], models.Model]] = {
    Tag: lambda k: Tag(name=k[0]),
}


def course_querysets(course_pk: int) -> list[QuerySet]:
    """The rows of one course, model by model, parents before children (users aside)."""
    return [
        Course.objects.filter(pk=course_pk),
        CourseGroup.objects.filter(course_id=course_pk),
        Membership.objects.filter(course_id=course_pk),
        Source.objects.filter(course_id=course_pk),
        Annotation.objects.filter(course_id=course_pk),
        AnnotationReply.objects.filter(annotation__course_id=course_pk),
        Challenge.objects.filter(course_id=course_pk),
        ChallengeSource.objects.filter(challenge__course_id=course_pk),
        ChallengeResponse.objects.filter(challenge__course_id=course_pk),
        Erratum.objects.filter(challenge__course_id=course_pk),
        EventProposal.objects.filter(course_id=course_pk),
        LinkProposal.objects.filter(course_id=course_pk),
        Thread.objects.filter(course_id=course_pk),
        Post.objects.filter(thread__course_id=course_pk),
        PostRevision.objects.filter(post__thread__course_id=course_pk),
        Reaction.objects.filter(Q(post__thread__course_id=course_pk) | Q(annotation__course_id=course_pk)),
        ThreadVisit.objects.filter(thread__course_id=course_pk),
        Notification.objects.filter(course_id=course_pk),
        ModerationItem.objects.filter(course_id=course_pk),
        Flag.objects.filter(item__course_id=course_pk),
        AuditEntry.objects.filter(course_id=course_pk),
        Assignment.objects.filter(course_id=course_pk),
        Extension.objects.filter(assignment__course_id=course_pk),
        Grade.objects.filter(assignment__course_id=course_pk),
    ]


def site_querysets() -> list[QuerySet]:
    """Every row the site scope holds: auth groups and users, then the two apps' models."""
    querysets: list[QuerySet] = [Group.objects.all(), get_user_model().objects.all()]
    for app_label in SITE_APPS:
        querysets += [model._default_manager.all() for model in apps.get_app_config(app_label).get_models()]
    return querysets


def _label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def _encode(value: Any) -> Any:
    """JSON for the values Django's python serializer leaves as objects (full precision:
    microseconds kept, unlike ``DjangoJSONEncoder``)."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _canonical(rows: list[dict]) -> bytes:
    return json.dumps(
        rows, default=_encode, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ).encode()


def rows_digest(rows: list[dict]) -> str:
    """SHA-256 of the rows' canonical form (sorted keys, full-precision dates)."""
    return hashlib.sha256(_canonical(rows)).hexdigest()


@dataclass
class _Export:
    scope: str
    # (label, rows) in insertion order.
    tables: list[tuple[str, list[dict]]] = field(default_factory=list)


def _serialize(queryset: QuerySet, *, fields: list[str] | None = None) -> list[dict]:
    model = queryset.model
    m2m = [f.name for f in model._meta.many_to_many if f.remote_field.through._meta.auto_created]
    if fields is not None:
        m2m = [name for name in m2m if name in fields]
    queryset = queryset.order_by("pk").prefetch_related(*m2m)
    rows = serializers.serialize("python", queryset, fields=fields)
    for row in rows:
        row.pop("model", None)
        for name in m2m:
            row["fields"][name] = sorted(row["fields"][name])
    return rows


def _reference(rows_by_model: dict[type[models.Model], list[dict]], *, reference_models: set) -> None:
    """Replace, in place, pointers to rows outside the file by ``{"ref": natural key}``."""
    in_file = {model: {row["pk"] for row in rows} for model, rows in rows_by_model.items()}
    wanted: dict[type[models.Model], set[int]] = {}
    plan: list[tuple[dict, str, type[models.Model], bool]] = []
    for model, rows in rows_by_model.items():
        for f in [*model._meta.concrete_fields, *model._meta.many_to_many]:
            target = f.related_model
            if not f.is_relation or target not in reference_models:
                continue
            for row in rows:
                value = row["fields"].get(f.name)
                if value is None:
                    continue
                many = isinstance(value, list)
                outside = [v for v in (value if many else [value]) if v not in in_file.get(target, set())]
                if outside:
                    wanted.setdefault(target, set()).update(outside)
                    plan.append((row, f.name, target, many))
    keys = {
        target: REFERENCE_KEYS[target](target._default_manager.filter(pk__in=pks))
        for target, pks in wanted.items()
    }

    def ref(target: type[models.Model], value: int) -> Any:
        if value in in_file.get(target, set()):
            return value
        return {"ref": [_label(target), *keys[target][value]]}

    for row, name, target, many in plan:
        value = row["fields"][name]
        if many:
            refs = [ref(target, v) for v in value]
            row["fields"][name] = sorted(refs, key=lambda r: json.dumps(r, sort_keys=True))
        else:
            row["fields"][name] = ref(target, value)


def _collect(scope: str, course_pk: int | None) -> _Export:
    export = _Export(scope=scope)
    user_model = get_user_model()
    if scope == "course":
        querysets = course_querysets(course_pk)
        rows_by_model = {qs.model: _serialize(qs) for qs in querysets}
        # The accounts the course's rows point at come along, without site-wide permissions.
        user_pks: set[int] = set()
        for model, rows in rows_by_model.items():
            for f in [*model._meta.concrete_fields, *model._meta.many_to_many]:
                if f.is_relation and f.related_model is user_model:
                    for row in rows:
                        value = row["fields"].get(f.name)
                        if isinstance(value, list):
                            user_pks.update(value)
                        elif value is not None:
                            user_pks.add(value)
        user_fields = [f.name for f in user_model._meta.concrete_fields if not f.primary_key]
        users = _serialize(user_model.objects.filter(pk__in=user_pks), fields=user_fields)
        rows_by_model = {user_model: users, **rows_by_model}
        _reference(rows_by_model, reference_models=set(REFERENCE_KEYS))
    else:
        rows_by_model = {qs.model: _serialize(qs) for qs in site_querysets()}
        _reference(rows_by_model, reference_models={Permission})
    export.tables = [(_label(model), rows) for model, rows in rows_by_model.items()]
    return export


def scope_snapshot(*, scope: str, course_pk: int | None = None) -> dict[str, tuple[int, str]]:
    """Per model, the row count and content hash of the scope as the database holds it now."""
    return {label: (len(rows), rows_digest(rows)) for label, rows in _collect(scope, course_pk).tables}


def backup_write(
    *, stream: IO[bytes], scope: str, course: Course | None = None
) -> dict[str, tuple[int, str]]:
    """Write a gzip-compressed JSON backup of ``course`` (scope ``course``) or of the whole
    site (scope ``site``) to ``stream``, read in one repeatable snapshot; return the per-model
    row counts and hashes it holds."""
    if scope not in SCOPES:
        raise BackupError(f"Unknown scope {scope!r}: use one of {', '.join(SCOPES)}.")
    if (scope == "course") != (course is not None):
        raise BackupError("A course backup needs a course; a site backup takes none.")
    connection = connections["default"]
    outermost = not connection.in_atomic_block
    # One transaction, so the file is one consistent state even while people keep working.
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        export = _collect(scope, course.pk if course else None)
    header: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "scope": scope,
        "created_at": timezone.now().isoformat(),
        "django": django.get_version(),
    }
    if course is not None:
        header["course"] = {"pk": course.pk, "title": course.title, "reading": course.reading.slug}
    header["models"] = [
        {"model": label, "count": len(rows), "sha256": rows_digest(rows), "rows": rows}
        for label, rows in export.tables
    ]
    with gzip.GzipFile(fileobj=stream, mode="wb", mtime=0) as out:
        out.write(json.dumps(header, default=_encode, ensure_ascii=False).encode("utf-8"))
    return {table["model"]: (table["count"], table["sha256"]) for table in header["models"]}


def backup_read(stream: IO[bytes]) -> dict:
    """The backup in ``stream``, checked: its format, version and every table's hash."""
    try:
        with gzip.GzipFile(fileobj=stream, mode="rb") as raw:
            data = json.loads(raw.read().decode("utf-8"))
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BackupError(f"This is not a readable backup file: {error}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError("This file is not a backup of this site (its format is not sco-backup).")
    if data.get("version") != VERSION:
        raise BackupError(f"Backup format version {data.get('version')!r}; this version reads {VERSION}.")
    if data.get("scope") not in SCOPES:
        raise BackupError(f"Unknown scope {data.get('scope')!r} in the backup.")
    for table in data["models"]:
        if len(table["rows"]) != table["count"] or rows_digest(table["rows"]) != table["sha256"]:
            raise BackupError(
                f"The backup's {table['model']} rows do not match their hash: the file is damaged."
            )
    return data


@dataclass
class RestoreReport:
    scope: str
    counts: dict[str, int]
    reused_users: int = 0
    dry_run: bool = False

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _resolve_references(tables: list[tuple[type[models.Model], list[dict]]]) -> None:
    """Turn ``{"ref": key}`` values back into this database's primary keys, in place;
    create missing tags; refuse when the reading lacks a referenced row."""
    by_label = {_label(model): model for model in REFERENCE_LOOKUP}
    found: dict[tuple, int] = {}
    missing: list[str] = []

    def resolve(value: Any) -> Any:
        if not isinstance(value, dict) or "ref" not in value:
            return value
        key = tuple(value["ref"])
        if key not in found:
            model = by_label.get(key[0])
            if model is None:
                raise BackupError(f"The backup refers to an unknown kind of record: {key[0]}.")
            pk = (
                model._default_manager.filter(REFERENCE_LOOKUP[model](key[1:]))
                .values_list("pk", flat=True)
                .first()
            )
            if pk is None and model in CREATED_WHEN_MISSING:
                created = CREATED_WHEN_MISSING[model](key[1:])
                created.full_clean()
                created.save()
                pk = created.pk
            if pk is None:
                missing.append(" ".join(str(part) for part in key))
                return value
            found[key] = pk
        return found[key]

    for _model, rows in tables:
        for row in rows:
            for name, value in row["fields"].items():
                if isinstance(value, list):
                    row["fields"][name] = [resolve(v) for v in value]
                else:
                    row["fields"][name] = resolve(value)
    if missing:
        shown = ", ".join(sorted(set(missing))[:5])
        raise BackupError(
            f"The reading in this database lacks {len(set(missing))} record(s) the course refers to "
            f"({shown}…): load the course's reading with `manage.py load_reading` first."
        )


def _check_target(data: dict, tables: list[tuple[type[models.Model], list[dict]]]) -> set[int]:
    """Refuse a target that already holds what the backup brings; the user pks to reuse."""
    user_model = get_user_model()
    if data["scope"] == "site":
        if user_model.objects.exists() or Course.objects.exists() or Document.objects.exists():
            raise BackupError(
                "This database is not empty (it has users, courses or a reading): a site backup is "
                "restored into a new database after `manage.py migrate` only."
            )
        return set()
    course = data["course"]
    if Course.objects.filter(pk=course["pk"]).exists():
        raise BackupError(f"This database already holds course {course['pk']}; the backup was not restored.")
    if not Document.objects.filter(slug=course["reading"]).exists():
        raise BackupError(
            f"The course's reading {course['reading']!r} is not in this database: load it with "
            "`manage.py load_reading` first."
        )
    for model, rows in tables:
        if model is user_model:
            continue
        clash = model._default_manager.filter(pk__in=[row["pk"] for row in rows]).values_list(
            "pk", flat=True
        )[:5]
        if clash:
            raise BackupError(
                f"This database already has {model._meta.verbose_name_plural} with the backup's ids "
                f"({', '.join(map(str, clash))}): restore a course into a database without it."
            )
    # Accounts already here with the same id and username are the same people: kept as they are.
    users = dict(tables)[user_model]
    existing = dict(
        user_model.objects.filter(pk__in=[row["pk"] for row in users]).values_list("pk", "username")
    )
    reused: set[int] = set()
    for row in users:
        username = row["fields"]["username"]
        if row["pk"] in existing:
            if existing[row["pk"]] != username:
                raise BackupError(
                    f"User id {row['pk']} is {existing[row['pk']]!r} here but {username!r} in the backup."
                )
            reused.add(row["pk"])
        elif user_model.objects.filter(username=username).exists():
            raise BackupError(f"The username {username!r} belongs to another account here.")
    return reused


def backup_restore(
    *, stream: IO[bytes], dry_run: bool = False, progress: Callable[[str, int], None] | None = None
) -> RestoreReport:
    """Restore the backup in ``stream`` into this database, all or nothing.

    Rows are inserted with their primary keys, foreign keys are checked, PostgreSQL's
    sequences are moved past the new rows, and the scope read back from the database must
    have exactly the file's counts and hashes. Refuses (``BackupError``) a database that
    already holds the course (or, for a site backup, anything). ``dry_run`` does it all
    and rolls back.
    """
    data = backup_read(stream)
    tables = [(apps.get_model(table["model"]), table["rows"]) for table in data["models"]]
    connection = connections["default"]
    user_model = get_user_model()
    with transaction.atomic():
        reused = _check_target(data, tables)
        _resolve_references(tables)
        counts: dict[str, int] = {}
        try:
            for model, rows in tables:
                counts[_label(model)] = _insert(model, rows, skip=reused if model is user_model else set())
                if progress:
                    progress(_label(model), counts[_label(model)])
            connection.check_constraints(table_names=_table_names(model for model, _rows in tables))
        except (IntegrityError, DeserializationError, ValidationError) as error:
            raise BackupError(f"The backup does not fit this database: {error}") from None
        course_pk = data["course"]["pk"] if data["scope"] == "course" else None
        after = scope_snapshot(scope=data["scope"], course_pk=course_pk)
        expected = {table["model"]: (table["count"], table["sha256"]) for table in data["models"]}
        if reused:
            # Accounts kept as this database has them may have moved on since; their number must agree.
            label = _label(user_model)
            after[label] = (after[label][0], expected[label][1])
        if after != expected:
            differ = sorted(label for label in expected if after.get(label) != expected[label])
            raise BackupError(f"The restored rows differ from the backup in: {', '.join(differ)}.")
        if dry_run:
            transaction.set_rollback(True)
        else:
            _reset_sequences(connection, [model for model, _rows in tables])
    return RestoreReport(scope=data["scope"], counts=counts, reused_users=len(reused), dry_run=dry_run)


def _insert(model: type[models.Model], rows: list[dict], *, skip: set[int]) -> int:
    """Insert ``rows`` of ``model`` as they are (primary keys, timestamps), in batches; how many."""
    label = _label(model)
    payload = [
        {"model": label, "pk": row["pk"], "fields": row["fields"]} for row in rows if row["pk"] not in skip
    ]
    if not payload:
        return 0
    loaded = list(serializers.deserialize("python", payload))
    objs = [item.object for item in loaded]
    connection = connections["default"]
    fields = model._meta.local_concrete_fields
    size = connection.ops.bulk_batch_size(fields, objs) or len(objs)
    for at in range(0, len(objs), size):
        # A raw INSERT, as the serializers' own save does, but many rows at a time: no UPDATE
        # first (the audit log refuses updates, and one would hide a clash), no auto_now.
        model._base_manager._insert(objs[at : at + size], fields=fields, using=connection.alias, raw=True)
    for f in model._meta.many_to_many:
        through = f.remote_field.through
        if not through._meta.auto_created:
            continue
        source, target = f.m2m_field_name(), f.m2m_reverse_field_name()
        links = [
            through(**{f"{source}_id": item.object.pk, f"{target}_id": pk})
            for item in loaded
            for pk in (item.m2m_data or {}).get(f.name, [])
        ]
        through._base_manager.bulk_create(links, batch_size=500)
    return len(objs)


def _table_names(model_list: Iterable[type[models.Model]]) -> list[str]:
    names = []
    for model in model_list:
        names.append(model._meta.db_table)
        names += [f.remote_field.through._meta.db_table for f in model._meta.many_to_many]
    return names


def _reset_sequences(connection, model_list: Iterable[type[models.Model]]) -> None:
    """Move PostgreSQL's id sequences past the restored rows (what ``sqlsequencereset`` prints)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
