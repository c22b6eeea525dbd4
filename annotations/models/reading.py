"""The reading as records: documents, sections, paragraphs, sources, claims and their links."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from annotations.citations import format_citation
from annotations.models.moderated import Moderated
from timeline.dates import (
    PartialDate,
    Precision,
    partial_display,
    partial_iso,
    periods_disagree,
)
from timeline.models import Actor, Event, key_validator

doi_validator = RegexValidator(
    r"^10\.\d{4,9}/\S+$", _("A DOI looks like 10.1234/abcd (without https://doi.org/).")
)


class Document(models.Model):
    """A reading: the text students work on."""

    slug = models.SlugField(max_length=100, unique=True, verbose_name=_("slug"))
    title = models.CharField(max_length=400, verbose_name=_("title"))
    authors = models.JSONField(default=list, blank=True, verbose_name=_("authors"))
    affiliation = models.TextField(blank=True, verbose_name=_("affiliation"))
    note = models.TextField(blank=True, verbose_name=_("note"))
    keywords = models.JSONField(default=list, blank=True, verbose_name=_("keywords"))
    language = models.CharField(max_length=10, default="en", verbose_name=_("language"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("annotations:reading", kwargs={"slug": self.slug})


class Section(models.Model):
    """A heading of the reading; subsections point at their parent."""

    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="sections", verbose_name=_("document")
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    key = models.SlugField(max_length=120, verbose_name=_("key"))
    title = models.CharField(max_length=400, verbose_name=_("title"))
    level = models.PositiveSmallIntegerField(default=1, verbose_name=_("level"))
    order = models.PositiveIntegerField(verbose_name=_("order"))

    class Meta:
        verbose_name = _("section")
        verbose_name_plural = _("sections")
        ordering = ["document", "order"]
        constraints = [
            models.UniqueConstraint(fields=["document", "key"], name="section_key_unique"),
            models.UniqueConstraint(fields=["document", "order"], name="section_order_unique"),
            models.CheckConstraint(condition=Q(level__gte=1), name="section_level_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return f"{self.document.get_absolute_url()}#{self.key}"


class Paragraph(models.Model):
    """One paragraph, verbatim, with a stable anchor (``p-<n>``)."""

    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="paragraphs", verbose_name=_("document")
    )
    section = models.ForeignKey(
        Section, on_delete=models.PROTECT, related_name="paragraphs", verbose_name=_("section")
    )
    anchor = models.SlugField(max_length=40, verbose_name=_("anchor"))
    order = models.PositiveIntegerField(verbose_name=_("order"))
    text = models.TextField(verbose_name=_("text"))

    class Meta:
        verbose_name = _("paragraph")
        verbose_name_plural = _("paragraphs")
        ordering = ["document", "order"]
        constraints = [
            models.UniqueConstraint(fields=["document", "anchor"], name="paragraph_anchor_unique"),
            models.UniqueConstraint(fields=["document", "order"], name="paragraph_order_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.anchor}: {self.text[:60]}"

    def get_absolute_url(self) -> str:
        return f"{self.document.get_absolute_url()}#{self.anchor}"


class Source(Moderated):
    """A bibliographic record; ``from_paper`` marks the ones the reading itself cites.

    A source without a ``course`` belongs to the reading and is public; one with a course
    was added by a member of that course and is seen only there (``selectors.visible_sources``).
    """

    class Kind(models.TextChoices):
        BOOK = "book", _("book")
        ARTICLE = "article", _("article")
        CHAPTER = "chapter", _("chapter")
        WEB = "web", _("web page")
        TREATY = "treaty", _("treaty or official document")
        NEWS = "news", _("news report")
        DATASET = "dataset", _("dataset")
        NOTE = "note", _("explanatory note")

    key = models.CharField(max_length=80, unique=True, validators=[key_validator], verbose_name=_("key"))
    kind = models.CharField(max_length=20, choices=Kind.choices, verbose_name=_("kind"))
    authors = models.JSONField(default=list, blank=True, verbose_name=_("authors"))
    year = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("year"))
    title = models.CharField(max_length=500, blank=True, verbose_name=_("title"))
    container = models.CharField(
        max_length=300, blank=True, help_text=_("Journal, newspaper or website."), verbose_name=_("container")
    )
    publisher = models.CharField(max_length=200, blank=True, verbose_name=_("publisher"))
    place = models.CharField(max_length=200, blank=True, verbose_name=_("place"))
    pages = models.CharField(max_length=50, blank=True, verbose_name=_("pages"))
    url = models.URLField(max_length=500, blank=True, verbose_name=_("URL"))
    doi = models.CharField(_("DOI"), max_length=200, blank=True, validators=[doi_validator])
    accessed = models.DateField(null=True, blank=True, verbose_name=_("accessed"))
    from_paper = models.BooleanField(default=False, verbose_name=_("from paper"))
    in_reference_list = models.BooleanField(default=False, verbose_name=_("in reference list"))
    raw = models.TextField(
        blank=True, help_text=_("The entry exactly as printed in the reading."), verbose_name=_("raw")
    )
    note = models.TextField(blank=True, verbose_name=_("note"))
    order = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Position in the printed list."), verbose_name=_("order")
    )
    course = models.ForeignKey(
        "annotations.Course",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sources",
        help_text=_("Empty for the reading's own sources, which everyone sees."),
        verbose_name=_("course"),
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        ordering = [F("order").asc(nulls_last=True), "key"]
        constraints = [
            models.CheckConstraint(
                condition=Q(in_reference_list=False) | Q(from_paper=True),
                name="source_listed_means_from_paper",
            ),
            # DOIs and URLs are stored normalised (``annotations.citations``), so equal
            # strings are the same work: one record per course, and one among the reading's.
            models.UniqueConstraint(
                fields=["course", "doi"],
                condition=Q(course__isnull=False) & ~Q(doi=""),
                name="source_doi_unique_in_course",
            ),
            models.UniqueConstraint(
                fields=["course", "url"],
                condition=Q(course__isnull=False) & ~Q(url=""),
                name="source_url_unique_in_course",
            ),
            models.UniqueConstraint(
                fields=["doi"],
                condition=Q(course__isnull=True) & ~Q(doi=""),
                name="source_doi_unique_in_reading",
            ),
        ]

    def __str__(self) -> str:
        return self.citation

    def get_absolute_url(self) -> str:
        return reverse("annotations:source-list") + f"#{self.key}"

    @property
    def citation(self) -> str:
        """The formatted author–date citation (see ``citations.format_citation``)."""
        return format_citation(self)

    @property
    def link(self) -> str:
        """Where to read it: the DOI's resolver address, else the URL, else nothing."""
        return f"https://doi.org/{self.doi}" if self.doi else self.url


