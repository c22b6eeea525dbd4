"""Reads, with the prefetching each page and endpoint needs.

The paper's records are public, so their reads depend on nobody. Student work is read
only through ``visible_annotations`` (and the functions built on it): the one place
the visibility rule lives.
"""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Cast, Coalesce, RowNumber
from django.db.models.lookups import In
from django.http import Http404
from django.shortcuts import get_object_or_404

from annotations.citations import citation_sort_key
from annotations.models import (
    Annotation,
    AnnotationReply,
    Claim,
    ClaimEventLink,
    Course,
    CourseGroup,
    Document,
    Membership,
    Paragraph,
    Post,
    Section,
    Source,
)
from annotations.models.annotation import Visibility
from annotations.models.courses import Role
from annotations.models.moderated import ModerationState
from annotations.models.moderation import MODERATED_KINDS


def document_list() -> QuerySet[Document]:
    return Document.objects.all()


# The reading's structure, kept per process under its document's id and ``updated_at``: every
# save or delete of a section, paragraph or claim touches that stamp (annotations/signals.py),
# so a changed reading is read afresh by every process at its next request.
_READING_STRUCTURES: dict[tuple, Document] = {}
_READING_STRUCTURES_KEPT = 16


def document_for_reading(slug: str, *, document: Document | None = None) -> Document:
    """A document with its sections and paragraphs, each paragraph with its claims: read
    again only when the reading changed. ``document``: the row, when the caller has it.

    What it returns is shared by the requests of this process: read it, never change it."""
    if document is None:
        document = get_object_or_404(Document, slug=slug)
    key = (document.pk, document.updated_at)
    found = _READING_STRUCTURES.get(key)
    if found is None:
        claims = Claim.objects.only("key", "paragraph_id", "start", "end", "kind", "paraphrase")
        found = get_object_or_404(
            Document.objects.prefetch_related(
                Prefetch("sections", Section.objects.order_by("order")),
                Prefetch(
                    "paragraphs",
                    Paragraph.objects.order_by("order").prefetch_related(
                        Prefetch("claims", claims.order_by("start"))
                    ),
                ),
            ),
            pk=document.pk,
        )
        if len(_READING_STRUCTURES) >= _READING_STRUCTURES_KEPT:
            _READING_STRUCTURES.clear()
        # Under the stamp read before the structure: were the reading changed in between,
        # the next request sees a newer stamp and reads it again.
        _READING_STRUCTURES[key] = found
    return found


def section_list() -> QuerySet[Section]:
    return Section.objects.select_related("document", "parent")


def paragraph_list() -> QuerySet[Paragraph]:
    return Paragraph.objects.select_related("document", "section").prefetch_related(
        Prefetch(
            "claims",
            Claim.objects.only("key", "paragraph_id", "start").order_by("start"),
        )
    )


def claim_list() -> QuerySet[Claim]:
    """Claims with everything a list or a detail shows, in reading order."""
    return Claim.objects.select_related("paragraph__section", "paragraph__document").prefetch_related(
        "actors",
        "cites",
        Prefetch(
            "event_links",
            ClaimEventLink.objects.select_related("event").order_by("event__date"),
        ),
    )


def claim_detail(key: str) -> Claim:
    return get_object_or_404(claim_list(), key=key)


def mismatched_claim_ids() -> list[int]:
    """Claims stating a date that a linked event's date cannot be, at the precision stated.

    The rule (``ClaimEventLink.date_disagrees``) compares dates known to a year, a month
    or a day, so it runs here over the few links whose claim states a date.
    """
    links = (
        ClaimEventLink.objects.filter(claim__stated_date__isnull=False)
        .exclude(relation=ClaimEventLink.Relation.CONTEXT)
        .select_related("claim", "event")
    )
    return sorted({link.claim_id for link in links if link.date_disagrees})


def source_list(user) -> QuerySet[Source]:
    """The sources ``user`` may see, with the keys of the claims that cite them."""
    return visible_sources(user).prefetch_related(Prefetch("claims", Claim.objects.only("key")))


# -- courses and student work -------------------------------------------------------


def courses_for_user(user) -> QuerySet[Course]:
    """The courses a user may see: theirs, or all of them for site staff."""
    if not user.is_authenticated:
        return Course.objects.none()
    courses = Course.objects.select_related("reading")
    if user.is_superuser:
        return courses
    return courses.filter(memberships__user=user)


def course_for_user(user, pk: int | str) -> Course:
    """One course the user may see; a missing and a forbidden course are the same 404."""
    try:
        return courses_for_user(user).get(pk=int(pk))
    except (Course.DoesNotExist, ValueError, TypeError):
        raise Http404("No such course.") from None


def groups_for_user(user) -> QuerySet[CourseGroup]:
    return CourseGroup.objects.filter(course__in=courses_for_user(user)).select_related("course")


def memberships_for_course(course: Course) -> QuerySet[Membership]:
    return course.memberships.select_related("user", "group").order_by("role", "user__username")


def visible_annotations(user, *, include_deleted: bool = False) -> QuerySet[Annotation]:
    """Every annotation ``user`` may see: the one visibility rule, as a query.

    Private: the author alone. Group: the author's group, and the course's TAs and
    instructors. Course: every member. Nothing outside the user's courses; site staff see
    every course's shared work. Deleted annotations (tombstones) only when asked for.
    """
    return _visible_course_work(user, Annotation.objects.all(), include_deleted=include_deleted)


