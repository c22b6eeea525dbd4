"""Forms for accounts, courses (their members and groups), annotations and replies.

The forms only read what was typed; the services decide whether it may be done.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from annotations.models import Claim, ClaimEventLink, CourseGroup, Document, Section, Source
from annotations.models.annotation import Motivation, Visibility
from annotations.models.challenges import ChallengeStatus, EvidenceStatus, Stance
from annotations.models.courses import Role
from annotations.models.moderation import MODERATED_KINDS, FlagReason
from timeline.models import Event


class SignupForm(UserCreationForm):
    """A username and a password, and an email address if the student wants to give one."""

    email = forms.EmailField(
        required=False,
        label=_("Email (optional)"),
        help_text=_("Only used to reach you about your courses; leave it empty if you prefer."),
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")


class JoinForm(forms.Form):
    code = forms.CharField(
        label=_("Join code"),
        max_length=32,
        help_text=_("Your instructor gives you a code such as K7QX-M2PD."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


class CourseForm(forms.Form):
    """A course's title and term, as created and as edited."""

    title = forms.CharField(label=_("Title"), max_length=200)
    term = forms.CharField(
        label=_("Term"), max_length=60, required=False, help_text=_("For example “Spring 2027”.")
    )


class CourseCreateForm(CourseForm):
    reading = forms.ModelChoiceField(
        label=_("Reading"),
        queryset=Document.objects.order_by("title"),
        empty_label=None,
        help_text=_("The text the course reads and annotates."),
    )


class MemberAddForm(forms.Form):
    username = forms.CharField(
        label=_("Username"), max_length=150, help_text=_("The person must have an account already.")
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.STUDENT)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class MemberGroupForm(forms.Form):
    """Which group a student is in; the choices are the course's groups, read once per page."""

    group = forms.TypedChoiceField(label=_("Group"), required=False, coerce=int, empty_value=None, choices=())

    def __init__(self, *args: object, groups: list[CourseGroup], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [("", _("No group")), *((g.pk, g.name) for g in groups)]


class GroupForm(forms.Form):
    name = forms.CharField(label=_("Group name"), max_length=100)


class TagsField(forms.CharField):
    """Tags typed as one line, separated by commas."""

    def to_python(self, value: str | None) -> list[str]:
        return [tag.strip() for tag in (value or "").split(",") if tag.strip()]

    def prepare_value(self, value: object) -> str:
        return ", ".join(value) if isinstance(value, list | tuple) else (value or "")


class AnnotationForm(forms.Form):
    """A new annotation on one paragraph. The selection script fills quote, start and end;
    without it, the quote is typed or pasted and found in the paragraph."""

    exact = forms.CharField(
        label=_("Quoted text"),
        widget=forms.Textarea(attrs={"rows": 2}),
        strip=False,
        help_text=_("Select words in the paragraph, or copy them here exactly."),
    )
    start = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=0)
    end = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=0)
    claim = forms.ModelChoiceField(
        queryset=Claim.objects.none(), required=False, to_field_name="key", label=_("About the claim")
    )
    motivation = forms.ChoiceField(
        choices=Motivation.choices, initial=Motivation.COMMENTING, label=_("Kind of note")
    )
    tags = TagsField(required=False, label=_("Tags"), help_text=_("Separate tags with commas."))
    body = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label=_("Note"),
        help_text=_("Markdown: **bold**, *italic*, [links](https://…), lists."),
        max_length=20000,
    )
    visibility = forms.ChoiceField(
        choices=Visibility.choices, initial=Visibility.PRIVATE, label=_("Who sees it")
    )

    def __init__(self, *args: object, paragraph=None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if paragraph is not None:
            self.fields["claim"].queryset = paragraph.claims.all()
            self.fields["claim"].label_from_instance = lambda claim: f"{claim.key}: {claim.paraphrase}"
            self.auto_id = f"id_{paragraph.anchor}_%s"


class AnnotationEditForm(forms.Form):
    motivation = forms.ChoiceField(choices=Motivation.choices, label=_("Kind of note"))
    tags = TagsField(required=False, label=_("Tags"), help_text=_("Separate tags with commas."))
    body = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        label=_("Note"),
        max_length=20000,
    )
    visibility = forms.ChoiceField(choices=Visibility.choices, label=_("Who sees it"))


