"""Students' cases about claims (challenges, with cited sources and a thread), errata,
and proposals of new events."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from annotations.models.annotation import Visibility
from annotations.models.courses import Course, CourseGroup
from annotations.models.moderated import Moderated
from annotations.models.reading import Claim, ClaimEventLink, Source
from timeline.dates import Precision
from timeline.models import Event


class Stance(models.TextChoices):
    DISPUTES = "disputes", _("disputes")
    SUPPORTS = "supports", _("supports")
    QUALIFIES = "qualifies", _("qualifies")
    NEEDS_CONTEXT = "needs_context", _("needs context")


class ChallengeStatus(models.TextChoices):
    OPEN = "open", _("open")
    UPHELD = "upheld", _("upheld")
    PARTLY_UPHELD = "partly_upheld", _("partly upheld")
    REJECTED = "rejected", _("rejected")


class EvidenceStatus(models.TextChoices):
    """What a course's challenges (and any erratum) make of a claim."""

    UNCHALLENGED = "unchallenged", _("unchallenged")
    CONTESTED = "contested", _("contested")
    DISPUTED = "disputed", _("disputed")
    SUPPORTED = "supported", _("supported")
    CORRECTED = "corrected", _("corrected")


class ProposalStatus(models.TextChoices):
    PROPOSED = "proposed", _("proposed")
    ACCEPTED = "accepted", _("accepted")
    DECLINED = "declined", _("declined")


class Challenge(Moderated):
    """A student's case about a claim: a stance, an argument and cited sources.

    Staff resolve it; ``version`` goes up with every resolution or reopening, so two staff
    acting on the same state at once cannot both win (the later gets a 409).
    """

    Stance = Stance
    Status = ChallengeStatus

    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="challenges", verbose_name=_("course")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="challenges",
        verbose_name=_("author"),
    )
    group = models.ForeignKey(
        CourseGroup,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="challenges",
        verbose_name=_("group"),
    )
    claim = models.ForeignKey(
        Claim, on_delete=models.PROTECT, related_name="challenges", verbose_name=_("claim")
    )
    stance = models.CharField(max_length=20, choices=Stance.choices, verbose_name=_("stance"))
    argument = models.TextField(help_text=_("Markdown."), verbose_name=_("argument"))
    argument_html = models.TextField(blank=True, editable=False, verbose_name=_("argument (HTML)"))
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.COURSE, verbose_name=_("visibility")
    )
    status = models.CharField(
        max_length=20, choices=ChallengeStatus.choices, default=ChallengeStatus.OPEN, verbose_name=_("status")
    )
    feedback = models.TextField(
        blank=True, help_text=_("Markdown; staff's reasons when resolving."), verbose_name=_("feedback")
    )
    feedback_html = models.TextField(blank=True, editable=False, verbose_name=_("feedback (HTML)"))
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("resolved by"),
    )
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    version = models.PositiveIntegerField(default=1, verbose_name=_("version"))
    anonymous_to_peers = models.BooleanField(
        default=False,
        editable=False,
        help_text=_("Made for an anonymous assignment: classmates do not see who wrote it."),
        verbose_name=_("anonymous to peers"),
    )
    sources = models.ManyToManyField(
        Source, through="ChallengeSource", related_name="challenges", blank=True, verbose_name=_("sources")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    edited_at = models.DateTimeField(null=True, blank=True, verbose_name=_("edited at"))
    deleted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("deleted at"))

    class Meta:
        verbose_name = _("challenge")
        verbose_name_plural = _("challenges")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["course", "claim", "status"], name="challenge_course_claim_idx"),
            models.Index(fields=["author", "created_at"], name="challenge_author_idx"),
            # A course's challenges, newest first, and their keyset pages.
            models.Index(fields=["course", "-created_at", "-id"], name="challenge_course_new_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(visibility=Visibility.GROUP) | Q(group__isnull=False),
                name="challenge_group_visibility_has_group",
            ),
            models.CheckConstraint(
                condition=Q(status=ChallengeStatus.OPEN, resolved_at__isnull=True)
                | ~Q(status=ChallengeStatus.OPEN) & Q(resolved_at__isnull=False),
                name="challenge_resolved_has_time",
            ),
            models.CheckConstraint(condition=~Q(argument=""), name="challenge_argument_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.author} {self.get_stance_display()} {self.claim.key}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class ChallengeSource(models.Model):
    """A source cited in a challenge, with where in it to look."""

    challenge = models.ForeignKey(
        Challenge, on_delete=models.CASCADE, related_name="citations", verbose_name=_("challenge")
    )
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="challenge_citations", verbose_name=_("source")
    )
    page = models.CharField(max_length=50, blank=True, verbose_name=_("page"))
    quote = models.TextField(
        blank=True, help_text=_("The passage relied on, quoted."), verbose_name=_("quote")
    )
    url_fragment = models.CharField(
        max_length=300, blank=True, help_text=_("For example #section-3."), verbose_name=_("URL fragment")
    )

    class Meta:
        verbose_name = _("cited source")
        verbose_name_plural = _("cited sources")
        ordering = ["challenge", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["challenge", "source"], name="challenge_source_unique"),
        ]

    def __str__(self) -> str:
        return gettext("%(source)s in challenge %(id)s") % {"source": self.source, "id": self.challenge_id}