def _visible_course_work(user, rows: QuerySet, *, include_deleted: bool) -> QuerySet:
    """The visibility rule over any student work that has a course, an author, a
    ``visibility`` (private, group, course), a group, a ``deleted_at`` and a moderation state.

    Work hidden by a moderator or waiting for approval is its author's and the course
    staff's; with ``include_deleted`` (lists that keep tombstones as the heads of their
    threads) hidden work is kept too, as a placeholder whose text the page withholds.
    """
    if not user.is_authenticated:
        return rows.none()
    published = Q(moderation=ModerationState.PUBLISHED)
    if not include_deleted:
        rows = rows.filter(deleted_at__isnull=True)
    else:
        published |= Q(moderation=ModerationState.HIDDEN)
    shared = ~Q(visibility=Visibility.PRIVATE)
    if user.is_superuser:
        return rows.filter(Q(author=user) | shared)
    # The user's few memberships as values, not a subquery: with the course ids spelled out
    # the database walks each course's own index instead of filtering the whole table.
    memberships = list(Membership.objects.filter(user=user).values_list("course_id", "role", "group_id"))
    courses = [course for course, _, _ in memberships]
    taught = [course for course, role, _ in memberships if role in (Role.TA, Role.INSTRUCTOR)]
    groups = [group for _, _, group in memberships if group is not None]
    # Typed as the column (bigint), not as plain integer literals: the annotations' search
    # index (btree_gin, keyed by course and words) can use only that.
    typed_courses = [Cast(Value(course), BigIntegerField()) for course in courses]
    rows = rows.filter(
        Q(In(F("course_id"), typed_courses))
        & (
            Q(author=user)
            | Q(course__in=taught) & shared
            | published & Q(visibility=Visibility.COURSE)
            | published & Q(visibility=Visibility.GROUP, group__in=groups)
        )
    )
    studied = [course for course, role, _ in memberships if role == Role.STUDENT]
    for hidden in _peer_work_hidden_from(user, rows.model, studied):
        rows = rows.exclude(hidden)
    return rows


def _peer_work_hidden_from(user, model, studied: list[int]) -> list[Q]:
    """Classmates' work that open "hide peers until posted" assignments keep from
    ``user``, a student who has not yet posted their own in the assignment's scope.
    ``studied``: the courses where ``user`` is a student (none: no query at all).

    One query when no such assignment is open in the user's courses (the usual case).
    Staff's work is never hidden; the hiding ends when the assignment closes.
    """
    if not studied:
        return []
    from django.utils import timezone

    from annotations.grading import Scope
    from annotations.models import Assignment
    from annotations.models.challenges import Challenge

    now = timezone.now()
    hiding = (
        Assignment.objects.filter(hide_peers_until_posted=True, course_id__in=studied, opens_at__lte=now)
        .filter(Q(late_until__gte=now) | Q(late_until__isnull=True, due_at__gte=now))
        .select_related("course")
        .prefetch_related("sections", "claims")
    )
    hidden = []
    for assignment in hiding:
        scope = Scope(assignment)
        since = Q(course_id=assignment.course_id, author=user, deleted_at__isnull=True)
        since &= Q(created_at__gte=assignment.opens_at)
        posted = (
            Annotation.objects.filter(since & scope.annotation_q()).exists()
            or Challenge.objects.filter(since & scope.claim_q()).exists()
        )
        if posted:
            continue
        staff = Membership.objects.filter(
            course_id=assignment.course_id, role__in=[Role.TA, Role.INSTRUCTOR]
        ).values("user")
        in_scope = scope.annotation_q() if model is Annotation else scope.claim_q()
        hidden.append(Q(course_id=assignment.course_id) & in_scope & ~Q(author=user) & ~Q(author__in=staff))
    return hidden


def helpful_count(target: str) -> Coalesce:
    """How many "helpful" marks the outer row (an annotation or a post: ``target``) has.

    A subquery per row rather than a join and a ``GROUP BY``: a grouped list must aggregate
    every visible row before it can sort and cut a page, where this lets the database walk
    an index in the list's order and stop after one page.
    """
    from annotations.models import Reaction

    marks = Reaction.objects.filter(**{target: OuterRef("pk")}).order_by().values(target)
    return Coalesce(Subquery(marks.annotate(n=Count("pk")).values("n")), 0)


def lean_joins(rows: QuerySet, joined: list[str], prefetched: list[str] = ()) -> QuerySet:
    """``rows`` joining only the tables in ``joined``; the related rows in ``prefetched`` come
    from one small query each instead.

    For the API's lists and a thread's page. PostgreSQL plans a query afresh each time, and
    the planner's work grows steeply with every joined table: measured on a million
    annotations, a page of 50 with six joins spent about 20 ms planning and 1 ms running,
    with three joins about 1 ms planning. A lookup table or two (a course's groups, its
    reading) costs far less fetched apart by primary key.
    """
    return rows.select_related(None).select_related(*joined).prefetch_related(*prefetched)


def as_lists(rows: QuerySet) -> QuerySet:
    """``rows`` with each many-valued relation they prefetch (``replies``, ``tags``) kept
    as a plain list in ``<relation>_list`` rather than behind the relation's manager.

    For the API's lists, whose serializers read those lists (``api.lean.prefetched``).
    Behind the manager, Django builds a manager and a filtered queryset for every row of
    the page and every relation: measured on a page of 50 challenges, about 3 ms for each
    relation, more than the relation's query. Single-valued relations stay as they are.
    """
    lookups = []
    for lookup in rows._prefetch_related_lookups:
        lookup = lookup if isinstance(lookup, Prefetch) else Prefetch(lookup)
        through = lookup.prefetch_through
        if not lookup.to_attr and "__" not in through:
            field = rows.model._meta.get_field(through)
            if field.one_to_many or field.many_to_many:
                lookup = Prefetch(through, lookup.queryset, to_attr=f"{through}_list")
        lookups.append(lookup)
    return rows.prefetch_related(None).prefetch_related(*lookups)


def annotation_list(user, *, include_deleted: bool = False) -> QuerySet[Annotation]:
    """Visible annotations with what lists and sidebars show."""
    return (
        _with_list_extras(visible_annotations(user, include_deleted=include_deleted))
        .select_related("author", "group", "paragraph", "claim", "course")
        .order_by("paragraph_anchor", "start", "created_at", "pk")
    )


def _with_list_extras(rows: QuerySet[Annotation]) -> QuerySet[Annotation]:
    replies = AnnotationReply.objects.select_related("author").order_by("created_at", "pk")
    return rows.annotate(helpful_count=helpful_count("annotation")).prefetch_related(
        "tags", Prefetch("replies", replies)
    )


def annotation_rows(ids: QuerySet) -> QuerySet[Annotation]:
    """The annotations whose ids ``ids`` gives (a subquery of ``annotation_list``'s rows, so
    already chosen by the visibility rule) with what the API's list shows of each: for a
    page whose rows are chosen first and read in full after (``CursorPagination``)."""
    rows = _with_list_extras(Annotation.objects.filter(pk__in=ids))
    return as_lists(lean_joins(rows, ["author", "paragraph", "claim"], ["group", "document"]))