class ReplyForm(forms.Form):
    body = forms.CharField(
        strip=False, widget=forms.Textarea(attrs={"rows": 3}), label=_("Reply"), max_length=20000
    )


class SourceForm(forms.Form):
    """A source typed in by hand; ``services.sources.source_add`` checks and normalises it."""

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(kind, label) for kind, label in Source.Kind.choices if kind != Source.Kind.NOTE],
    )
    authors = forms.CharField(
        label=_("Authors"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One a line: a person as “Family, Given” (Xu, Tao), an organisation by its name."),
    )
    year = forms.IntegerField(label=_("Year"), required=False)
    title = forms.CharField(label=_("Title"), max_length=500)
    container = forms.CharField(
        label=_("Journal, book, newspaper or website"),
        max_length=300,
        required=False,
        help_text=_(
            "Where it appeared: the journal of an article, the book of a chapter, the site of a page."
        ),
    )
    publisher = forms.CharField(label=_("Publisher"), max_length=200, required=False)
    pages = forms.CharField(label=_("Pages"), max_length=50, required=False)
    url = forms.CharField(label=_("URL"), max_length=500, required=False, widget=forms.URLInput())
    doi = forms.CharField(
        label=_("DOI"), max_length=200, required=False, help_text=_("For example 10.1234/abcd.")
    )
    accessed = forms.DateField(
        label=_("Date you read it"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("For web pages: YYYY-MM-DD."),
    )

    def source_fields(self) -> dict[str, object]:
        """The cleaned fields as ``source_add`` takes them (authors as a list)."""
        fields = dict(self.cleaned_data)
        fields["authors"] = [line.strip() for line in fields["authors"].splitlines() if line.strip()]
        return fields


class SourceImportForm(forms.Form):
    format = forms.ChoiceField(
        label=_("Format"),
        choices=[("bibtex", "BibTeX"), ("csl-json", "CSL-JSON")],
        initial="bibtex",
    )
    text = forms.CharField(
        label=_("Entries"),
        max_length=1_000_000,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
        help_text=_("Paste BibTeX entries, or a CSL-JSON list as exported by Zotero."),
    )


class LinkProposalForm(forms.Form):
    """Propose a typed link from a claim to a timeline event."""

    event = forms.ModelChoiceField(
        label=_("Event"), queryset=None, to_field_name="key", empty_label=_("Choose an event")
    )
    relation = forms.ChoiceField(label=_("Relation"), choices=ClaimEventLink.Relation.choices)
    note = forms.CharField(
        label=_("Note"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the claim and the event belong together."),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["event"].queryset = Event.objects.order_by("date", "key")
        self.fields["event"].label_from_instance = lambda event: f"{event.date_display}: {event.title}"


class EventProposalForm(forms.Form):
    """Propose a new event for the timeline, with the source that records it."""

    title = forms.CharField(label=_("Title"), max_length=300)
    date = forms.CharField(label=_("Date"), max_length=10, help_text=_("YYYY, YYYY-MM or YYYY-MM-DD."))
    end_date = forms.CharField(
        label=_("End date"), max_length=10, required=False, help_text=_("If it lasted; same format.")
    )
    place = forms.CharField(label=_("Place"), max_length=200, required=False)
    type = forms.ChoiceField(label=_("Type"), choices=Event.Type.choices)
    description = forms.CharField(
        label=_("Description"), max_length=20000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    source = forms.ModelChoiceField(
        label=_("Source"), queryset=None, to_field_name="key", empty_label=_("Choose a source")
    )

    def __init__(self, *args: object, sources: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = sources
        self.fields["source"].label_from_instance = lambda source: source.citation[:150]


class DecisionForm(forms.Form):
    """Accept or decline a proposal, with feedback for the student."""

    accept = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("1", _("Accept")), ("0", _("Decline"))],
        coerce=lambda value: value == "1",
    )
    feedback = forms.CharField(
        label=_("Feedback"), max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ChallengeForm(forms.Form):
    """A new challenge on a claim, with up to ``CITATIONS`` cited sources and their pinpoints.

    ``sources`` are the sources the member may cite in the course (the reading's and the
    course's own)."""

    CITATIONS = 3

    stance = forms.ChoiceField(choices=Stance.choices, label=_("Your stance"))
    argument = forms.CharField(
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        label=_("Argument"),
        help_text=_("Markdown: **bold**, *italic*, [links](https://…), lists."),
        max_length=20000,
    )
    visibility = forms.ChoiceField(
        choices=Visibility.choices, initial=Visibility.COURSE, label=_("Who sees it")
    )

    def __init__(self, *args: object, sources: list[Source] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        choices = self.source_choices(sources or [])
        for n in range(1, self.CITATIONS + 1):
            self.fields[f"source_{n}"] = forms.ChoiceField(
                choices=choices, required=False, label=_("Source %(n)s") % {"n": n}
            )
            self.fields[f"page_{n}"] = forms.CharField(
                required=False, max_length=50, label=_("Page (source %(n)s)") % {"n": n}
            )
            self.fields[f"quote_{n}"] = forms.CharField(
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                max_length=5000,
                label=_("Quoted passage (source %(n)s)") % {"n": n},
            )
            self.fields[f"url_fragment_{n}"] = forms.CharField(
                required=False, max_length=300, label=_("URL fragment (source %(n)s)") % {"n": n},
                help_text=_("For example #section-3."),
            )  # fmt: skip

    @staticmethod
    def source_choices(sources: list[Source]) -> list[tuple[str, str]]:
        """The options of each source select: a blank, then each source by its citation."""
        return [("", "—")] + [(s.key, s.citation or s.key) for s in sources]

    def citation_rows(self) -> list[dict[str, str]]:
        """The filled citation rows, as ``{source: key, page, quote, url_fragment}``."""
        rows = []
        for n in range(1, self.CITATIONS + 1):
            key = self.cleaned_data.get(f"source_{n}")
            if key:
                rows.append(
                    {
                        "source": key,
                        "page": self.cleaned_data.get(f"page_{n}", ""),
                        "quote": self.cleaned_data.get(f"quote_{n}", ""),
                        "url_fragment": self.cleaned_data.get(f"url_fragment_{n}", ""),
                    }
                )
        return rows

    def citation_groups(self) -> list[list[forms.BoundField]]:
        """The citation fields by source, for the template."""
        return [
            [self[f"{name}_{n}"] for name in ("source", "page", "quote", "url_fragment")]
            for n in range(1, self.CITATIONS + 1)
        ]


class ChallengeResponseForm(forms.Form):
    body = forms.CharField(
        strip=False, widget=forms.Textarea(attrs={"rows": 3}), label=_("Your response"), max_length=20000
    )


class ChallengeResolveForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            (ChallengeStatus.UPHELD, _("upheld")),
            (ChallengeStatus.PARTLY_UPHELD, _("partly upheld")),
            (ChallengeStatus.REJECTED, _("rejected")),
        ],
        label=_("Decision"),
    )
    feedback = forms.CharField(
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Feedback"),
        max_length=20000,
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ChallengeReopenForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class EvidenceFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", _("any")), *EvidenceStatus.choices], required=False, label=_("Evidence status")
    )


class ThreadForm(forms.Form):
    """A new thread and its first post; ``group`` offers only the groups the user may use."""

    title = forms.CharField(label=_("Title"), max_length=200)
    group = forms.ModelChoiceField(
        label=_("Who takes part"),
        queryset=CourseGroup.objects.none(),
        required=False,
        empty_label=_("The whole course"),
    )
    body = forms.CharField(
        label=_("First post"),
        widget=forms.Textarea(attrs={"rows": 4, "data-mentions": ""}),
        max_length=20000,
        help_text=_("Markdown. Mention a member with @username."),
    )

    def __init__(self, *args, groups=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups if groups is not None else CourseGroup.objects.none()


class PostForm(forms.Form):
    body = forms.CharField(
        label=_("Your post"),
        widget=forms.Textarea(attrs={"rows": 3, "data-mentions": ""}),
        max_length=20000,
        help_text=_("Markdown. Mention a member with @username."),
    )


class ThreadMoveForm(forms.Form):
    group = forms.ModelChoiceField(
        label=_("Move to"),
        queryset=CourseGroup.objects.none(),
        required=False,
        empty_label=_("The whole course"),
    )

    def __init__(self, *args, groups=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = groups if groups is not None else CourseGroup.objects.none()


def add_service_errors(
    form: forms.Form, error: ValidationError, *, aliases: dict[str, str] | None = None
) -> None:
    """Put a service's ``ValidationError`` messages beside the fields they name.

    ``aliases`` sends messages about a field the reader cannot see (a hidden offset, say)
    to one they can; messages about anything else go above the form.
    """
    visible = {field.name for field in form.visible_fields()}
    for name, messages in getattr(error, "message_dict", {"__all__": error.messages}).items():
        target = (aliases or {}).get(name, name)
        for message in messages:
            form.add_error(target if target in visible else None, message)


# -- assignments ----------------------------------------------------------------------------


def _assignment_help(name: str) -> str:
    """The model field's help text, so the form and the admin say the same thing."""
    from annotations.models.assignments import Assignment

    return Assignment._meta.get_field(name).help_text


class DateTimeLocalInput(forms.DateTimeInput):
    """The browser's date-and-time picker; values are read and shown in the site's time zone."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


CLAIM_KEYS_SPLIT = re.compile(r"[\s,;]+")
UNKNOWN_CLAIMS = gettext_noop("No claim of the course's reading has these keys: {}.")


class AssignmentForm(forms.Form):
    """An assignment as set and as edited. ``sections`` are the course reading's sections in
    reading order and ``claims`` the reading's claims: the form only offers and accepts those."""

    title = forms.CharField(label=_("Title"), max_length=200)
    instructions = forms.CharField(
        label=_("Instructions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20000,
        help_text=_("Markdown: *emphasis*, lists, links."),
    )
    sections = forms.TypedMultipleChoiceField(
        label=_("Sections in scope"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A section includes its subsections. No sections and no claims: the whole reading."),
    )
    claims = forms.CharField(
        label=_("Claims in scope"),
        required=False,
        help_text=_("Claim keys separated by commas or spaces, such as c-20-8, c-21-1."),
    )
    opens_at = forms.DateTimeField(label=_("Opens"), widget=DateTimeLocalInput())
    due_at = forms.DateTimeField(label=_("Due"), widget=DateTimeLocalInput())
    late_until = forms.DateTimeField(
        label=_("Late work accepted until"),
        required=False,
        widget=DateTimeLocalInput(),
        help_text=_assignment_help("late_until"),
    )
    late_penalty = forms.IntegerField(
        label=_("Late penalty (%)"),
        min_value=0,
        max_value=100,
        initial=0,
        help_text=_assignment_help("late_penalty"),
    )
    work_mode = forms.ChoiceField(label=_("Work mode"), choices=())
    scoring = forms.ChoiceField(label=_("Scoring"), choices=())
    points = forms.DecimalField(label=_("Points"), min_value=Decimal("0.01"), max_digits=6, decimal_places=2)
    required_annotations = forms.IntegerField(label=_("Annotations asked"), min_value=0, initial=0)
    required_challenges = forms.IntegerField(label=_("Challenges asked"), min_value=0, initial=0)
    required_sources = forms.IntegerField(
        label=_("Sources cited asked"), min_value=0, initial=0, help_text=_assignment_help("required_sources")
    )
    required_replies = forms.IntegerField(
        label=_("Replies asked"), min_value=0, initial=0, help_text=_assignment_help("required_replies")
    )
    required_links = forms.IntegerField(
        label=_("Claim–event links asked"),
        min_value=0,
        initial=0,
        help_text=_assignment_help("required_links"),
    )
    hide_peers_until_posted = forms.BooleanField(
        label=_("Hide classmates' work until a student has posted"),
        required=False,
        help_text=_assignment_help("hide_peers_until_posted"),
    )
    anonymous_to_peers = forms.BooleanField(
        label=_("Anonymous to classmates"), required=False, help_text=_assignment_help("anonymous_to_peers")
    )
    premoderation = forms.BooleanField(
        label=_("Pre-moderate students' work"), required=False, help_text=_assignment_help("premoderation")
    )

    def __init__(self, *args, sections: list[Section], claims: QuerySet[Claim], **kwargs) -> None:
        from annotations.models.assignments import Assignment, Scoring, WorkMode

        super().__init__(*args, **kwargs)
        self.section_by_id = {section.pk: section for section in sections}
        self.course_claims = claims
        # Subsections are marked by their depth so the outline reads as one without CSS too.
        self.fields["sections"].choices = [
            (section.pk, f"{'– ' * (section.level - 1)}{section.title}") for section in sections
        ]
        self.fields["work_mode"].choices = WorkMode.choices
        self.fields["scoring"].choices = Scoring.choices
        defaults = Assignment()
        for name in ("work_mode", "scoring", "points"):
            self.fields[name].initial = getattr(defaults, name)

    @property
    def section_rows(self) -> list[tuple[object, int]]:
        """Each section's checkbox with its depth, for the template to indent subsections."""
        levels = [section.level for section in self.section_by_id.values()]
        return list(zip(self["sections"], levels, strict=True))

    @classmethod
    def initial_for(cls, assignment) -> dict:
        """The form's values for an existing assignment (claims as their keys)."""
        from annotations.services.assignments import EDITABLE

        initial = {name: getattr(assignment, name) for name in EDITABLE}
        initial["sections"] = [section.pk for section in assignment.sections.all()]
        initial["claims"] = ", ".join(claim.key for claim in assignment.claims.all())
        return initial

    def clean_sections(self) -> list[Section]:
        return [self.section_by_id[pk] for pk in self.cleaned_data["sections"]]

    def clean_claims(self) -> list[Claim]:
        keys = [key for key in CLAIM_KEYS_SPLIT.split(self.cleaned_data["claims"].strip()) if key]
        keys = list(dict.fromkeys(keys))
        found = {claim.key: claim for claim in self.course_claims.filter(key__in=keys)}
        unknown = [key for key in keys if key not in found]
        if unknown:
            raise ValidationError(gettext(UNKNOWN_CLAIMS).format(", ".join(unknown)))
        return [found[key] for key in keys]


class ExtensionForm(forms.Form):
    """A later due date for one student of the course; ``students`` are the course's students."""

    student = forms.TypedChoiceField(label=_("Student"), coerce=int, choices=())
    due_at = forms.DateTimeField(label=_("New due date"), widget=DateTimeLocalInput())
    late_until = forms.DateTimeField(
        label=_("Late work accepted until"),
        required=False,
        widget=DateTimeLocalInput(),
        help_text=_("Optional; the later of this and the assignment's late window applies."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def __init__(self, *args, students: list, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.student_by_id = {student.pk: student for student in students}
        self.fields["student"].choices = [(s.pk, s.get_username()) for s in students]

    def clean_student(self):
        return self.student_by_id[self.cleaned_data["student"]]


class GradeForm(forms.Form):
    """A grade as staff type it; the score stays text so the service's messages explain a bad one."""

    score = forms.CharField(
        label=_("Score"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    feedback = forms.CharField(
        label=_("Feedback"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20000,
        help_text=_("Markdown. The student sees it once the grades are released."),
    )
    # The version the grader saw: a grade changed since then is a conflict, not an overwrite.
    version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


# -- moderation ------------------------------------------------------------------------------


class FlagForm(forms.Form):
    """A member's report of a piece of work; the service checks the rules (own work, twice, other needs text)."""

    reason = forms.ChoiceField(choices=FlagReason.choices, widget=forms.RadioSelect)
    text = forms.CharField(
        required=False,
        max_length=500,
        label=_("What is wrong (required for “other”)"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class QueueFilterForm(forms.Form):
    """The review queue's filters (a GET form: every field optional)."""

    status = forms.ChoiceField(
        required=False,
        choices=[("open", _("open")), ("closed", _("closed")), ("all", _("all"))],
        initial="open",
    )
    kind = forms.ChoiceField(
        required=False, label=_("Type"), choices=[("", _("any"))] + [(k, k) for k in MODERATED_KINDS]
    )
    reason = forms.ChoiceField(required=False, choices=[("", _("any")), *FlagReason.choices])
    author = forms.CharField(required=False, max_length=150, label=_("Author (username)"))
    opened_from = forms.DateField(
        required=False, label=_("Opened from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    opened_to = forms.DateField(
        required=False, label=_("Opened to"), widget=forms.DateInput(attrs={"type": "date"})
    )


class HideForm(forms.Form):
    reason = forms.CharField(max_length=1000, label=_("Why (its author will read this)"))


class PremoderationForm(forms.Form):
    enabled = forms.BooleanField(required=False)
    reason = forms.CharField(required=False, max_length=1000, label=_("Reason (optional)"))
