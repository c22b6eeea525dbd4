"""Discussion threads, their posts and reactions, and the notifications they raise."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from annotations.models.annotation import Annotation
from annotations.models.challenges import Challenge
from annotations.models.courses import Course, CourseGroup
from annotations.models.moderated import Moderated
from annotations.models.reading import Claim
from timeline.models import Event


class Thread(models.Model):
    """A discussion in a course, or in one group of it, about a claim, an event, an
    annotation or a challenge — or about nothing in particular."""

    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="threads", verbose_name=_("course")
    )
    group = models.ForeignKey(
        CourseGroup, on_delete=models.PROTECT, null=True, blank=True, related_name="threads",
        help_text=_("Empty: the whole course takes part."), verbose_name=_("group"),
    )  # fmt: skip
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="threads", verbose_name=_("author")
    )
    title = models.CharField(max_length=200, verbose_name=_("title"))
    claim = models.ForeignKey(
        Claim,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="threads",
        verbose_name=_("claim"),
    )
    event = models.ForeignKey(
        Event,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="threads",
        verbose_name=_("event"),
    )
    annotation = models.ForeignKey(
        Annotation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="threads",
        verbose_name=_("annotation"),
    )
    challenge = models.ForeignKey(
        Challenge,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="threads",
        verbose_name=_("challenge"),
    )
    pinned = models.BooleanField(default=False, verbose_name=_("pinned"))
    locked = models.BooleanField(default=False, verbose_name=_("locked"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    last_post_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last post at"))

    class Meta:
        verbose_name = _("thread")
        verbose_name_plural = _("threads")
        ordering = ["-pinned", "-last_post_at", "-created_at"]
        indexes = [models.Index(fields=["course", "group"], name="thread_course_group_idx")]
        constraints = [
            # At most one target.
            models.CheckConstraint(
                condition=(
                    Q(claim__isnull=True, event__isnull=True, annotation__isnull=True, challenge__isnull=True)
                    | Q(
                        claim__isnull=False,
                        event__isnull=True,
                        annotation__isnull=True,
                        challenge__isnull=True,
                    )
                    | Q(
                        claim__isnull=True,
                        event__isnull=False,
                        annotation__isnull=True,
                        challenge__isnull=True,
                    )
                    | Q(
                        claim__isnull=True,
                        event__isnull=True,
                        annotation__isnull=False,
                        challenge__isnull=True,
                    )
                    | Q(
                        claim__isnull=True,
                        event__isnull=True,
                        annotation__isnull=True,
                        challenge__isnull=False,
                    )
                ),
                name="thread_at_most_one_target",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Post(Moderated):
    """A post in a thread; ``parent`` makes it a reply, to any depth."""

    thread = models.ForeignKey(
        Thread, on_delete=models.PROTECT, related_name="posts", verbose_name=_("thread")
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replies",
        verbose_name=_("parent"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="posts", verbose_name=_("author")
    )
    body = models.TextField(help_text=_("Markdown."), verbose_name=_("body"))
    body_html = models.TextField(blank=True, editable=False, verbose_name=_("body (HTML)"))
    mentions = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="mentioned_in", blank=True, verbose_name=_("mentions")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    edited_at = models.DateTimeField(null=True, blank=True, verbose_name=_("edited at"))
    deleted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("deleted at"))

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["thread", "created_at", "pk"]
        # A thread's posts in order; the included columns let a course's posts (the API's
        # list: every visible post of the course sorted to cut a page) be read from the index.
        indexes = [
            models.Index(
                fields=["thread", "created_at"],
                include=["id", "moderation", "author"],
                name="post_thread_page_idx",
            )
        ]
        constraints = [models.CheckConstraint(condition=~Q(body=""), name="post_body_not_empty")]

    def __str__(self) -> str:
        return gettext("%(author)s in %(id)s") % {"author": self.author, "id": self.thread_id}


class PostRevision(models.Model):
    """The text a post had before an edit: edits keep their history."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("post"))
    body = models.TextField(verbose_name=_("body"))
    replaced_at = models.DateTimeField(auto_now_add=True, verbose_name=_("replaced at"))

    class Meta:
        verbose_name = _("post revision")
        verbose_name_plural = _("post revisions")
        ordering = ["post", "replaced_at", "pk"]

    def __str__(self) -> str:
        return gettext("Revision of post %(id)s") % {"id": self.post_id}