def _shown_in_reading(user, course: Course) -> QuerySet[Annotation]:
    # A deleted note stays only as the head of a thread that still has replies. Asked as a
    # scalar subquery, not EXISTS: PostgreSQL may run an EXISTS as one hashed scan of every
    # reply in the database, where this looks up only the deleted notes' replies by index.
    live_replies = AnnotationReply.objects.filter(annotation=OuterRef("pk"), deleted_at__isnull=True)
    return (
        visible_annotations(user, include_deleted=True)
        .filter(course=course)
        .alias(live_reply=Subquery(live_replies.order_by().values("pk")[:1]))
        .filter(Q(deleted_at__isnull=True) | Q(live_reply__isnull=False))
    )


def reading_notes(
    user, course: Course, *, paragraphs: list[Paragraph], per_paragraph: int, count_up_to: int
) -> tuple[list[Annotation], dict[str, int]]:
    """The notes the course's reading shows ``user`` on its ``paragraphs``, and how
    many there are on each paragraph, counted up to ``count_up_to + 1`` only (a count above
    ``count_up_to`` means "more than that").

    On each paragraph at most ``per_paragraph`` notes: the user's own first, then the newest,
    each with ``reply_count`` and its first ``per_paragraph`` replies (``first_replies``).
    The rest are a link away (``paragraph_notes``), so the page costs the same few queries,
    reading about the same number of rows, however many notes the course has written.
    """
    shown = _shown_in_reading(user, course)
    if connections[shown.db].vendor == "postgresql":
        anchors = [paragraph.anchor for paragraph in paragraphs]
        rows = _reading_candidates_by_paragraph(shown, user, anchors, per_paragraph, count_up_to)
    else:
        rows = _reading_candidates_ranked(shown, user, per_paragraph, count_up_to)
    totals: dict[str, int] = {}
    candidates: dict[str, dict[int, tuple]] = {}
    for paragraph_anchor, total, pk, author_id, created_at in rows:
        if total is not None:
            totals[paragraph_anchor] = total
        if pk is not None:
            candidates.setdefault(paragraph_anchor, {})[pk] = (author_id != user.pk, created_at)
    ids: list[int] = []
    for ranked in candidates.values():
        order = sorted(ranked, key=lambda pk: (ranked[pk][1], pk), reverse=True)
        order.sort(key=lambda pk: ranked[pk][0])  # stable: the user's own first, each newest first
        ids.extend(order[:per_paragraph])
    if not ids:
        return [], totals
    replies = AnnotationReply.objects.select_related("author").order_by("created_at", "pk")
    counted = AnnotationReply.objects.filter(annotation=OuterRef("pk")).order_by().values("annotation")
    # The ids were chosen through the visibility rule above: not asked again.
    notes = (
        Annotation.objects.filter(pk__in=ids)
        .annotate(
            helpful_count=helpful_count("annotation"),
            reply_count=Coalesce(Subquery(counted.annotate(n=Count("pk")).values("n")), 0),
        )
        .select_related("author", "group", "claim")
        .prefetch_related("tags", Prefetch("replies", replies[:per_paragraph], to_attr="first_replies"))
    )
    # Their paragraphs and course are the page's own: attached, not read again with each note.
    by_id = {paragraph.pk: paragraph for paragraph in paragraphs}
    notes = list(notes)
    for note in notes:
        note.course = course
        if note.paragraph_id in by_id:
            note.paragraph = by_id[note.paragraph_id]
    return notes, totals


def _reading_candidates_by_paragraph(
    shown: QuerySet[Annotation], user, anchors: list[str], per_paragraph: int, count_up_to: int
) -> list[tuple]:
    """PostgreSQL: for each paragraph its capped count and its newest notes, each an index
    scan that stops after a few rows (``LATERAL`` joins), then the user's own newest notes on
    each paragraph (read through the author's index: a person's own notes are few) and those
    on paragraphs the reading no longer has (shown apart as orphans, never dropped).

    Rows of (anchor, count, pk, author_id, created_at): pk is None on a paragraph without
    notes, and count None on the rows of the user's own notes.
    """
    inner, params = (
        shown.order_by()
        .values("id", "author_id", "paragraph_anchor", "paragraph_id", "created_at")
        .query.get_compiler(using=shown.db)
        .as_sql()
    )
    sql = f"""
        SELECT a.anchor, c.n, t.id, t.author_id, t.created_at
        FROM unnest(%s::text[]) AS a(anchor)
        CROSS JOIN LATERAL (
            SELECT count(*) AS n FROM (
                SELECT 1 FROM ({inner}) AS s WHERE s.paragraph_anchor = a.anchor LIMIT %s
            ) AS capped
        ) AS c
        LEFT JOIN LATERAL (
            SELECT s.id, s.author_id, s.created_at FROM ({inner}) AS s
            WHERE s.paragraph_anchor = a.anchor ORDER BY s.created_at DESC, s.id DESC LIMIT %s
        ) AS t ON TRUE
        UNION ALL
        SELECT o.paragraph_anchor, NULL, o.id, o.author_id, o.created_at FROM (
            SELECT s.*, row_number() OVER (
                PARTITION BY s.paragraph_anchor
                ORDER BY s.author_id = %s DESC, s.created_at DESC, s.id DESC
            ) AS n
            FROM ({inner}) AS s WHERE s.author_id = %s OR s.paragraph_id IS NULL
        ) AS o WHERE o.n <= %s
    """
    arguments = [anchors, *params, count_up_to + 1, *params, per_paragraph]
    arguments += [user.pk, *params, user.pk, per_paragraph]
    with connections[shown.db].cursor() as cursor:
        cursor.execute(sql, arguments)
        return cursor.fetchall()


