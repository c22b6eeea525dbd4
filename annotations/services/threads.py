"""Writes for discussion threads, their posts and "helpful" reactions."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from annotations import permissions, selectors
from annotations.markdown import render
from annotations.models import (
    Annotation,
    Course,
    CourseGroup,
    Post,
    PostRevision,
    Reaction,
    Thread,
    ThreadVisit,
)
from annotations.models.discussion import NotificationKind
from annotations.models.moderated import ModerationState
from annotations.services.moderation import hold, premoderated
from annotations.services.notifications import MENTIONED, REPLIED, notify

NOT_A_MEMBER = _("Only members of this course can discuss in it.")
NOT_YOUR_GROUP = _("You can open a thread only in your own group or for the whole course.")
GROUP_ELSEWHERE = _("This group is not part of the course.")
TARGET_ELSEWHERE = _("What the thread is about must belong to this course.")
ONE_TARGET = _("A thread is about one thing at most.")
CANNOT_POST = _("You cannot post in this thread.")
LOCKED = _("This thread is locked: no new posts.")
PARENT_ELSEWHERE = _("You can only reply to a post of the same thread.")
EMPTY_POST = _("Write something to post.")
NOT_YOURS = _("Only the author can change or delete this.")
NOT_STAFF = _("Only the course's TAs and instructors can do this.")
MENTION = re.compile(r"(?<![\w@])@([\w.+-]{1,150})")


def _thread_url(thread: Thread, post: Post | None = None) -> str:
    url = reverse("threads:detail", args=[thread.course_id, thread.pk])
    # Threads are paged: the query opens the page that holds the post.
    return f"{url}?post={post.pk}#post-{post.pk}" if post else url


def thread_create(
    *,
    user,
    course: Course,
    title: str,
    body: str,
    group: CourseGroup | None = None,
    claim=None,
    event=None,
    annotation: Annotation | None = None,
    challenge=None,
) -> Thread:
    """Open a thread with its first post. Students open threads in their own group or for
    the whole course; the course's staff in any group of it."""
    membership = permissions.membership_of(user, course)
    staff = permissions.can_teach(user, course)
    if membership is None and not staff:
        raise PermissionDenied(NOT_A_MEMBER)
    if group is not None:
        if group.course_id != course.pk:
            raise ValidationError({"group": GROUP_ELSEWHERE})
        if not staff and (membership is None or membership.group_id != group.pk):
            raise ValidationError({"group": NOT_YOUR_GROUP})
    targets = [t for t in (claim, event, annotation, challenge) if t is not None]
    if len(targets) > 1:
        raise ValidationError(ONE_TARGET)
    if claim is not None and claim.paragraph.document_id != course.reading_id:
        raise ValidationError({"claim": TARGET_ELSEWHERE})
    if (
        annotation is not None
        and not selectors.visible_annotations(user).filter(pk=annotation.pk, course=course).exists()
    ):
        raise ValidationError({"annotation": TARGET_ELSEWHERE})
    if (
        challenge is not None
        and not selectors.visible_challenges(user).filter(pk=challenge.pk, course=course).exists()
    ):
        raise ValidationError({"challenge": TARGET_ELSEWHERE})
    if not (body or "").strip():
        raise ValidationError({"body": EMPTY_POST})
    with transaction.atomic():
        thread = Thread(
            course=course, group=group, author=user, title=(title or "").strip(),
            claim=claim, event=event, annotation=annotation, challenge=challenge,
        )  # fmt: skip
        thread.full_clean()
        thread.save()
        post_create(user=user, thread=thread, body=body)
    return thread


def mention_candidates(*, user, course: Course, prefix: str = "", limit: int = 10) -> list[str]:
    """Usernames of the course's members starting with ``prefix``, for autocompletion;
    nothing for someone outside the course."""
    if not permissions.can_view_course(user, course):
        return []
    users = get_user_model().objects.filter(
        memberships__course=course, username__istartswith=prefix.lstrip("@")
    )
    return list(users.order_by("username").values_list("username", flat=True).distinct()[:limit])


def _mentioned(thread: Thread, body: str) -> list:
    """Members of the thread's course, named with ``@username``, who can see the thread."""
    names = {name.rstrip(".") for name in MENTION.findall(body)}
    if not names:
        return []
    users = (
        get_user_model()
        .objects.filter(username__in=names, memberships__course_id=thread.course_id)
        .distinct()
    )
    return [u for u in users if permissions.can_view_thread(u, thread)]


def post_create(*, user, thread: Thread, body: str, parent: Post | None = None) -> Post:
    """Post in a thread (or reply to one of its posts); mentioned members and the parent's
    author are notified."""
    if not permissions.can_view_thread(user, thread) or (
        permissions.membership_of(user, thread.course_id) is None and not user.is_superuser
    ):
        raise PermissionDenied(CANNOT_POST)
    if thread.locked:
        raise ValidationError(LOCKED)
    if parent is not None and parent.thread_id != thread.pk:
        raise ValidationError({"parent": PARENT_ELSEWHERE})
    if not (body or "").strip():
        raise ValidationError({"body": EMPTY_POST})
    waits = premoderated(user=user, course=thread.course, kind="post", thread=thread)
    with transaction.atomic():
        post = Post(thread=thread, parent=parent, author=user, body=body, body_html=render(body))
        if waits:
            post.moderation = ModerationState.PENDING
        post.full_clean()
        post.save()
        post.mentions.set(_mentioned(thread, body))
        if waits:
            # Nobody hears of it, and the thread does not move, until staff approve it.
            hold(post)
        else:
            notify_post(post)
    return post