class Claim(models.Model):
    """One proposition of the reading, anchored to a verbatim span of a paragraph."""

    class Kind(models.TextChoices):
        FACTUAL = "factual", _("factual")
        CAUSAL = "causal", _("causal")
        INTERPRETIVE = "interpretive", _("interpretive")
        NORMATIVE = "normative", _("normative")
        DEFINITIONAL = "definitional", _("definitional")

    class Variable(models.TextChoices):
        CRISIS_MANAGEMENT = "crisis_management", _("crisis management")
        COMMON_INTERESTS = "common_interests", _("common interests")
        INTERNATIONAL_COORDINATION = (
            "international_coordination",
            _("international coordination"),
        )
        COLLECTIVE_INTENTION = "collective_intention", _("collective intention")
        NONE = "none", _("none")

    class Step(models.TextChoices):
        FRAMEWORK = "framework", _("1. original framework")
        DEEPENING = "deepening", _("2. deep institutionalization")
        REINSTITUTIONALIZATION = (
            "reinstitutionalization",
            _("3. re-institutionalization"),
        )
        NONE = "none", _("none")

    key = models.CharField(max_length=80, unique=True, validators=[key_validator], verbose_name=_("key"))
    paragraph = models.ForeignKey(
        Paragraph, on_delete=models.CASCADE, related_name="claims", verbose_name=_("paragraph")
    )
    quote = models.TextField(verbose_name=_("quote"))
    start = models.PositiveIntegerField(verbose_name=_("start"))
    end = models.PositiveIntegerField(verbose_name=_("end"))
    paraphrase = models.CharField(max_length=300, verbose_name=_("paraphrase"))
    kind = models.CharField(max_length=20, choices=Kind.choices, verbose_name=_("kind"))
    variable = models.CharField(
        max_length=30, choices=Variable.choices, default=Variable.NONE, verbose_name=_("variable")
    )
    step = models.CharField(max_length=30, choices=Step.choices, default=Step.NONE, verbose_name=_("step"))
    stated_date = models.DateField(
        null=True,
        blank=True,
        help_text=_("The date the quote states, if any."),
        verbose_name=_("stated date"),
    )
    stated_precision = models.CharField(
        max_length=5, choices=Precision.choices, blank=True, verbose_name=_("stated precision")
    )
    note = models.TextField(blank=True, verbose_name=_("note"))
    cites = models.ManyToManyField(Source, related_name="claims", blank=True, verbose_name=_("cites"))
    actors = models.ManyToManyField(Actor, related_name="claims", blank=True, verbose_name=_("actors"))
    events = models.ManyToManyField(
        Event, through="ClaimEventLink", related_name="claims", blank=True, verbose_name=_("events")
    )

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        ordering = ["paragraph__document", "paragraph__order", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="claim_span_not_empty"),
            models.CheckConstraint(
                condition=Q(stated_date__isnull=True, stated_precision="")
                | Q(stated_date__isnull=False) & ~Q(stated_precision=""),
                name="claim_stated_date_has_precision",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.paraphrase}"

    def get_absolute_url(self) -> str:
        return reverse("annotations:claim-detail", kwargs={"key": self.key})

    def clean(self) -> None:
        """The quote must be a verbatim span of the paragraph; the offsets follow it."""
        if self.paragraph_id is None or not self.quote:
            return
        text = self.paragraph.text
        if self.start is not None and self.end is not None and text[self.start : self.end] == self.quote:
            return
        at = text.find(self.quote)
        if at < 0:
            raise ValidationError(
                {
                    "quote": _("The quote must be copied exactly from paragraph %(anchor)s.")
                    % {"anchor": self.paragraph.anchor}
                }
            )
        self.start, self.end = at, at + len(self.quote)

    @property
    def has_date_mismatch(self) -> bool:
        """Whether a linked event's date contradicts the date this claim states."""
        return any(link.date_disagrees for link in self.event_links.all())

    @property
    def stated_date_iso(self) -> str:
        return partial_iso(self.stated_date, self.stated_precision) if self.stated_date else ""

    @property
    def stated_date_display(self) -> str:
        return partial_display(self.stated_date, self.stated_precision) if self.stated_date else ""