def _reading_candidates_ranked(
    shown: QuerySet[Annotation], user, per_paragraph: int, count_up_to: int
) -> list[tuple]:
    """Elsewhere (SQLite): the same rows as ``_reading_candidates_by_paragraph`` from one
    window query over the course's visible notes."""
    mine_first = Case(When(author_id=user.pk, then=Value(0)), default=Value(1))
    ranked = (
        shown.annotate(
            rank=Window(
                RowNumber(),
                partition_by=F("paragraph_anchor"),
                order_by=[mine_first.asc(), F("created_at").desc(), F("pk").desc()],
            ),
            on_paragraph=Window(Count("pk"), partition_by=F("paragraph_anchor")),
        )
        .filter(rank__lte=per_paragraph)
        .values_list("paragraph_anchor", "on_paragraph", "pk", "author_id", "created_at")
    )
    return [(anchor, min(total, count_up_to + 1), *rest) for anchor, total, *rest in ranked]


def paragraph_notes(user, course: Course, paragraph_anchor: str) -> QuerySet[Annotation]:
    """Every note ``user`` may see on one paragraph of the course's reading, in reading order."""
    return annotation_list(user, include_deleted=True).filter(
        pk__in=_shown_in_reading(user, course).filter(paragraph_anchor=paragraph_anchor).values("pk")
    )


def paragraph_note_position(user, course: Course, paragraph_anchor: str, pk: int | str) -> int | None:
    """How many notes come before note ``pk`` in ``paragraph_notes`` (its reading order), or
    None when ``user`` does not see that note on that paragraph."""
    if not str(pk).isdigit() or len(str(pk)) > 18:  # no id, or none a bigint can hold
        return None
    notes = _shown_in_reading(user, course).filter(paragraph_anchor=paragraph_anchor)
    note = notes.filter(pk=int(pk)).values("pk", "start", "created_at").first()
    if note is None:
        return None
    start, created_at = note["start"], note["created_at"]
    before = (
        Q(start__lt=start)
        | Q(start=start, created_at__lt=created_at)
        | Q(start=start, created_at=created_at, pk__lt=note["pk"])
    )
    return notes.filter(before).count()


def annotation_for_user(user, pk: int | str) -> Annotation:
    try:
        return annotation_list(user).get(pk=int(pk))
    except (Annotation.DoesNotExist, ValueError, TypeError):
        raise Http404("No such annotation.") from None


def visible_replies(user) -> QuerySet[AnnotationReply]:
    return AnnotationReply.objects.filter(annotation__in=visible_annotations(user, include_deleted=True))


def courses_with_my_membership(user) -> QuerySet[Course]:
    """The courses a user may see, each with ``my_memberships``: the user's membership, if any, in a list."""
    mine = Membership.objects.filter(user_id=user.pk).select_related("group")
    return courses_for_user(user).prefetch_related(Prefetch("memberships", mine, to_attr="my_memberships"))


def course_with_my_membership(user, pk: int | str) -> Course:
    """``course_for_user`` with ``my_memberships``; a missing and a forbidden course are the same 404."""
    try:
        return courses_with_my_membership(user).get(pk=int(pk))
    except (Course.DoesNotExist, ValueError, TypeError):
        raise Http404("No such course.") from None


def membership_of_member(course: Course, user_id: int | str) -> Membership:
    """The membership of one member of a course (by their user id), or a 404."""
    try:
        return memberships_for_course(course).get(user_id=int(user_id))
    except (Membership.DoesNotExist, ValueError, TypeError):
        raise Http404("No such member of this course.") from None


def groups_of_course(course: Course) -> QuerySet[CourseGroup]:
    """A course's groups, each with ``member_count``."""
    from django.db.models import Count

    return course.groups.annotate(member_count=Count("memberships")).order_by("name")


def group_of_course(course: Course, pk: int | str) -> CourseGroup:
    try:
        return groups_of_course(course).get(pk=int(pk))
    except (CourseGroup.DoesNotExist, ValueError, TypeError):
        raise Http404("No such group in this course.") from None


def group_list(user) -> QuerySet[CourseGroup]:
    """The groups of the courses a user may see, each with ``member_count``."""
    from django.db.models import Count

    return groups_for_user(user).annotate(member_count=Count("memberships")).order_by("course_id", "name")


def annotations_for_export(user, course: Course) -> QuerySet[Annotation]:
    """The annotations of ``course`` that ``user`` may see, oldest first, with what their
    W3C JSON-LD shows (author, reading, claim, tags); never deleted ones.

    Published work only, but for the user's own: a W3C collection travels to other tools,
    where a moderator's hiding (or a wait for approval) could not follow it, and its items
    carry no moderation state. Staff read hidden and waiting work in the app instead.
    """
    return (
        visible_annotations(user)
        .filter(course=course)
        .filter(Q(moderation=ModerationState.PUBLISHED) | Q(author_id=user.pk))
        .select_related("author", "document", "claim")
        .prefetch_related("tags")
        .order_by("created_at", "pk")
    )


def export_total(user, course: Course) -> int:
    """How many annotations ``annotations_for_export(user, course)`` holds: the W3C
    collection's ``total``.

    The same rule, counted in parts that do not overlap: the course's published notes
    for every member, its published group notes that the reader may see (their group's,
    or every group's for staff), and the reader's own notes outside those. On PostgreSQL
    each of the first two reads one range of ``annotation_visible_idx`` alone, where the
    rule counted whole tests every standing note of the course one by one (at a million
    notes, about 29,000 in the big course). While an open assignment hides classmates'
    work from this reader, the rule is counted whole.
    """
    if not user.is_authenticated:
        return 0
    if user.is_superuser:
        staff, groups = True, []
    else:
        from annotations.permissions import membership_of

        membership = membership_of(user, course)
        if membership is None:
            return 0
        role, group = membership.role, membership.group_id
        staff = role in (Role.TA, Role.INSTRUCTOR)
        groups = [] if group is None else [group]
        if role == Role.STUDENT and _peer_work_hidden_from(user, Annotation, [course.pk]):
            return annotations_for_export(user, course).count()
    standing = Annotation.objects.filter(course=course, deleted_at__isnull=True).order_by()
    published = standing.filter(moderation=ModerationState.PUBLISHED)
    parts = [published.filter(visibility=Visibility.COURSE)]
    seen = Q(visibility=Visibility.COURSE)
    if staff:
        parts.append(published.filter(visibility=Visibility.GROUP))
        seen |= Q(visibility=Visibility.GROUP)
    elif groups:
        parts.append(published.filter(visibility=Visibility.GROUP, group_id__in=groups))
        seen |= Q(visibility=Visibility.GROUP, group_id__in=groups)
    parts.append(standing.filter(author=user).exclude(Q(moderation=ModerationState.PUBLISHED) & seen))
    # One query, a count per part: SELECT (SELECT COUNT(*) …) + (SELECT COUNT(*) …) + …
    # (COUNT(*), not COUNT(id): the index holds no id, and reading one would visit the table.)
    counts = [
        Subquery(
            part.annotate(n=Func(template="COUNT(*)", output_field=IntegerField())).values("n"),
            output_field=IntegerField(),
        )
        for part in parts
    ]
    return Course.objects.filter(pk=course.pk).values_list(sum(counts[1:], counts[0]), flat=True).get()


