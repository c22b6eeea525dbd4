"""Annotations students anchor to spans of the reading, and replies to them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from annotations.models.courses import Course, CourseGroup
from annotations.models.moderated import Moderated, ModerationState
from annotations.models.reading import Claim, Document, Paragraph


class Tag(models.Model):
    """A free label on annotations, stored lower-case."""

    name = models.CharField(max_length=50, unique=True, verbose_name=_("name"))

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Visibility(models.TextChoices):
    PRIVATE = "private", _("only me")
    GROUP = "group", _("my group")
    COURSE = "course", _("the whole course")


class Motivation(models.TextChoices):
    """A subset of the W3C Web Annotation motivations."""

    COMMENTING = "commenting", _("commenting")
    QUESTIONING = "questioning", _("questioning")
    HIGHLIGHTING = "highlighting", _("highlighting")
    TAGGING = "tagging", _("tagging")
    DESCRIBING = "describing", _("describing")
    ASSESSING = "assessing", _("assessing")
    LINKING = "linking", _("linking")


class Annotation(Moderated):
    """A note on a span of a paragraph, inside a course.

    The span is kept as a W3C TextQuoteSelector (``exact``, ``prefix``, ``suffix``) and a
    TextPositionSelector (``start``, ``end``) against the paragraph's text, so it can be
    found again by its quote if the text changes. The paragraph link survives the
    paragraph (``paragraph_anchor`` remembers where it was); deleting by the author
    leaves a tombstone (``deleted_at``), never a gap.
    """

    Visibility = Visibility
    Motivation = Motivation

    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="annotations", verbose_name=_("course")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="annotations",
        verbose_name=_("author"),
        # Indexed by annotation_author_course_idx and annotation_author_idx, which lead with it.
        db_index=False,
    )
    group = models.ForeignKey(
        CourseGroup,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="annotations",
        help_text=_("For group visibility: the author's group when they wrote it."),
        verbose_name=_("group"),
    )
    document = models.ForeignKey(
        Document, on_delete=models.PROTECT, related_name="annotations", verbose_name=_("document")
    )
    paragraph = models.ForeignKey(
        Paragraph,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="annotations",
        verbose_name=_("paragraph"),
    )
    paragraph_anchor = models.CharField(max_length=40, verbose_name=_("paragraph anchor"))
    claim = models.ForeignKey(
        Claim,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="annotations",
        verbose_name=_("claim"),
    )
    exact = models.TextField(verbose_name=_("exact"))
    prefix = models.CharField(max_length=64, blank=True, verbose_name=_("prefix"))
    suffix = models.CharField(max_length=64, blank=True, verbose_name=_("suffix"))
    start = models.PositiveIntegerField(verbose_name=_("start"))
    end = models.PositiveIntegerField(verbose_name=_("end"))
    motivation = models.CharField(
        max_length=20, choices=Motivation.choices, default=Motivation.COMMENTING, verbose_name=_("motivation")
    )
    tags = models.ManyToManyField(Tag, related_name="annotations", blank=True, verbose_name=_("tags"))
    body = models.TextField(blank=True, help_text=_("Markdown."), verbose_name=_("body"))
    body_html = models.TextField(blank=True, editable=False, verbose_name=_("body (HTML)"))
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE, verbose_name=_("visibility")
    )
    imported_from = models.CharField(
        max_length=300,
        blank=True,
        help_text=_("Where an imported annotation came from."),
        verbose_name=_("imported from"),
    )
    anonymous_to_peers = models.BooleanField(
        default=False,
        editable=False,
        help_text=_("Made for an anonymous assignment: classmates do not see who wrote it."),
        verbose_name=_("anonymous to peers"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    edited_at = models.DateTimeField(null=True, blank=True, verbose_name=_("edited at"))
    deleted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("deleted at"))

    class Meta:
        verbose_name = _("annotation")
        verbose_name_plural = _("annotations")
        ordering = ["document", "paragraph_anchor", "start", "created_at"]
        indexes = [
            models.Index(fields=["course", "visibility"], name="annotation_course_vis_idx"),
            models.Index(fields=["course", "paragraph"], name="annotation_course_para_idx"),
            models.Index(fields=["author", "created_at"], name="annotation_author_idx"),
            # A member's own notes in a course (the visibility rule's "or the author"), found
            # without a scan of the course's notes to intersect them with.
            models.Index(fields=["author", "course"], name="annotation_author_course_idx"),
            models.Index(fields=["created_at"], name="annotation_created_idx"),
            # A course's list, newest first, and its keyset pages (the API's default order).
            models.Index(fields=["course", "-created_at", "-id"], name="annotation_course_new_idx"),
            # A course's list in reading order, and its ``paragraph`` filter.
            models.Index(
                fields=["course", "paragraph_anchor", "start", "created_at", "id"],
                name="annotation_course_read_idx",
            ),
            # A paragraph's newest notes and their capped count, for the course's reading,
            # with every column the visibility rule reads: both come from the index alone.
            models.Index(
                fields=["course", "paragraph_anchor", "-created_at", "-id"],
                include=["author", "visibility", "moderation", "group", "deleted_at", "paragraph"],
                name="annotation_para_new_idx",
            ),
            # The notes that count toward an assignment (annotations.grading), a course's by
            # date, with every column its tallies read: the class table counts them from the
            # index alone.
            models.Index(
                fields=["course", "created_at"],
                include=["author", "paragraph", "claim"],
                condition=Q(deleted_at__isnull=True, moderation=ModerationState.PUBLISHED)
                & ~Q(visibility=Visibility.PRIVATE)
                & ~Q(body=""),
                name="annotation_counted_idx",
            ),
            # Every column the visibility rule reads, for a course's standing notes: counting
            # what a member may see (the W3C collection's total) reads the index alone.
            models.Index(
                fields=["course", "visibility", "moderation", "group", "author"],
                condition=Q(deleted_at__isnull=True),
                name="annotation_visible_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="annotation_span_not_empty"),
            models.CheckConstraint(
                condition=~Q(visibility=Visibility.GROUP) | Q(group__isnull=False),
                name="annotation_group_visibility_has_group",
            ),
            models.CheckConstraint(condition=~Q(exact=""), name="annotation_exact_not_empty"),
        ]

    def __str__(self) -> str:
        return gettext("%(author)s on %(paragraph)s: %(quote)s") % {
            "author": self.author, "paragraph": self.paragraph_anchor, "quote": self.exact[:40]
        }  # fmt: skip

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("annotate:reading", kwargs={"pk": self.course_id}) + f"#a-{self.pk}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class AnnotationReply(models.Model):
    """A reply in an annotation's thread; it is seen by whoever sees the annotation."""

    annotation = models.ForeignKey(
        Annotation, on_delete=models.PROTECT, related_name="replies", verbose_name=_("annotation")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="annotation_replies",
        verbose_name=_("author"),
    )
    body = models.TextField(help_text=_("Markdown."), verbose_name=_("body"))
    body_html = models.TextField(blank=True, editable=False, verbose_name=_("body (HTML)"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    edited_at = models.DateTimeField(null=True, blank=True, verbose_name=_("edited at"))
    deleted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("deleted at"))

    class Meta:
        verbose_name = _("annotation reply")
        ordering = ["annotation", "created_at", "pk"]
        verbose_name_plural = _("annotation replies")
        constraints = [models.CheckConstraint(condition=~Q(body=""), name="reply_body_not_empty")]
        # A class's replies inside an assignment's dates (the class table's counts) are
        # found per author and date, without reading every reply of the site.
        indexes = [models.Index(fields=["author", "created_at"], name="reply_author_created_idx")]

    def __str__(self) -> str:
        return gettext("%(author)s on annotation %(id)s") % {"author": self.author, "id": self.annotation_id}

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None