class ClaimEventLink(models.Model):
    """A typed relation between a claim and an event."""

    class Relation(models.TextChoices):
        DESCRIBES = "describes", _("describes")
        DATES = "dates", _("dates")
        CONTRADICTS = "contradicts", _("contradicts")
        CONTEXT = "context", _("gives context")

    claim = models.ForeignKey(
        Claim, on_delete=models.CASCADE, related_name="event_links", verbose_name=_("claim")
    )
    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="claim_links", verbose_name=_("event")
    )
    relation = models.CharField(max_length=20, choices=Relation.choices, verbose_name=_("relation"))
    note = models.TextField(blank=True, verbose_name=_("note"))

    class Meta:
        verbose_name = _("claim–event link")
        verbose_name_plural = _("claim–event links")
        ordering = ["event__date", "claim__key"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "event"], name="claim_event_link_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.claim.key} {self.relation} {self.event.key}"

    @property
    def date_disagrees(self) -> bool:
        """Whether the date the claim states cannot be the event's, at the precision stated.

        A "gives context" link is about background, not about when the event happened, so
        the claim's date is not read as the event's there.
        """
        claim, event = self.claim, self.event
        if claim.stated_date is None or self.relation == self.Relation.CONTEXT:
            return False
        stated = PartialDate(claim.stated_date, claim.stated_precision)
        end = PartialDate(event.end_date, event.end_precision) if event.end_date else None
        return periods_disagree(stated, event.partial_date, end)