# -- sources ----------------------------------------------------------------------------


def visible_sources(user) -> QuerySet[Source]:
    """Every source ``user`` may see: the one visibility rule for sources, as a query.

    The reading's own sources (no course) are public; a source added in a course is seen
    by that course's members, and by site staff.
    """
    sources = Source.objects.select_related("added_by")
    if not user.is_authenticated:
        return sources.filter(course__isnull=True)
    if user.is_superuser:
        return sources
    memberships = Membership.objects.filter(user=user)
    courses = memberships.values("course")
    taught = memberships.filter(role__in=[Role.TA, Role.INSTRUCTOR]).values("course")
    # Hidden or waiting course sources: their adder and the course's staff only.
    readable = Q(moderation=ModerationState.PUBLISHED) | Q(added_by=user) | Q(course__in=taught)
    return sources.filter(Q(course__isnull=True) | Q(course__in=courses) & readable)


def source_for_user(user, key: str) -> Source:
    try:
        return source_list(user).get(key=key)
    except Source.DoesNotExist:
        raise Http404("No such source.") from None


def course_bibliography(course: Course, user=None, *, placeholders: bool = False) -> list[Source]:
    """A course's bibliography: its own sources and the reading's, ordered by citation.

    The caller has checked that the user may see ``course``. Without ``user`` (a file to
    download and share) only published course sources are listed. With ``user`` (a page),
    the course sources ``user`` may see: published ones, their own and, for staff, hidden or
    waiting ones, which the page marks with their state; with ``placeholders`` too, the
    hidden sources others may not read, for the page to show as "hidden by a moderator"
    without their text.
    """
    if user is None:
        own = Q(course=course, moderation=ModerationState.PUBLISHED)
    else:
        shown = Q(pk__in=visible_sources(user).filter(course=course).values("pk"))
        if placeholders:
            shown |= Q(moderation=ModerationState.HIDDEN)
        own = Q(course=course) & shown
    sources = Source.objects.filter(own | Q(course__isnull=True)).select_related("added_by")
    return sorted(sources, key=citation_sort_key)


# -- link and event proposals -------------------------------------------------------------


def visible_link_proposals(user) -> QuerySet:
    """Every claim–event link proposal ``user`` may see: those of the courses they may see."""
    from annotations.models.challenges import LinkProposal

    return LinkProposal.objects.filter(course__in=courses_for_user(user))


def link_proposal_list(user) -> QuerySet:
    """Visible link proposals with what lists show (claim, event, proposer, who decided,
    course); the last two, few, in a query each (see ``lean_joins``: with five joins and
    the rule's, planning took 6.5 ms of a page's 7.7 at a million notes, with three 1.4)."""
    return lean_joins(visible_link_proposals(user), ["claim", "event", "proposer"], ["decided_by", "course"])


def visible_event_proposals(user) -> QuerySet:
    """Every event proposal ``user`` may see: those of the courses they may see."""
    from annotations.models.challenges import EventProposal

    return EventProposal.objects.filter(course__in=courses_for_user(user))


def event_proposal_list(user) -> QuerySet:
    """Visible event proposals with what lists show (source, proposer, event, who decided,
    course); the last two in a query each, as ``link_proposal_list``."""
    return lean_joins(
        visible_event_proposals(user), ["source", "proposer", "event"], ["decided_by", "course"]
    )


def sources_for_proposal(user, course: Course) -> QuerySet[Source]:
    """The sources a member may cite for an event proposed in ``course``: the reading's and the course's."""
    return visible_sources(user).filter(Q(course__isnull=True) | Q(course=course))


def claim_in_course(course: Course, key: str) -> Claim:
    """A claim of the course's reading, with its curated links; a 404 otherwise."""
    return get_object_or_404(claim_list(), key=key, paragraph__document_id=course.reading_id)


def mismatched_proposal_ids(queryset: QuerySet) -> list[int]:
    """Among ``queryset``'s link proposals, those whose event's date disagrees with the claim's."""
    candidates = (
        queryset.filter(claim__stated_date__isnull=False)
        .exclude(relation=ClaimEventLink.Relation.CONTEXT)
        .select_related("claim", "event")
    )
    return [proposal.pk for proposal in candidates if proposal.date_disagrees]


# -- challenges -------------------------------------------------------------------------


def visible_challenges(user, *, include_deleted: bool = False):
    """Every challenge ``user`` may see: the annotations' visibility rule, as a query.

    Private: the author alone. Group: the author's group, and the course's TAs and
    instructors. Course: every member. Site staff see every course's shared work.
    """
    from annotations.models.challenges import Challenge

    return _visible_course_work(user, Challenge.objects.all(), include_deleted=include_deleted)


def challenge_list(user, *, include_deleted: bool = False):
    """Visible challenges with their author, group, claim, cited sources and thread."""
    from annotations.models.challenges import ChallengeResponse, ChallengeSource

    responses = ChallengeResponse.objects.select_related("author").order_by("created_at", "pk")
    citations = ChallengeSource.objects.select_related("source").order_by("pk")
    # Lists name the claim only; its paragraph and document are joined for one challenge
    # (``challenge_for_user``), as each extra join costs the planner on every page.
    return (
        visible_challenges(user, include_deleted=include_deleted)
        .select_related("author", "group", "course", "resolved_by", "claim")
        .prefetch_related(Prefetch("citations", citations), Prefetch("responses", responses))
        .order_by("-created_at", "-pk")
    )