def notify_post(post: Post) -> None:
    """What a published post does: the thread moves, the mentioned members and the parent's
    author are notified (for a post that waited for approval, when it is approved)."""
    thread, user = post.thread, post.author
    # Only forwards: of replies committing at once (or a post approved late), an earlier post
    # must not put the thread's last activity back over a later one.
    Thread.objects.filter(pk=thread.pk).filter(
        Q(last_post_at__isnull=True) | Q(last_post_at__lt=post.created_at)
    ).update(last_post_at=post.created_at)
    thread.last_post_at = max(filter(None, [thread.last_post_at, post.created_at]))
    mentioned = list(post.mentions.all())
    url = _thread_url(thread, post)
    for member in mentioned:
        notify(
            recipient=member, kind=NotificationKind.MENTION, actor=user, course=thread.course,
            message=MENTIONED, params={"user": user.username, "thread": thread.title}, url=url,
        )  # fmt: skip
    parent = post.parent
    if parent is not None and parent.deleted_at is None and parent.author not in mentioned:
        notify(
            recipient=parent.author, kind=NotificationKind.REPLY, actor=user, course=thread.course,
            message=REPLIED, params={"user": user.username, "thread": thread.title}, url=url,
        )  # fmt: skip


def post_edit(*, user, post: Post, body: str) -> Post:
    """Change your post; the old text is kept as a revision and the post is marked edited."""
    if not permissions.can_change_post(user, post):
        raise PermissionDenied(NOT_YOURS)
    if not (body or "").strip():
        raise ValidationError({"body": EMPTY_POST})
    if body == post.body:
        return post
    with transaction.atomic():
        PostRevision.objects.create(post=post, body=post.body)
        post.body = body
        post.body_html = render(body)
        post.edited_at = timezone.now()
        post.full_clean()
        post.save()
    return post


def post_delete(*, user, post: Post) -> Post:
    """Delete your post: it stays as a tombstone so that its replies keep their place."""
    if not permissions.can_change_post(user, post):
        raise PermissionDenied(NOT_YOURS)
    post.deleted_at = timezone.now()
    post.save(update_fields=["deleted_at", "updated_at"])
    return post


def _moderate(user, thread: Thread) -> None:
    if not permissions.can_moderate_thread(user, thread):
        raise PermissionDenied(NOT_STAFF)


def thread_pin(*, user, thread: Thread, pinned: bool = True) -> Thread:
    _moderate(user, thread)
    thread.pinned = pinned
    thread.save(update_fields=["pinned"])
    return thread


def thread_lock(*, user, thread: Thread, locked: bool = True) -> Thread:
    _moderate(user, thread)
    thread.locked = locked
    thread.save(update_fields=["locked"])
    return thread


def thread_move(*, user, thread: Thread, group: CourseGroup | None) -> Thread:
    """Move a thread into one group of its course, or (``None``) to the whole course."""
    _moderate(user, thread)
    if group is not None and group.course_id != thread.course_id:
        raise ValidationError({"group": GROUP_ELSEWHERE})
    thread.group = group
    thread.save(update_fields=["group"])
    return thread


def _toggle(user, **target) -> bool:
    existing = Reaction.objects.filter(user=user, kind=Reaction.Kind.HELPFUL, **target)
    if existing.exists():
        existing.delete()
        return False
    try:
        with transaction.atomic():
            Reaction.objects.create(user=user, kind=Reaction.Kind.HELPFUL, **target)
    except IntegrityError:
        # A double click raced us: the reaction is there, once.
        pass
    return True


def reaction_toggle(*, user, post: Post | None = None, annotation: Annotation | None = None) -> bool:
    """Mark a post or an annotation helpful, or take the mark back; once per user.
    Returns whether the mark is now set."""
    if (post is None) == (annotation is None):
        raise ValidationError(_("React to one post or one annotation."))
    if post is not None:
        if not permissions.can_view_thread(user, post.thread) or post.deleted_at is not None:
            raise PermissionDenied(CANNOT_POST)
        return _toggle(user, post=post)
    if not selectors.visible_annotations(user).filter(pk=annotation.pk).exists():
        raise PermissionDenied(_("You cannot react to this annotation."))
    return _toggle(user, annotation=annotation)


def thread_mark_read(*, user, thread: Thread) -> None:
    """Remember that ``user`` has read ``thread`` up to now."""
    if not user.is_authenticated:
        return
    now = timezone.now()
    # One UPDATE on every visit after the first; on the first, one INSERT that a
    # simultaneous first visit cannot make fail.
    if not ThreadVisit.objects.filter(user=user, thread=thread).update(last_read_at=now):
        ThreadVisit.objects.bulk_create(
            [ThreadVisit(user=user, thread=thread, last_read_at=now)], ignore_conflicts=True
        )