class ChallengeResponse(models.Model):
    """A post in a challenge's thread; seen by whoever sees the challenge."""

    challenge = models.ForeignKey(
        Challenge, on_delete=models.PROTECT, related_name="responses", verbose_name=_("challenge")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="challenge_responses",
        verbose_name=_("author"),
    )
    body = models.TextField(help_text=_("Markdown."), verbose_name=_("body"))
    body_html = models.TextField(blank=True, editable=False, verbose_name=_("body (HTML)"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    edited_at = models.DateTimeField(null=True, blank=True, verbose_name=_("edited at"))
    deleted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("deleted at"))

    class Meta:
        verbose_name = _("challenge response")
        verbose_name_plural = _("challenge responses")
        ordering = ["challenge", "created_at", "pk"]
        constraints = [models.CheckConstraint(condition=~Q(body=""), name="challenge_response_not_empty")]

    def __str__(self) -> str:
        return gettext("%(author)s on challenge %(id)s") % {"author": self.author, "id": self.challenge_id}


class Erratum(models.Model):
    """A correction of a claim confirmed by site staff; every course sees it."""

    claim = models.OneToOneField(
        Claim, on_delete=models.PROTECT, related_name="erratum", verbose_name=_("claim")
    )
    text = models.TextField(
        help_text=_("What is wrong in the claim, and the correction."), verbose_name=_("text")
    )
    challenge = models.ForeignKey(
        Challenge, on_delete=models.SET_NULL, null=True, blank=True, related_name="errata",
        help_text=_("The challenge that showed it, if any."), verbose_name=_("challenge"),
    )  # fmt: skip
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("confirmed by")
    )
    confirmed_at = models.DateTimeField(default=timezone.now, verbose_name=_("confirmed at"))

    class Meta:
        verbose_name = _("erratum")
        ordering = ["-confirmed_at"]
        verbose_name_plural = _("errata")

    def __str__(self) -> str:
        return gettext("Erratum on %(claim)s") % {"claim": self.claim.key}


class EventProposal(models.Model):
    """A new event a student proposes for the timeline, with a source; staff accept it
    (creating the ``Event``) or decline it."""

    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="event_proposals", verbose_name=_("course")
    )
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="event_proposals",
        verbose_name=_("proposer"),
    )
    title = models.CharField(max_length=300, verbose_name=_("title"))
    date = models.DateField(verbose_name=_("date"))
    precision = models.CharField(
        max_length=5, choices=Precision.choices, default=Precision.DAY, verbose_name=_("precision")
    )
    end_date = models.DateField(null=True, blank=True, verbose_name=_("end date"))
    end_precision = models.CharField(
        max_length=5, choices=Precision.choices, blank=True, verbose_name=_("end precision")
    )
    place = models.CharField(max_length=200, blank=True, verbose_name=_("place"))
    type = models.CharField(max_length=20, choices=Event.Type.choices, verbose_name=_("type"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="event_proposals", verbose_name=_("source")
    )
    status = models.CharField(
        max_length=10,
        choices=ProposalStatus.choices,
        default=ProposalStatus.PROPOSED,
        verbose_name=_("status"),
    )
    feedback = models.TextField(blank=True, verbose_name=_("feedback"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    event = models.ForeignKey(
        Event,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="proposals",
        verbose_name=_("event"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("event proposal")
        verbose_name_plural = _("event proposals")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("date")),
                name="event_proposal_ends_after_it_starts",
            ),
            models.CheckConstraint(
                condition=Q(status=ProposalStatus.PROPOSED, decided_at__isnull=True)
                | ~Q(status=ProposalStatus.PROPOSED) & Q(decided_at__isnull=False),
                name="event_proposal_decided_has_time",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(title)s (proposed in %(course)s)") % {"title": self.title, "course": self.course}


class LinkProposal(models.Model):
    """A claim–event link a student proposes in a course; staff accept or decline it.

    The reading's own curated links are ``ClaimEventLink`` rows and public; these belong to
    one course and are seen by its members only, accepted or not.
    """

    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="link_proposals", verbose_name=_("course")
    )
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="link_proposals",
        verbose_name=_("proposer"),
    )
    claim = models.ForeignKey(
        Claim, on_delete=models.PROTECT, related_name="link_proposals", verbose_name=_("claim")
    )
    event = models.ForeignKey(
        Event, on_delete=models.PROTECT, related_name="link_proposals", verbose_name=_("event")
    )
    relation = models.CharField(
        max_length=20, choices=ClaimEventLink.Relation.choices, verbose_name=_("relation")
    )
    note = models.TextField(blank=True, verbose_name=_("note"))
    status = models.CharField(
        max_length=10,
        choices=ProposalStatus.choices,
        default=ProposalStatus.PROPOSED,
        verbose_name=_("status"),
    )
    feedback = models.TextField(blank=True, verbose_name=_("feedback"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("link proposal")
        verbose_name_plural = _("link proposals")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["course", "status"], name="link_proposal_course_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "claim", "event"], name="link_proposal_unique_in_course"
            ),
            models.CheckConstraint(
                condition=Q(status=ProposalStatus.PROPOSED, decided_at__isnull=True)
                | ~Q(status=ProposalStatus.PROPOSED) & Q(decided_at__isnull=False),
                name="link_proposal_decided_has_time",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(link)s (proposed in %(course)s)") % {
            "link": f"{self.claim.key} {self.relation} {self.event.key}", "course": self.course
        }  # fmt: skip

    @property
    def date_disagrees(self) -> bool:
        """The same rule as the reading's links (``ClaimEventLink.date_disagrees``)."""
        return ClaimEventLink(claim=self.claim, event=self.event, relation=self.relation).date_disagrees