def username_of(column: str) -> Subquery:
    """The username of the user whose id is in the outer row's ``column``, looked up by
    primary key: joined to the users instead, the planner may read every user of the site
    to hash them for a page of rows."""
    from django.contrib.auth import get_user_model

    return Subquery(get_user_model().objects.filter(pk=OuterRef(column)).values("username")[:1])


def challenge_responses_named(rows: QuerySet) -> QuerySet:
    """``challenge_list``'s rows whose responses carry their author's username as
    ``author_name``, looked up by primary key, instead of joining the user table.

    For the API's list: joined, a page's few dozen responses made the database hash the
    whole user table (10,000 users: about 2.5 ms of a 3 ms query, at a million annotations).
    """
    from annotations.models.challenges import ChallengeResponse

    responses = ChallengeResponse.objects.annotate(author_name=username_of("author_id")).order_by(
        "created_at", "pk"
    )
    lookups = [
        Prefetch("responses", responses)
        if isinstance(lookup, Prefetch) and lookup.prefetch_through == "responses"
        else lookup
        for lookup in rows._prefetch_related_lookups
    ]
    return rows.prefetch_related(None).prefetch_related(*lookups)


def challenge_for_user(user, pk: int | str):
    from annotations.models.challenges import Challenge

    try:
        return challenge_list(user).select_related("claim__paragraph__document").get(pk=int(pk))
    except (Challenge.DoesNotExist, ValueError, TypeError):
        raise Http404("No such challenge.") from None


def claims_of_course(course: Course) -> QuerySet[Claim]:
    """The claims of a course's reading, in reading order, with what a list shows."""
    return (
        Claim.objects.filter(paragraph__document_id=course.reading_id)
        .select_related("paragraph__section", "paragraph__document")
        .order_by("paragraph__order", "start")
    )


# -- discussion threads ---------------------------------------------------------------


def visible_threads(user):
    """Every thread ``user`` may see: the visibility rule for discussions, as a query.

    A thread with a group: that group's members and the course's TAs and instructors. A
    thread without a group: every member. Nothing outside the user's courses; site staff
    see every course's threads.
    """
    from annotations.models import Thread

    if not user.is_authenticated:
        return Thread.objects.none()
    if user.is_superuser:
        return Thread.objects.all()
    memberships = Membership.objects.filter(user=user)
    courses = memberships.values("course")
    taught = memberships.filter(role__in=[Role.TA, Role.INSTRUCTOR]).values("course")
    groups = memberships.exclude(group=None).values("group")
    # A thread whose every post waits for approval (a pre-moderated student's new thread)
    # is its author's and the staff's: its title would tell the class what waits.
    approved = Exists(Post.objects.filter(thread=OuterRef("pk")).exclude(moderation=ModerationState.PENDING))
    return Thread.objects.filter(
        Q(course__in=courses)
        & (Q(group__isnull=True) | Q(course__in=taught) | Q(group__in=groups))
        & (Q(author=user) | Q(course__in=taught) | approved)
    )


def readable_posts_q(user, prefix: str = "") -> Q:
    """The posts ``user`` may read in full, as a condition on ``<prefix>moderation`` etc.:
    published ones, their own, and every post of the courses they teach (site staff: all)."""
    if user.is_superuser:
        return Q()
    taught = Membership.objects.filter(user=user, role__in=[Role.TA, Role.INSTRUCTOR]).values("course")
    return (
        Q(**{f"{prefix}moderation": ModerationState.PUBLISHED})
        | Q(**{f"{prefix}author": user})
        | Q(**{f"{prefix}thread__course__in": taught})
    )


def thread_list(user):
    """Visible threads with what lists show; ``post_count`` counts the posts ``user`` may
    read (a hidden or waiting post is not counted for a classmate)."""
    threads = visible_threads(user)
    if not user.is_authenticated:
        return threads
    return (
        threads.select_related("author", "group", "course", "claim", "event", "annotation", "challenge")
        .annotate(post_count=_readable_post_count(user))
        .order_by("-pinned", "-last_post_at", "-created_at", "-pk")
    )


def _readable_post_count(user) -> Coalesce:
    # A subquery, not a grouped join: see ``helpful_count``.
    readable = Post.objects.filter(readable_posts_q(user), thread=OuterRef("pk")).order_by().values("thread")
    return Coalesce(Subquery(readable.annotate(n=Count("pk")).values("n")), 0)


def thread_rows(user, ids: QuerySet):
    """The threads whose ids ``ids`` gives (a subquery of ``thread_list(user)``'s rows, so
    already chosen by the visibility rule) with what the API's list shows of each, its
    ``post_count`` for ``user``: for a page whose rows are chosen first and read in full
    after (``CursorPagination``)."""
    from annotations.models import Thread

    return (
        Thread.objects.filter(pk__in=ids)
        .select_related("author", "claim")
        .annotate(post_count=_readable_post_count(user))
    )


def thread_for_user(user, pk: int | str):
    from annotations.models import Thread

    threads = lean_joins(
        thread_list(user), ["author", "course"], ["group", "claim", "event", "annotation", "challenge"]
    )
    try:
        return threads.get(pk=int(pk))
    except (Thread.DoesNotExist, ValueError, TypeError):
        raise Http404("No such thread.") from None


def visible_posts(user, *, placeholders: bool = False):
    """Posts of the threads ``user`` may see (tombstones included: they keep replies in place).

    A post hidden by a moderator or waiting for approval is its author's and the course
    staff's; with ``placeholders`` (a thread's page) hidden posts are kept for everyone, as a
    placeholder whose text the page withholds, so their replies keep their place.
    """
    from annotations.models import Post

    posts = Post.objects.filter(thread__in=visible_threads(user))
    if not user.is_authenticated or user.is_superuser:
        return posts
    readable = readable_posts_q(user)
    if placeholders:
        readable |= Q(moderation=ModerationState.HIDDEN)
    return posts.filter(readable)


def post_list(user, *, placeholders: bool = False):
    """Visible posts with their author and ``helpful_count``: one query, whatever the nesting."""

    return (
        visible_posts(user, placeholders=placeholders)
        .select_related("author")
        .annotate(helpful_count=helpful_count("post"))
        .order_by("created_at", "pk")
    )


