"""Writes for annotations and their replies."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from annotations import permissions
from annotations.anchoring import SelectorError, target_for
from annotations.markdown import render
from annotations.models import Annotation, AnnotationReply, Claim, Course, Paragraph, Tag
from annotations.models.annotation import Motivation, Visibility
from annotations.models.moderated import ModerationState
from annotations.services.assignments import is_anonymous_work
from annotations.services.moderation import hold, premoderated

NOT_A_MEMBER = _("Only members of this course can annotate in it.")
NOT_YOURS = _("Only the author can change or delete this.")
NOT_IN_READING = _("This paragraph is not part of the course's reading.")
CLAIM_ELSEWHERE = _("This claim is in another paragraph.")
CLAIM_OUTSIDE_SPAN = _("The selected text does not fall inside this claim's quote.")
NO_GROUP = _(
    "You are not in a group of this course, so you cannot share with a group: choose “only me” or “the whole course”."
)
EMPTY_REPLY = _("Write something to reply.")
CANNOT_REPLY = _("You cannot reply to this annotation.")
TOO_MANY_TAGS = _("Use at most 10 tags.")
TAG_TOO_LONG = _("A tag has at most 50 characters: “{tag}…” is longer.")
MAX_TAGS = 10


def clean_tags(tags: Iterable[str] | None) -> list[str]:
    """Tags lower-cased, trimmed, without repeats, in the order given."""
    cleaned: list[str] = []
    for tag in tags or []:
        tag = " ".join(str(tag).split()).lower().lstrip("#")
        if not tag or tag in cleaned:
            continue
        if len(tag) > 50:
            raise ValidationError({"tags": TAG_TOO_LONG.format(tag=tag[:20])})
        cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise ValidationError({"tags": TOO_MANY_TAGS})
    return cleaned


def _set_tags(annotation: Annotation, names: list[str]) -> None:
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=name) for name in names if name not in existing]
    Tag.objects.bulk_create(missing, ignore_conflicts=True)
    annotation.tags.set(Tag.objects.filter(name__in=names))


def annotation_create(
    *,
    user,
    course: Course,
    paragraph: Paragraph,
    exact: str | None = None,
    start: int | None = None,
    end: int | None = None,
    prefix: str | None = None,
    suffix: str | None = None,
    claim: Claim | None = None,
    motivation: str = Motivation.COMMENTING,
    tags: Iterable[str] | None = None,
    body: str = "",
    visibility: str = Visibility.PRIVATE,
    imported_from: str = "",
) -> Annotation:
    """Annotate a span of a paragraph of the course's reading.

    The span is checked against the paragraph's text (see ``anchoring.target_for``);
    a problem with it is a ``ValidationError`` on the field at fault.
    """
    membership = permissions.membership_of(user, course)
    if membership is None:
        raise PermissionDenied(NOT_A_MEMBER)
    if paragraph.document_id != course.reading_id:
        raise ValidationError({"paragraph": NOT_IN_READING})
    try:
        target = target_for(paragraph.text, exact=exact, start=start, end=end, prefix=prefix, suffix=suffix)
    except SelectorError as error:
        raise ValidationError({error.field: error.message}) from None
    if claim is not None:
        if claim.paragraph_id != paragraph.pk:
            raise ValidationError({"claim": CLAIM_ELSEWHERE})
        if target.end <= claim.start or target.start >= claim.end:
            raise ValidationError({"claim": CLAIM_OUTSIDE_SPAN})
    group = None
    if visibility == Visibility.GROUP:
        if membership.group_id is None:
            raise ValidationError({"visibility": NO_GROUP})
        group = membership.group
    names = clean_tags(tags)
    annotation = Annotation(
        course=course,
        author=user,
        group=group,
        document_id=paragraph.document_id,
        paragraph=paragraph,
        paragraph_anchor=paragraph.anchor,
        claim=claim,
        exact=target.exact,
        prefix=target.prefix,
        suffix=target.suffix,
        start=target.start,
        end=target.end,
        motivation=motivation,
        body=body,
        body_html=render(body),
        visibility=visibility,
        imported_from=imported_from,
        anonymous_to_peers=is_anonymous_work(
            course=course, kind="annotation", paragraph_id=paragraph.pk, claim_id=claim.pk if claim else None
        ),
    )
    waits = premoderated(
        user=user,
        course=course,
        kind="annotation",
        paragraph_id=paragraph.pk,
        claim_id=claim.pk if claim else None,
    )
    if waits:
        annotation.moderation = ModerationState.PENDING
    annotation.full_clean(exclude=["course", "author", "document", "paragraph", "group", "claim"])
    with transaction.atomic():
        annotation.save()
        _set_tags(annotation, names)
        if waits:
            hold(annotation)
    return annotation


def annotation_update(
    *,
    user,
    annotation: Annotation,
    body: str | None = None,
    tags: Iterable[str] | None = None,
    motivation: str | None = None,
    visibility: str | None = None,
) -> Annotation:
    """The author changes their annotation; what students see changed is marked "edited"."""
    if not permissions.can_change_annotation(user, annotation):
        raise PermissionDenied(NOT_YOURS)
    changed_content = False
    if body is not None and body != annotation.body:
        annotation.body, annotation.body_html = body, render(body)
        changed_content = True
    if motivation is not None and motivation != annotation.motivation:
        annotation.motivation = motivation
        changed_content = True
    if visibility is not None and visibility != annotation.visibility:
        annotation.group = None
        if visibility == Visibility.GROUP:
            membership = permissions.membership_of(user, annotation.course_id)
            if membership is None or membership.group_id is None:
                raise ValidationError({"visibility": NO_GROUP})
            annotation.group = membership.group
        annotation.visibility = visibility
    names = clean_tags(tags) if tags is not None else None
    if names is not None and names != [t.name for t in annotation.tags.all()]:
        changed_content = True
    if changed_content:
        annotation.edited_at = timezone.now()
    annotation.full_clean(exclude=["course", "author", "document", "paragraph", "group", "claim"])
    with transaction.atomic():
        annotation.save()
        if names is not None:
            _set_tags(annotation, names)
    return annotation


def annotation_delete(*, user, annotation: Annotation) -> Annotation:
    """The author deletes their annotation: it becomes a tombstone that keeps its replies."""
    if not permissions.can_change_annotation(user, annotation):
        raise PermissionDenied(NOT_YOURS)
    annotation.deleted_at = timezone.now()
    annotation.save(update_fields=["deleted_at", "updated_at"])
    return annotation


def reply_create(*, user, annotation: Annotation, body: str) -> AnnotationReply:
    if not permissions.can_reply(user, annotation):
        raise PermissionDenied(CANNOT_REPLY)
    if not body.strip():
        raise ValidationError({"body": EMPTY_REPLY})
    return AnnotationReply.objects.create(
        annotation=annotation, author=user, body=body, body_html=render(body)
    )


def reply_update(*, user, reply: AnnotationReply, body: str) -> AnnotationReply:
    if not permissions.can_change_reply(user, reply):
        raise PermissionDenied(NOT_YOURS)
    if not body.strip():
        raise ValidationError({"body": EMPTY_REPLY})
    if body != reply.body:
        reply.body, reply.body_html, reply.edited_at = body, render(body), timezone.now()
        reply.save(update_fields=["body", "body_html", "edited_at", "updated_at"])
    return reply


def reply_delete(*, user, reply: AnnotationReply) -> AnnotationReply:
    if not permissions.can_change_reply(user, reply):
        raise PermissionDenied(NOT_YOURS)
    reply.deleted_at = timezone.now()
    reply.save(update_fields=["deleted_at", "updated_at"])
    return reply
