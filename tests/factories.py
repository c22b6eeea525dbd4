"""factory_boy factories for the records; each makes a valid row with unique keys."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from annotations.models import (
    Annotation,
    Assignment,
    Claim,
    ClaimEventLink,
    Course,
    CourseGroup,
    Document,
    Membership,
    Paragraph,
    Section,
    Source,
)
from annotations.models.annotation import Visibility
from annotations.models.courses import Role
from timeline.dates import Precision
from timeline.models import Actor, Event


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("a-long-test-password")


class ActorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Actor

    key = factory.Sequence(lambda n: f"test-group-{n}")
    kind = Actor.Kind.GROUP
    name = factory.Sequence(lambda n: f"Test group {n}")


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    key = factory.Sequence(lambda n: f"test-event-{n}")
    title = factory.Sequence(lambda n: f"Test event {n}")
    date = factory.Sequence(lambda n: dt.date(1990, 1, 1) + dt.timedelta(days=17 * n))
    precision = Precision.DAY
    type = Event.Type.SUMMIT


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    key = factory.Sequence(lambda n: f"test-source-{n}")
    kind = Source.Kind.BOOK
    authors = factory.LazyFunction(lambda: ["Test Author"])
    year = 2000
    title = factory.Sequence(lambda n: f"Test book {n}")


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Document

    slug = factory.Sequence(lambda n: f"test-reading-{n}")
    title = factory.Sequence(lambda n: f"Test reading {n}")


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section

    document = factory.SubFactory(DocumentFactory)
    key = factory.Sequence(lambda n: f"section-{n}")
    title = factory.Sequence(lambda n: f"Section {n}")
    order = factory.Sequence(lambda n: n + 1)


class ParagraphFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Paragraph

    section = factory.SubFactory(SectionFactory)
    document = factory.SelfAttribute("section.document")
    order = factory.Sequence(lambda n: n + 1)
    anchor = factory.LazyAttribute(lambda p: f"p-{p.order}")
    text = "The summit in Shanghai founded the organisation in June 2001. Trade grew afterwards."


class ClaimFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Claim
        skip_postgeneration_save = True

    key = factory.Sequence(lambda n: f"c-test-{n}")
    paragraph = factory.SubFactory(ParagraphFactory)
    quote = "founded the organisation in June 2001"
    start = factory.LazyAttribute(lambda c: c.paragraph.text.index(c.quote))
    end = factory.LazyAttribute(lambda c: c.start + len(c.quote))
    paraphrase = "The organisation began at a summit."
    kind = Claim.Kind.FACTUAL

    @factory.post_generation
    def links(self, create: bool, extracted: list[tuple[Event, str]] | None, **kwargs: object) -> None:
        for event, relation in extracted or []:
            ClaimEventLink.objects.create(claim=self, event=event, relation=relation)


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    title = factory.Sequence(lambda n: f"Course {n}")
    term = "Spring 2027"
    reading = factory.LazyFunction(lambda: Document.objects.order_by("pk").first() or DocumentFactory())


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CourseGroup

    course = factory.SubFactory(CourseFactory)
    name = factory.Sequence(lambda n: f"Group {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    course = factory.SubFactory(CourseFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.STUDENT


class AnnotationFactory(factory.django.DjangoModelFactory):
    """An annotation on the first words of the course reading's first paragraph."""

    class Meta:
        model = Annotation

    course = factory.SubFactory(CourseFactory)
    author = factory.SubFactory(UserFactory)
    document = factory.SelfAttribute("course.reading")
    paragraph = factory.LazyAttribute(lambda a: a.document.paragraphs.order_by("order").first())
    paragraph_anchor = factory.SelfAttribute("paragraph.anchor")
    start = 0
    end = 20
    exact = factory.LazyAttribute(lambda a: a.paragraph.text[a.start : a.end])
    body = "A note."
    body_html = "<p>A note.</p>\n"
    visibility = Visibility.COURSE


class AssignmentFactory(factory.django.DjangoModelFactory):
    """An assignment on the whole reading, open since ten days ago, due in a week, with
    two days of late window; it asks for two annotations and one challenge."""

    class Meta:
        model = Assignment

    course = factory.SubFactory(CourseFactory)
    title = factory.Sequence(lambda n: f"Assignment {n}")
    instructions = "Annotate and challenge."
    instructions_html = "<p>Annotate and challenge.</p>\n"
    opens_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=10))
    due_at = factory.LazyAttribute(lambda a: a.opens_at + dt.timedelta(days=17))
    late_until = factory.LazyAttribute(lambda a: a.due_at + dt.timedelta(days=2))
    required_annotations = 2
    required_challenges = 1