def post_rows(ids: QuerySet) -> QuerySet[Post]:
    """The posts whose ids ``ids`` gives (a subquery of ``post_list``'s rows, so already
    chosen by the visibility rule) with what the API's list shows of each: for a page whose
    rows are chosen first and read in full after (``CursorPagination``)."""
    return as_lists(
        Post.objects.filter(pk__in=ids)
        .select_related("thread", "author")
        .annotate(helpful_count=helpful_count("post"))
        .prefetch_related("mentions")
    )


def thread_page(
    user, thread, *, per_page: int, number: int | str | None = None, post: int | str | None = None
) -> tuple[list[Post], Page]:
    """One page of a thread: top-level posts, oldest first, each with all its replies
    (``children``, oldest first, and ``depth``), so a reply is always on its parent's page;
    a page takes top-level posts until it holds ``per_page`` posts or more (one long
    conversation may fill a page of its own).

    The page is the one holding post ``post`` when ``user`` sees it (a link to a post lands on
    its page), else page ``number`` (the first when it is not a page). Two queries: the
    thread's shape (ids only), then the page's posts in full. Returns the page's top-level
    posts and the ``Page`` (whose one item is the page's top-level post ids) for its links.
    """
    posts = post_list(user, placeholders=True).filter(thread=thread)
    shape = list(posts.values_list("pk", "parent_id"))
    seen = {pk for pk, _ in shape}
    replies: dict[int, list[int]] = {}
    roots = []
    for pk, parent_id in shape:
        # A reply whose parent this user may not see stands as a top-level post.
        if parent_id in seen:
            replies.setdefault(parent_id, []).append(pk)
        else:
            roots.append(pk)
    groups: list[list[int]] = [[]]
    size = 0
    page_of: dict[int, int] = {}
    for root in roots:
        if size >= per_page:
            groups.append([])
            size = 0
        groups[-1].append(root)
        stack = [root]
        while stack:
            pk = stack.pop()
            page_of[pk] = len(groups)
            size += 1
            stack.extend(replies.get(pk, ()))
    if post is not None and str(post).isdigit():
        number = page_of.get(int(post), number)
    # One group of top-level posts per page: the Paginator numbers them and makes the links.
    page = Paginator(groups, 1).get_page(number)
    wanted = []
    stack = list(page.object_list[0])
    while stack:
        pk = stack.pop()
        wanted.append(pk)
        stack.extend(replies.get(pk, ()))
    shown = list(posts.filter(pk__in=wanted)) if wanted else []
    by_id = {row.pk: row for row in shown}
    for row in shown:
        row.children = []
    top = []
    for row in shown:
        parent = by_id.get(row.parent_id)
        if parent is None:
            top.append(row)
        else:
            parent.children.append(row)
    # Depth without recursion: a few hundred nested posts must not hit Python's stack limit.
    stack_depth = [(row, 0) for row in top]
    while stack_depth:
        row, depth = stack_depth.pop()
        row.depth = depth
        stack_depth.extend((child, depth + 1) for child in row.children)
    return top, page


# -- assignments ----------------------------------------------------------------------------


def visible_assignments(user):
    """The assignments of the courses ``user`` may see."""
    from annotations.models import Assignment

    return Assignment.objects.filter(course__in=courses_for_user(user))


def assignment_list(user):
    """Visible assignments with their course and scope, by due date."""
    return (
        visible_assignments(user)
        .select_related("course", "course__reading")
        .prefetch_related("sections", "claims")
        .order_by("due_at", "pk")
    )


def assignment_for_user(user, pk: int | str):
    """One assignment of a course the user may see; missing and forbidden are the same 404."""
    return _assignment_or_404(assignment_list(user), pk)


def assignment_for_report(user, pk: int | str):
    """``assignment_for_user`` for the progress and grades reports: with its course and all
    its scope needs — the reading's stamp (``reading_stamp``) and the ids of its chosen
    sections and claims (not the reading, nor those sections and claims themselves).

    On PostgreSQL in one query (the ids as arrays, ``chosen_section_ids`` and
    ``chosen_claim_ids``); elsewhere the ids come in a query each."""
    from annotations.models import Assignment, Section

    assignments = (
        visible_assignments(user)
        .select_related("course")
        .annotate(reading_stamp=F("course__reading__updated_at"))
    )
    if connections[assignments.db].vendor == "postgresql":
        from django.contrib.postgres.expressions import ArraySubquery

        chosen = {"assignment_id": OuterRef("pk")}
        assignments = assignments.annotate(
            chosen_section_ids=ArraySubquery(
                Assignment.sections.through.objects.filter(**chosen).values("section_id")
            ),
            chosen_claim_ids=ArraySubquery(
                Assignment.claims.through.objects.filter(**chosen).values("claim_id")
            ),
        )
    else:
        assignments = assignments.prefetch_related(
            Prefetch("sections", queryset=Section.objects.only("pk").order_by()),
            Prefetch("claims", queryset=Claim.objects.only("pk").order_by()),
        )
    return _assignment_or_404(assignments, pk)


def _assignment_or_404(assignments: QuerySet, pk: int | str):
    from annotations.models import Assignment

    try:
        return assignments.get(pk=int(pk))
    except (Assignment.DoesNotExist, ValueError, TypeError):
        raise Http404("No such assignment.") from None


def student_of_course(course: Course, user_id: int | str):
    """A student of the course (the user), or a 404."""
    try:
        return memberships_for_course(course).get(user_id=int(user_id), role=Role.STUDENT).user
    except (Membership.DoesNotExist, ValueError, TypeError):
        raise Http404("No such student in this course.") from None


# -- anonymity ---------------------------------------------------------------------------


def shown_author(user, work) -> str | None:
    """The username of an annotation's or a challenge's author as ``user`` may see it:
    ``None`` for a classmate's work made for an anonymous assignment."""
    from annotations.permissions import can_see_author

    return work.author.get_username() if can_see_author(user, work) else None