class Reaction(models.Model):
    """A "helpful" mark on a post or an annotation; one per user and item."""

    class Kind(models.TextChoices):
        HELPFUL = "helpful", _("helpful")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reactions", verbose_name=_("user")
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.HELPFUL, verbose_name=_("kind"))
    post = models.ForeignKey(
        Post,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reactions",
        verbose_name=_("post"),
    )
    annotation = models.ForeignKey(
        Annotation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reactions",
        verbose_name=_("annotation"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("reaction")
        verbose_name_plural = _("reactions")
        constraints = [
            models.CheckConstraint(
                condition=Q(post__isnull=False, annotation__isnull=True)
                | Q(post__isnull=True, annotation__isnull=False),
                name="reaction_one_target",
            ),
            models.UniqueConstraint(
                fields=["user", "kind", "post"],
                condition=Q(post__isnull=False),
                name="reaction_once_per_post",
            ),
            models.UniqueConstraint(
                fields=["user", "kind", "annotation"],
                condition=Q(annotation__isnull=False),
                name="reaction_once_per_annotation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} finds {'post ' + str(self.post_id) if self.post_id else 'annotation ' + str(self.annotation_id)} {self.kind}"


class NotificationKind(models.TextChoices):
    REPLY = "reply", _("replies to my posts")
    MENTION = "mention", _("mentions of me")
    CHALLENGE_RESOLVED = "challenge_resolved", _("my challenges resolved")
    LINK_DECIDED = "link_decided", _("my link proposals decided")
    MODERATION = "moderation", _("moderation of my content")
    GRADE_RELEASED = "grade_released", _("my grades released")


class Delivery(models.TextChoices):
    IN_APP = "in_app", _("in the app only")
    EMAIL = "email", _("in the app and by e-mail")
    DIGEST = "digest", _("in the app and in a daily e-mail digest")


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(max_length=30, choices=NotificationKind.choices, verbose_name=_("kind"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=pgettext_lazy("the person who acted", "actor"),
    )
    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("course")
    )
    # In English, as it was said when it happened: for the admin, and for rows without a message.
    text = models.CharField(max_length=300, verbose_name=_("text"))
    # The sentence in the source language (a msgid of the catalogue) and what fills its
    # placeholders: each reader sees it in their own language, whenever they read it.
    message = models.CharField(max_length=300, blank=True, verbose_name=_("message"))
    params = models.JSONField(default=dict, blank=True, verbose_name=_("params"))
    url = models.CharField(max_length=500, verbose_name=_("URL"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    read_at = models.DateTimeField(null=True, blank=True, verbose_name=_("read at"))
    emailed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("emailed at"))

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.text}"

    @property
    def display_text(self) -> str:
        """The notification in the language active now (the stored English text for old rows)."""
        if not self.message:
            return self.text
        try:
            return (gettext(self.message) % self.params)[:300]
        except (KeyError, TypeError, ValueError):
            return self.text


class LanguagePreference(models.Model):
    """The language a user last chose or signed in with: their e-mails are written in it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="language_preference",
        verbose_name=_("user"),
    )
    language = models.CharField(max_length=10, choices=settings.LANGUAGES, verbose_name=_("language"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("language preference")
        verbose_name_plural = _("language preferences")

    def __str__(self) -> str:
        return f"{self.user}: {self.language}"


class NotificationPreference(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
        verbose_name=_("user"),
    )
    kind = models.CharField(max_length=30, choices=NotificationKind.choices, verbose_name=_("kind"))
    delivery = models.CharField(
        max_length=10, choices=Delivery.choices, default=Delivery.IN_APP, verbose_name=_("delivery")
    )

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind} → {self.delivery}"


class ThreadVisit(models.Model):
    """When a user last read a thread: what came after is unread for them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="thread_visits",
        verbose_name=_("user"),
    )
    thread = models.ForeignKey(
        Thread, on_delete=models.CASCADE, related_name="visits", verbose_name=_("thread")
    )
    last_read_at = models.DateTimeField(verbose_name=_("last read at"))

    class Meta:
        verbose_name = _("thread visit")
        verbose_name_plural = _("thread visits")
        constraints = [models.UniqueConstraint(fields=["user", "thread"], name="thread_visit_unique")]

    def __str__(self) -> str:
        return f"{self.user} read {self.thread_id} at {self.last_read_at:%Y-%m-%d %H:%M}"
