"""The project's URL patterns, walked, and one world of objects to build their URLs from.

``get_routes()`` lists every named URL pattern a GET reaches (``all_routes()`` every one, with
the methods its view accepts); ``build_world()`` makes a small course on the paper with two
groups, its students, TA and instructor, and one of every kind of student work; ``EXAMPLES``
says how to fill each GET pattern's arguments from that world and who opens it. The
query-count bound and the access walk share them, so a new URL needs one entry here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import Permission
from django.contrib.auth.tokens import default_token_generator
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from annotations.models import Claim, Document, Paragraph
from annotations.models.annotation import Visibility
from annotations.models.challenges import ChallengeStatus, Stance
from annotations.models.courses import Role
from annotations.models.discussion import NotificationKind
from annotations.models.moderation import FlagReason
from annotations.services import annotations as annotation_services
from annotations.services import assignments as assignment_services
from annotations.services import challenges as challenge_services
from annotations.services import links as link_services
from annotations.services import moderation as moderation_services
from annotations.services import notifications as notification_services
from annotations.services import sources as source_services
from annotations.services import threads as thread_services
from tests.factories import (
    AssignmentFactory,
    CourseFactory,
    EventFactory,
    GroupFactory,
    MembershipFactory,
    SourceFactory,
    UserFactory,
)
from timeline.models import Actor, Event

PAPER_SLUG = "sco-institutionalization"

# URL prefixes that are not the project's pages: Django's admin (its own tests cover it),
# the OpenAPI schema and its interactive docs (generated, no rows), static and media files.
SKIPPED_PREFIXES = ("admin/", "api/schema/", "api/docs/", "static/", "media/")


# -- walking the URL configuration ----------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    methods: frozenset[str]


def _methods(callback: Callable[..., Any]) -> frozenset[str]:
    """The HTTP methods a view answers (lower case), as far as its code declares them."""
    actions = getattr(callback, "actions", None)
    if actions is not None:  # a DRF viewset route: the router's method → action map
        return frozenset(actions)
    view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view_class is not None:
        return frozenset(m for m in view_class.http_method_names if hasattr(view_class, m))
    # A function view: look through its decorators for require_http_methods' list.
    function: Any = callback
    while function is not None:
        code = getattr(function, "__code__", None)
        if code is not None and "request_method_list" in code.co_freevars:
            cell = function.__closure__[code.co_freevars.index("request_method_list")]
            return frozenset(method.lower() for method in cell.cell_contents)
        function = getattr(function, "__wrapped__", None)
    return frozenset({"get", "post"})


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            if not entry.name:
                continue
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield Route(name=name, pattern=prefix + str(entry.pattern), methods=_methods(entry.callback))


def all_routes() -> list[Route]:
    """One route per URL name, whatever its methods; the router's ``.<format>`` twins of a
    route run the same view, so the plain route stands for them."""
    routes: dict[str, Route] = {}
    for route in _walk(get_resolver()):
        if route.pattern.startswith(SKIPPED_PREFIXES):
            continue
        if "<format>" in route.pattern or "<drf_format_suffix:format>" in route.pattern:
            continue
        routes.setdefault(route.name, route)
    return sorted(routes.values(), key=lambda route: route.name)


def get_routes() -> list[Route]:
    """One route per URL name that answers GET (see ``all_routes``)."""
    return [route for route in all_routes() if "get" in route.methods]


# -- the data -------------------------------------------------------------------------------


@dataclass
class World:
    """The course under test and one example of every kind of object its URLs name."""

    paper: Document
    paragraph: Paragraph
    claim: Claim
    event: Event
    actor: Actor
    course: Any
    group_a: Any
    group_b: Any
    student: Any  # in group A; writes the example work, so its own edit pages answer
    groupmate: Any
    other_group_student: Any
    ta: Any
    instructor: Any
    examples: dict[str, Any] = field(default_factory=dict)
    students: list[Any] = field(default_factory=list)
    # Events not yet linked to the claim: a link is proposed once per claim and event.
    free_events: list[Event] = field(default_factory=list)


def member(course, username: str, *, role: str = Role.STUDENT, group=None):
    user = UserFactory(username=username)
    MembershipFactory(course=course, user=user, role=role, group=group)
    return user


def _span(paragraph: Paragraph, n: int) -> tuple[int, int]:
    """A different short span of ``paragraph`` for each ``n``."""
    length = len(paragraph.text)
    start = (n * 7) % max(1, length - 20)
    return start, min(length, start + 12)


def add_work(world: World, authors: list[Any], *, round_: int) -> dict[str, Any]:
    """Each author writes one of everything: annotations (private, group, course) with tags
    and replies, a challenge with sources and a response, a thread with posts, replies and
    reactions, a source, link and event proposals; others flag and are notified. Returns the
    first objects written, as examples for the URL table."""
    course, staff = world.course, world.instructor
    first: dict[str, Any] = {}
    paragraphs = list(world.paper.paragraphs.order_by("order")[:3])
    for index, author in enumerate(authors):
        n = round_ * 100 + index
        others = [user for user in authors if user.pk != author.pk] or [world.groupmate]
        reader = others[0]
        membership = course.memberships.get(user=author)
        shared = Visibility.GROUP if membership.group_id else Visibility.COURSE
        annotations = []
        for offset, visibility in enumerate((Visibility.COURSE, shared, Visibility.PRIVATE)):
            paragraph = paragraphs[(n + offset) % len(paragraphs)]
            start, end = _span(paragraph, n + offset)
            annotations.append(
                annotation_services.annotation_create(
                    user=author,
                    course=course,
                    paragraph=paragraph,
                    start=start,
                    end=end,
                    exact=paragraph.text[start:end],
                    tags=[f"tag-{n}", "evidence"],
                    body=f"Note {n} by **{author.username}**.",
                    visibility=visibility,
                )
            )
        course_note = annotations[0]
        reply = annotation_services.reply_create(user=reader, annotation=course_note, body=f"Reply {n}.")
        annotation_services.reply_create(user=staff, annotation=course_note, body=f"Staff reply {n}.")
        thread_services.reaction_toggle(user=reader, annotation=course_note)

        source, _created = source_services.source_add(
            user=author,
            course=course,
            kind="article",
            authors=[f"Writer{n}, Ann"],
            year=2001 + index,
            title=f"Evidence {n}",
            url=f"https://example.org/evidence-{n}",
        )
        paper_source = SourceFactory(key=f"bound-source-{n}")
        challenge = challenge_services.challenge_create(
            user=author,
            course=course,
            claim=world.claim,
            stance=Stance.DISPUTES if index % 2 else Stance.QUALIFIES,
            argument=f"Argument {n}.",
            citations=[
                {"source": source, "page": "12", "quote": "a quote"},
                {"source": paper_source, "page": "3"},
            ],
            visibility=Visibility.COURSE,
        )
        response = challenge_services.challenge_respond(user=reader, challenge=challenge, body=f"Answer {n}.")
        challenge_services.challenge_respond(user=staff, challenge=challenge, body=f"Staff answer {n}.")

        thread = thread_services.thread_create(
            user=author,
            course=course,
            title=f"Thread {n}",
            body=f"Opening {n} @{reader.username}",
            claim=world.claim,
        )
        root = thread.posts.order_by("pk").first()
        post = thread_services.post_create(user=reader, thread=thread, body=f"Post {n}", parent=root)
        thread_services.post_create(user=author, thread=thread, body=f"Post again {n}", parent=post)
        thread_services.post_create(user=staff, thread=thread, body=f"Staff post {n}")
        thread_services.reaction_toggle(user=reader, post=root)
        thread_services.reaction_toggle(user=staff, post=root)
        if membership.group_id is not None:
            group_thread = thread_services.thread_create(
                user=author,
                course=course,
                title=f"Group thread {n}",
                body=f"In group {n}",
                group=membership.group,
            )
            thread_services.post_create(user=author, thread=group_thread, body=f"Group post {n}")

        link = link_services.link_propose(
            user=author,
            course=course,
            claim=world.claim,
            event=world.free_events.pop() if world.free_events else EventFactory(),
            relation="describes",
            note=f"{n}",
        )
        proposal = link_services.event_propose(
            user=author,
            course=course,
            title=f"Meeting {n}",
            date=f"{2002 + index % 10}-05-{1 + index % 27:02d}",
            type=Event.Type.SUMMIT,
            source=source,
        )
        flag = moderation_services.flag_create(user=reader, target=course_note, reason=FlagReason.OFF_TOPIC)
        moderation_services.flag_create(
            user=reader, target=post if post.author_id != reader.pk else root, reason=FlagReason.SPAM
        )
        moderation_services.flag_create(user=reader, target=challenge, reason=FlagReason.OFF_TOPIC)
        for recipient in (author, staff):
            notification_services.notify(
                recipient=recipient,
                kind=NotificationKind.REPLY,
                actor=reader,
                course=course,
                message=f"News {n}",
                url=reverse("threads:detail", args=[course.pk, thread.pk]),
            )
        if index == 0:
            # Staff decide, resolve and hide some of each round's work: those pages show
            # decided, resolved and hidden work differently.
            link_services.link_decide(user=staff, proposal=link, accept=True, feedback="Yes.")
            link_services.event_decide(user=staff, proposal=proposal, accept=True, feedback="Yes.")
            challenge_services.challenge_resolve(
                user=staff,
                challenge=challenge,
                status=ChallengeStatus.PARTLY_UPHELD,
                feedback="Partly.",
                expected_version=challenge.version,
            )
            moderation_services.hide(user=staff, target=annotations[1], reason="Off topic.")
        if not first:
            first = {
                "annotation": course_note,
                "reply": reply,
                "challenge": challenge,
                "response": response,
                "thread": thread,
                "post": root,
                "link": link,
                "event_proposal": proposal,
                "flag": flag,
                "item": flag.item,
                "source": source,
            }
    return first


def add_coursework(world: World, students: list[Any], *, round_: int) -> Any:
    """A new assignment with a grade and an extension for each of ``students``."""
    now = timezone.now()
    assignment = AssignmentFactory(
        course=world.course, created_by=world.instructor, title=f"Assignment {round_}"
    )
    for student in students:
        assignment_services.grade_set(
            user=world.instructor, assignment=assignment, student=student, score="7", feedback="Good."
        )
        assignment_services.extension_grant(
            user=world.instructor,
            assignment=assignment,
            student=student,
            due_at=now + dt.timedelta(days=30),
            reason="Ill.",
        )
    return assignment


def build_world() -> World:
    """A small course on the paper with groups A and B, three students, a TA and an
    instructor, one of everything written by each student, and a graded assignment."""
    paper = Document.objects.get(slug=PAPER_SLUG)
    claim = Claim.objects.filter(paragraph__document=paper).order_by("pk").first()
    event = Event.objects.order_by("pk").first()
    actor = Actor.objects.order_by("pk").first()
    course = CourseFactory(title="Bounded seminar", reading=paper)
    group_a = GroupFactory(course=course, name="Group A")
    group_b = GroupFactory(course=course, name="Group B")
    world = World(
        paper=paper,
        paragraph=claim.paragraph,
        claim=claim,
        event=event,
        actor=actor,
        course=course,
        group_a=group_a,
        group_b=group_b,
        student=member(course, "bound_author", group=group_a),
        groupmate=member(course, "bound_groupmate", group=group_a),
        other_group_student=member(course, "bound_other_group", group=group_b),
        ta=member(course, "bound_ta", role=Role.TA),
        instructor=member(course, "bound_instructor", role=Role.INSTRUCTOR),
    )
    world.students = [world.student, world.groupmate, world.other_group_student]
    # Creating courses is a permission of its own, given to instructors by site staff.
    world.instructor.user_permissions.add(Permission.objects.get(codename="add_course"))
    world.free_events = list(Event.objects.exclude(claim_links__claim=claim).order_by("-pk"))
    world.examples = add_work(world, world.students, round_=0)
    world.examples["assignment"] = add_coursework(world, world.students, round_=0)
    return world


# -- the table of examples ------------------------------------------------------------------


STUDENT, INSTRUCTOR, ANONYMOUS = "student", "instructor", "anonymous"


@dataclass(frozen=True)
class Example:
    """How to build a URL for one route from the world, and who asks first."""

    kwargs: Callable[[World], dict[str, Any]] = lambda w: {}
    user: str = STUDENT
    query: str = ""  # "{course}" stands for the course's id
    status: int = 200


def _pk(name: str, key: str = "pk") -> Callable[[World], dict[str, Any]]:
    return lambda w: {key: w.examples[name].pk}


def _course(w: World) -> dict[str, Any]:
    return {"pk": w.course.pk}


def _course_claim(w: World) -> dict[str, Any]:
    return {"pk": w.course.pk, "key": w.claim.key}


def _assignment(w: World) -> dict[str, Any]:
    return {"pk": w.examples["assignment"].pk}


def _reset(w: World) -> dict[str, Any]:
    # The TA never signs in here: a sign-in would change the hash the token is made from.
    return {
        "uidb64": urlsafe_base64_encode(force_bytes(w.ta.pk)),
        "token": default_token_generator.make_token(w.ta),
    }


EXAMPLES: dict[str, Example] = {
    "health": Example(),
    # Django's language switch: a GET changes nothing and returns to the page (here "/").
    "set_language": Example(user=ANONYMOUS, status=302),
    # API: the reading's records
    "api:api-root": Example(),
    "api:timeline-json": Example(),
    "api:document-list": Example(),
    "api:document-detail": Example(lambda w: {"slug": w.paper.slug}),
    "api:paragraph-list": Example(),
    "api:paragraph-detail": Example(lambda w: {"pk": w.paragraph.pk}),
    "api:claim-list": Example(),
    "api:claim-detail": Example(lambda w: {"key": w.claim.key}),
    "api:event-list": Example(),
    "api:event-detail": Example(lambda w: {"key": w.event.key}),
    "api:actor-list": Example(),
    "api:actor-detail": Example(lambda w: {"key": w.actor.key}),
    "api:source-list": Example(),
    "api:source-bibliography": Example(query="?course={course}&format=bibtex"),
    "api:source-detail": Example(lambda w: {"key": w.examples["source"].key}),
    # API: courses and student work
    "api:course-list": Example(),
    "api:course-detail": Example(_course),
    "api:course-members": Example(_course, user=INSTRUCTOR),
    # The first page lists the annotations; the collection itself only counts them.
    "api:course-annotation-collection": Example(_course, query="?page=1"),
    "api:group-list": Example(user=INSTRUCTOR),
    "api:group-detail": Example(lambda w: {"pk": w.group_a.pk}, user=INSTRUCTOR),
    "api:annotation-list": Example(),
    "api:annotation-detail": Example(_pk("annotation")),
    "api:challenge-list": Example(),
    "api:challenge-detail": Example(_pk("challenge")),
    "api:link-list": Example(),
    "api:link-detail": Example(_pk("link")),
    "api:event-proposal-list": Example(),
    "api:event-proposal-detail": Example(_pk("event_proposal")),
    "api:notification-list": Example(),
    "api:notification-detail": Example(lambda w: {"pk": w.student.notifications.order_by("pk").first().pk}),
    "api:thread-list": Example(),
    "api:thread-detail": Example(_pk("thread")),
    "api:post-list": Example(),
    "api:post-detail": Example(_pk("post")),
    "api:assignment-list": Example(user=INSTRUCTOR),
    "api:assignment-detail": Example(_assignment, user=INSTRUCTOR),
    "api:assignment-extensions": Example(_assignment, user=INSTRUCTOR),
    "api:assignment-grades": Example(_assignment, user=INSTRUCTOR),
    "api:assignment-progress": Example(_assignment, user=INSTRUCTOR),
    "api:flag-list": Example(user=INSTRUCTOR),
    "api:flag-detail": Example(_pk("flag"), user=INSTRUCTOR),
    "api:moderation-list": Example(user=INSTRUCTOR),
    "api:moderation-detail": Example(_pk("item"), user=INSTRUCTOR),
    # Accounts
    "signup": Example(user=ANONYMOUS),
    "login": Example(user=ANONYMOUS),
    "my-data": Example(),
    "password_change": Example(),
    "password_change_done": Example(),
    "password_reset": Example(user=ANONYMOUS),
    "password_reset_done": Example(user=ANONYMOUS),
    # The view checks the token, keeps it in the session and redirects to a URL without it.
    "password_reset_confirm": Example(_reset, user=ANONYMOUS, status=302),
    "password_reset_complete": Example(user=ANONYMOUS),
    # The reading, its claims, the timeline and actors
    "annotations:home": Example(),
    "annotations:reading-default": Example(status=302),
    "annotations:reading": Example(lambda w: {"slug": w.paper.slug}),
    "annotations:claim-list": Example(),
    "annotations:claim-detail": Example(lambda w: {"key": w.claim.key}),
    "annotations:source-list": Example(),
    "annotations:course-sources": Example(_course),
    "timeline:timeline": Example(),
    "timeline:event-detail": Example(lambda w: {"key": w.event.key}),
    "timeline:actor-list": Example(),
    "timeline:actor-detail": Example(lambda w: {"key": w.actor.key}),
    # Help
    "help:index": Example(),
    "help:annotations": Example(),
    "help:challenges": Example(),
    "help:evidence": Example(),
    "help:assignments": Example(),
    "help:moderation": Example(),
    "help:instructors": Example(),
    # Courses
    "courses:list": Example(),
    "courses:create": Example(user=INSTRUCTOR),
    "courses:detail": Example(_course),
    "courses:manage": Example(_course, user=INSTRUCTOR),
    "courses:member-remove": Example(
        lambda w: {"pk": w.course.pk, "user_id": w.groupmate.pk}, user=INSTRUCTOR
    ),
    "courses:group-delete": Example(lambda w: {"pk": w.course.pk, "group_id": w.group_a.pk}, user=INSTRUCTOR),
    # Annotating
    "annotate:reading": Example(_course),
    "annotate:paragraph-notes": Example(
        lambda w: {"pk": w.course.pk, "anchor": w.examples["annotation"].paragraph_anchor}
    ),
    "annotate:edit": Example(_pk("annotation")),
    "annotate:delete": Example(_pk("annotation")),
    "annotate:reply-edit": Example(lambda w: {"pk": w.examples["reply"].pk}, user="groupmate"),
    "annotate:reply-delete": Example(lambda w: {"pk": w.examples["reply"].pk}, user="groupmate"),
    # Challenges and links
    "challenges:claims": Example(_course),
    "challenges:claim": Example(_course_claim),
    "links:claim": Example(_course_claim),
    "links:review": Example(_course, user=INSTRUCTOR),
    "links:propose-event": Example(_course),
    "links:course-timeline": Example(_course),
    # Discussion
    "threads:list": Example(_course),
    "threads:detail": Example(lambda w: {"pk": w.course.pk, "thread_pk": w.examples["thread"].pk}),
    "threads:mentions": Example(_course, query="?q=bound"),
    "threads:post-edit": Example(lambda w: {"post_pk": w.examples["post"].pk}),
    # Notifications
    "notifications:list": Example(),
    "notifications:open": Example(
        lambda w: {"pk": w.student.notifications.order_by("pk").first().pk}, status=302
    ),
    "notifications:preferences": Example(),
    # Assignments, grading, exports, the dashboard
    "assignments:list": Example(_course),
    "assignments:create": Example(_course, user=INSTRUCTOR),
    "assignments:dashboard": Example(_course, user=INSTRUCTOR),
    "assignments:course-work-json": Example(_course, user=INSTRUCTOR),
    "assignments:detail": Example(_assignment),
    "assignments:edit": Example(_assignment, user=INSTRUCTOR),
    "assignments:delete": Example(_assignment, user=INSTRUCTOR),
    "assignments:progress": Example(_assignment, user=INSTRUCTOR),
    "assignments:grade": Example(
        lambda w: {"pk": w.examples["assignment"].pk, "user_id": w.student.pk}, user=INSTRUCTOR
    ),
    "assignments:grades-csv": Example(_assignment, user=INSTRUCTOR),
    "assignments:grades-canvas-csv": Example(_assignment, user=INSTRUCTOR),
    "assignments:work-json": Example(_assignment, user=INSTRUCTOR),
    # Moderation
    "moderation:queue": Example(_course, user=INSTRUCTOR),
}