def authored_by(user, rows: QuerySet, username: str) -> QuerySet:
    """``rows`` by the author ``username``, leaving out what ``user`` may not attribute to
    them (a classmate's anonymous work), so a filter by author reveals no one."""
    rows = rows.filter(author__username=username)
    if user.is_superuser:
        return rows
    taught = Membership.objects.filter(user=user, role__in=[Role.TA, Role.INSTRUCTOR]).values("course")
    return rows.exclude(Q(anonymous_to_peers=True) & ~Q(author=user) & ~Q(course__in=taught))


# -- moderation ------------------------------------------------------------------------------


def moderated_courses(user) -> QuerySet[Course]:
    """The courses whose review queue ``user`` reads: those they teach; every course for site staff."""
    if not user.is_authenticated:
        return Course.objects.none()
    if user.is_superuser:
        return Course.objects.all()
    taught = Membership.objects.filter(user=user, role__in=[Role.TA, Role.INSTRUCTOR])
    return Course.objects.filter(pk__in=taught.values("course"))


def moderation_queue(user):
    """The items of the queues ``user`` moderates, most flagged and oldest first, with their
    work, people and flags (with their flaggers): a fixed number of queries however many rows."""
    from annotations.models import ModerationItem

    return _with_queue_extras(ModerationItem.objects.filter(course__in=moderated_courses(user))).order_by(
        "-flag_count", "opened_at", "pk"
    )


def queue_item_rows(ids) -> QuerySet:
    """The review queue's items whose ids ``ids`` gives (chosen from ``moderation_queue``'s
    rows, so already the asker's to moderate) with what the API's list shows of each: for a
    page whose rows are chosen first and read in full after (``CursorPagination``)."""
    from annotations.models import Flag, ModerationItem

    # Its people and its work, not the course (the list names it by id) nor a post's thread
    # or a challenge's claim, and of them only the columns shown; the flags as a plain list.
    flags = _queue_flags().only(*_own_columns(Flag), "flagger__username")
    shown = (
        ModerationItem.objects.filter(pk__in=ids)
        .select_related(*_QUEUE_SHOWN)
        .only(*_own_columns(ModerationItem), *_QUEUE_SHOWN_COLUMNS)
        .prefetch_related(Prefetch("flags", flags))
    )
    return as_lists(shown)


def _own_columns(model) -> list[str]:
    """The names of ``model``'s own columns, for ``only``."""
    return [field.attname for field in model._meta.concrete_fields]


# What a queue item shows besides itself: its course and people, and its work (one of them).
_QUEUE_PEOPLE = ["course", "author", "last_action_by"]
_QUEUE_WORK = ["annotation", "post__thread", "challenge__claim", "source"]
# What the API shows of them (``QueueItemSerializer``): names, the work's state and excerpt.
_QUEUE_SHOWN = ["author", "last_action_by", "annotation", "post", "challenge", "source"]
_QUEUE_SHOWN_COLUMNS = [
    "author__username", "last_action_by__username",
    *[f"{kind}__{column}" for kind in MODERATED_KINDS for column in ("moderation", "moderation_reason")],
    "annotation__body", "annotation__exact", "post__body", "challenge__argument", "source__title", "source__key",
]  # fmt: skip


def _with_queue_extras(items: QuerySet) -> QuerySet:
    """Queue ``items`` with their work, people and flags (with their flaggers)."""
    return items.select_related(*_QUEUE_PEOPLE, *_QUEUE_WORK).prefetch_related(
        Prefetch("flags", _queue_flags())
    )


def _queue_flags() -> QuerySet:
    """An item's flags as the queue shows them, oldest first, with their flaggers."""
    from annotations.models import Flag

    return Flag.objects.select_related("flagger").order_by("created_at", "pk")


def flags_for_user(user):
    """The flags ``user`` raised, and every flag of the courses they moderate."""
    from annotations.models import Flag

    if not user.is_authenticated:
        return Flag.objects.none()
    rows = _with_flag_extras(Flag.objects.all()).order_by("-created_at", "-pk")
    if user.is_superuser:
        return rows
    return rows.filter(Q(flagger=user) | Q(item__course__in=moderated_courses(user)))


def flag_rows(ids) -> QuerySet:
    """The flags whose ids ``ids`` gives (chosen from ``flags_for_user``'s rows) with what the
    API's list shows of each: for a page whose rows are chosen first and read in full after
    (``CursorPagination``)."""
    from annotations.models import Flag

    return _with_flag_extras(Flag.objects.filter(pk__in=ids))


def _with_flag_extras(flags: QuerySet) -> QuerySet:
    """``flags`` with their item (and its source) and flagger."""
    return flags.select_related("item", "item__source", "flagger")


def moderation_item_for(user, pk):
    """One item of a queue ``user`` moderates: a 404 unless they see its course, a 403 when
    they are a member who may not moderate it."""
    from django.core.exceptions import PermissionDenied

    from annotations.models import ModerationItem
    from annotations.permissions import can_moderate, can_view_course
    from annotations.services.moderation import NOT_STAFF

    try:
        item = ModerationItem.objects.select_related("course").get(pk=int(pk))
    except (ModerationItem.DoesNotExist, ValueError, TypeError):
        raise Http404("No such item in a queue you moderate.") from None
    if not can_view_course(user, item.course):
        raise Http404("No such item in a queue you moderate.")
    if not can_moderate(user, item.course_id):
        raise PermissionDenied(NOT_STAFF)
    # Allowed: read in full, without asking the queue's rule again. An item is one kind of
    # work, which comes by primary key in a query of its kind rather than from four outer
    # joins: with the rest they cost PostgreSQL's planner 11 ms at a million notes.
    one = _with_queue_extras(ModerationItem.objects.filter(pk=item.pk))
    return lean_joins(one, _QUEUE_PEOPLE, _QUEUE_WORK).get()


def course_has_work(course: Course) -> bool:
    """Whether anything has been made in ``course`` yet — an annotation, a challenge, a
    discussion thread or an assignment, whoever may see it — in one query. Until then the
    course's page says what each role can do first."""
    from annotations.models import Assignment, Challenge, Thread

    made_here = [
        Exists(model.objects.filter(course=OuterRef("pk")))
        for model in (Annotation, Challenge, Thread, Assignment)
    ]
    return Course.objects.filter(
        made_here[0] | made_here[1] | made_here[2] | made_here[3], pk=course.pk
    ).exists()
