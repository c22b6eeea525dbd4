"""No URL lets a user reach what they may not see, whatever the method.

The test walks every named URL pattern (pages and API) and every method its view accepts
(GET, POST, PUT, PATCH, DELETE), builds its URL for the objects of one course, and asks as
someone who may not see them:

- ``outsider``: a student of another course;
- ``elsewhere_staff``: the instructor of another course (staff rights stop at their course);
- ``other_group``: a student of the same course in another group, for URLs that name
  group-only work (a group annotation, its reply, a group thread and its post);
- ``anonymous``: nobody signed in.

The contract, from the design's visibility rule: an object the user may not see answers 404,
exactly as a missing one, whatever the method; an anonymous visitor is sent to the login page
(pages) or gets a 401 (API), except where the table below says why not. Every refused
request leaves the row counts of the project's tables as they were, and no answer carries
the course's student work.

A URL pattern without an entry in ``ACCESS`` fails ``test_every_url_has_an_access_example``,
so no new endpoint escapes the walk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.db import transaction
from django.test import Client
from django.urls import reverse

from annotations.models.annotation import Visibility
from annotations.models.courses import Role
from annotations.models.moderation import FlagReason
from annotations.services import annotations as annotation_services
from annotations.services import moderation as moderation_services
from annotations.services import threads as thread_services
from tests.factories import CourseFactory, GroupFactory
from tests.urlwalk import EXAMPLES, World, all_routes, build_world, member

OUTSIDER, ELSEWHERE_STAFF, OTHER_GROUP, ANONYMOUS = "outsider", "elsewhere_staff", "other_group", "anonymous"
WRITES = ("post", "put", "patch", "delete")
METHODS = ("get", *WRITES)

# Words only the course's student work contains (see ``add_work`` and ``_add_group_work``):
# an answer to someone who may not see that work must not carry them.
SECRETS = ("Note 0 by", "Reply 0.", "Opening 0 @", "Group secret", "Evidence 0")


# -- the kinds of URL -----------------------------------------------------------------------

# What a URL names decides who may not use it:
PUBLIC = "public"  # the reading's records, signing in and up: anyone, nothing to refuse
OWN = "own"  # the signed-in user's own things (notifications, data): names no course
COURSE = "course"  # an object of the course, or the course itself: its members only
LIST = "list"  # the API's lists and creates, and the pages listing one's courses: names no object
MINE = "mine"  # one of the student's own things (a notification): nobody else's


@dataclass(frozen=True)
class Access:
    """How to build a route's URL for the course's objects, and what kind of thing it names."""

    kind: str
    kwargs: Callable[[World], dict[str, Any]] | None = None  # ``None``: EXAMPLES' or none
    query: str = ""


def _ex(name: str) -> Callable[[World], Any]:
    return lambda w: w.examples[name]


def _pk(name: str, key: str = "pk") -> Callable[[World], dict[str, Any]]:
    return lambda w: {key: w.examples[name].pk}


def _course(**more: Callable[[World], Any]) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": w.course.pk, **{key: value(w) for key, value in more.items()}}


def _claim_key(w: World) -> str:
    return w.claim.key


def _student(w: World) -> int:
    return w.groupmate.pk


def _work(name: str, kind: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"pk": w.course.pk, "kind": kind, "work_id": w.examples[name].pk}


def _notification(w: World) -> dict[str, Any]:
    return {"pk": w.student.notifications.order_by("pk").first().pk}


ACCESS: dict[str, Access] = {
    "health": Access(PUBLIC),
    "set_language": Access(PUBLIC),
    # API: the reading's records, open to all
    "api:api-root": Access(PUBLIC),
    "api:timeline-json": Access(PUBLIC),
    "api:auth-token": Access(PUBLIC),
    "api:document-list": Access(PUBLIC),
    "api:document-detail": Access(PUBLIC),
    "api:paragraph-list": Access(PUBLIC),
    "api:paragraph-detail": Access(PUBLIC),
    "api:claim-list": Access(PUBLIC),
    "api:claim-detail": Access(PUBLIC),
    "api:event-list": Access(PUBLIC),
    "api:event-detail": Access(PUBLIC),
    "api:actor-list": Access(PUBLIC),
    "api:actor-detail": Access(PUBLIC),
    "api:source-list": Access(LIST),
    "api:source-import-sources": Access(LIST),
    # Names the course in its query: the course's bibliography of student-added sources.
    "api:source-bibliography": Access(COURSE, query="?course={course}&format=bibtex"),
    # A source added by a student of the course, not yet in the paper's list.
    "api:source-detail": Access(COURSE),
    # API: courses and student work
    "api:course-list": Access(LIST),
    "api:course-join": Access(LIST),
    "api:course-detail": Access(COURSE),
    "api:course-members": Access(COURSE),
    "api:course-member": Access(COURSE, _course(user_id=_student)),
    "api:course-joining": Access(COURSE, _course()),
    "api:course-regenerate-code": Access(COURSE, _course()),
    "api:course-annotation-collection": Access(COURSE, query="?page=1"),
    "api:course-annotation-import": Access(COURSE, _course()),
    "api:group-list": Access(LIST),
    "api:group-detail": Access(COURSE),
    "api:annotation-list": Access(LIST),
    "api:annotation-detail": Access(COURSE),
    "api:annotation-helpful": Access(COURSE, _pk("annotation")),
    "api:annotation-replies": Access(COURSE, _pk("annotation")),
    "api:annotation-reply": Access(
        COURSE, lambda w: {"pk": w.examples["annotation"].pk, "reply_pk": w.examples["reply"].pk}
    ),
    "api:challenge-list": Access(LIST),
    "api:challenge-detail": Access(COURSE),
    "api:challenge-reopen": Access(COURSE, _pk("challenge")),
    "api:challenge-resolve": Access(COURSE, _pk("challenge")),
    "api:challenge-responses": Access(COURSE, _pk("challenge")),
    "api:challenge-response": Access(
        COURSE, lambda w: {"pk": w.examples["challenge"].pk, "response_pk": w.examples["response"].pk}
    ),
    "api:link-list": Access(LIST),
    "api:link-detail": Access(COURSE),
    "api:link-decide": Access(COURSE, _pk("link")),
    "api:event-proposal-list": Access(LIST),
    "api:event-proposal-detail": Access(COURSE),
    "api:event-proposal-decide": Access(COURSE, _pk("event_proposal")),
    "api:notification-list": Access(OWN),
    "api:notification-detail": Access(MINE),
    "api:notification-mark-read": Access(OWN),
    "api:thread-list": Access(LIST),
    "api:thread-detail": Access(COURSE),
    "api:post-list": Access(LIST),
    "api:post-detail": Access(COURSE),
    "api:post-helpful": Access(COURSE, _pk("post")),
    "api:assignment-list": Access(LIST),
    "api:assignment-detail": Access(COURSE),
    "api:assignment-extensions": Access(COURSE),
    "api:assignment-extension": Access(
        COURSE, lambda w: {"pk": w.examples["assignment"].pk, "student_id": w.student.pk}
    ),
    "api:assignment-grades": Access(COURSE),
    "api:assignment-grade": Access(
        COURSE, lambda w: {"pk": w.examples["assignment"].pk, "student_id": w.student.pk}
    ),
    "api:assignment-progress": Access(COURSE),
    "api:assignment-release": Access(COURSE, _pk("assignment")),
    "api:assignment-withhold": Access(COURSE, _pk("assignment")),
    "api:flag-list": Access(LIST),
    "api:flag-detail": Access(COURSE),
    "api:moderation-list": Access(LIST),
    "api:moderation-detail": Access(COURSE),
    "api:moderation-act": Access(COURSE, _pk("item")),
    "api:moderation-act-many": Access(LIST),
    # Accounts
    "signup": Access(PUBLIC),
    "login": Access(PUBLIC),
    "logout": Access(PUBLIC),
    "my-data": Access(OWN),
    "password_change": Access(OWN),
    "password_change_done": Access(OWN),
    "password_reset": Access(PUBLIC),
    "password_reset_done": Access(PUBLIC),
    "password_reset_confirm": Access(PUBLIC),
    "password_reset_complete": Access(PUBLIC),
    # The reading, its claims, the timeline and actors
    "annotations:home": Access(PUBLIC),
    "annotations:reading-default": Access(PUBLIC),
    "annotations:reading": Access(PUBLIC),
    "annotations:claim-list": Access(PUBLIC),
    "annotations:claim-detail": Access(PUBLIC),
    "annotations:source-list": Access(PUBLIC),
    "annotations:course-sources": Access(COURSE),
    "timeline:timeline": Access(PUBLIC),
    "timeline:event-detail": Access(PUBLIC),
    "timeline:actor-list": Access(PUBLIC),
    "timeline:actor-detail": Access(PUBLIC),
    # Help
    "help:index": Access(PUBLIC),
    "help:annotations": Access(PUBLIC),
    "help:challenges": Access(PUBLIC),
    "help:evidence": Access(PUBLIC),
    "help:assignments": Access(PUBLIC),
    "help:moderation": Access(PUBLIC),
    "help:instructors": Access(PUBLIC),
    # Courses
    "courses:list": Access(LIST),
    "courses:create": Access(LIST),
    "courses:join": Access(LIST),
    "courses:detail": Access(COURSE),
    "courses:manage": Access(COURSE),
    "courses:edit": Access(COURSE, _course()),
    "courses:joining": Access(COURSE, _course()),
    "courses:regenerate-code": Access(COURSE, _course()),
    "courses:group-create": Access(COURSE, _course()),
    "courses:group-rename": Access(COURSE, _course(group_id=lambda w: w.group_a.pk)),
    "courses:group-delete": Access(COURSE),
    "courses:member-add": Access(COURSE, _course()),
    "courses:member-remove": Access(COURSE),
    "courses:member-role": Access(COURSE, _course(user_id=_student)),
    "courses:member-group": Access(COURSE, _course(user_id=_student)),
    # Annotating
    "annotate:reading": Access(COURSE),
    "annotate:paragraph-notes": Access(COURSE),
    "annotate:create": Access(COURSE, _course()),
    "annotate:edit": Access(COURSE),
    "annotate:delete": Access(COURSE),
    "annotate:helpful": Access(COURSE, _pk("annotation")),
    "annotate:reply": Access(COURSE, _pk("annotation")),
    "annotate:reply-edit": Access(COURSE),
    "annotate:reply-delete": Access(COURSE),
    # Challenges and links
    "challenges:claims": Access(COURSE),
    "challenges:claim": Access(COURSE),
    "challenges:create": Access(COURSE, _course(key=_claim_key)),
    "challenges:delete": Access(COURSE, _pk("challenge")),
    "challenges:reopen": Access(COURSE, _pk("challenge")),
    "challenges:resolve": Access(COURSE, _pk("challenge")),
    "challenges:respond": Access(COURSE, _pk("challenge")),
    "links:claim": Access(COURSE),
    "links:review": Access(COURSE),
    "links:propose-event": Access(COURSE),
    "links:course-timeline": Access(COURSE),
    "links:decide-link": Access(COURSE, _course(proposal_pk=lambda w: w.examples["link"].pk)),
    "links:decide-event": Access(COURSE, _course(proposal_pk=lambda w: w.examples["event_proposal"].pk)),
    # Discussion
    "threads:list": Access(COURSE),
    "threads:detail": Access(COURSE),
    "threads:mentions": Access(COURSE, query="?q=bound"),
    "threads:post": Access(COURSE, _course(thread_pk=lambda w: w.examples["thread"].pk)),
    "threads:moderate": Access(COURSE, _course(thread_pk=lambda w: w.examples["thread"].pk)),
    "threads:post-edit": Access(COURSE),
    "threads:post-delete": Access(COURSE, _pk("post", "post_pk")),
    "threads:post-helpful": Access(COURSE, _pk("post", "post_pk")),
    # Notifications
    "notifications:list": Access(OWN),
    "notifications:open": Access(MINE),
    "notifications:preferences": Access(OWN),
    "notifications:mark-all-read": Access(OWN),
    # Assignments, grading, exports, the dashboard
    "assignments:list": Access(COURSE),
    "assignments:create": Access(COURSE),
    "assignments:dashboard": Access(COURSE),
    "assignments:course-work-json": Access(COURSE),
    "assignments:detail": Access(COURSE),
    "assignments:edit": Access(COURSE),
    "assignments:delete": Access(COURSE),
    "assignments:progress": Access(COURSE),
    "assignments:grade": Access(COURSE),
    "assignments:grades-csv": Access(COURSE),
    "assignments:grades-canvas-csv": Access(COURSE),
    "assignments:work-json": Access(COURSE),
    "assignments:release": Access(COURSE, _pk("assignment")),
    "assignments:withhold": Access(COURSE, _pk("assignment")),
    "assignments:extension-grant": Access(COURSE, _pk("assignment")),
    "assignments:extension-revoke": Access(
        COURSE, lambda w: {"pk": w.examples["assignment"].pk, "user_id": w.student.pk}
    ),
    # Moderation
    "moderation:queue": Access(COURSE),
    "moderation:flag": Access(COURSE, _work("annotation", "annotation")),
    "moderation:hide": Access(COURSE, _work("annotation", "annotation")),
    "moderation:act": Access(COURSE, _work("annotation", "annotation")),
    "moderation:course-premoderation": Access(COURSE, _course()),
    "moderation:member-premoderation": Access(COURSE, _course(user_id=_student)),
    "moderation:student-premoderation": Access(COURSE, _course()),
}

# Routes that name a piece of work, rebuilt for group A's group-only work: a student of
# group B must get the same 404 for it as an outsider.
GROUP_WORK: dict[str, Callable[[World], dict[str, Any]]] = {
    "api:annotation-detail": _pk("group_note"),
    "api:annotation-helpful": _pk("group_note"),
    "api:annotation-replies": _pk("group_note"),
    "api:annotation-reply": lambda w: {
        "pk": w.examples["group_note"].pk,
        "reply_pk": w.examples["group_reply"].pk,
    },
    "api:thread-detail": _pk("group_thread"),
    "api:post-detail": _pk("group_post"),
    "api:post-helpful": _pk("group_post"),
    "annotate:edit": _pk("group_note"),
    "annotate:delete": _pk("group_note"),
    "annotate:helpful": _pk("group_note"),
    "annotate:reply": _pk("group_note"),
    "annotate:reply-edit": _pk("group_reply"),
    "annotate:reply-delete": _pk("group_reply"),
    "threads:detail": _course(thread_pk=lambda w: w.examples["group_thread"].pk),
    "threads:post": _course(thread_pk=lambda w: w.examples["group_thread"].pk),
    "threads:post-edit": _pk("group_post", "post_pk"),
    "threads:post-delete": _pk("group_post", "post_pk"),
    "threads:post-helpful": _pk("group_post", "post_pk"),
    "moderation:flag": _work("group_note", "annotation"),
}


# -- the expected answers -------------------------------------------------------------------

LOGIN = "login"  # a redirect to the login page


def _is_api(name: str) -> bool:
    return name.startswith("api:")


# Where an anonymous visitor is not simply sent to authenticate, and why.
ANONYMOUS_ANSWERS: dict[str, set[int | str]] = {
    # Sources are the reading's records, open to all: the list answers without the course's
    # student-added sources, and one of those is missing to a visitor as to an outsider.
    "api:source-list": {200},
    "api:source-detail": {404},
    "api:source-bibliography": {404},
}


def expected(name: str, method: str, who: str) -> set[int | str]:
    """The answers the contract allows for ``who`` using route ``name`` with ``method``;
    an empty set where the answer may be anything that neither leaks nor writes."""
    access = ACCESS[name]
    api = _is_api(name)
    if who == ANONYMOUS and method == "get" and name in ANONYMOUS_ANSWERS:
        return ANONYMOUS_ANSWERS[name]
    if who == ANONYMOUS:
        if access.kind == PUBLIC:
            return set()  # anything but a leak or a write; see test
        if api:
            # Token auth comes first, so a refused anonymous request is told to authenticate.
            return {401}
        return {LOGIN}
    # Signed in, but not allowed to see the course's objects (or, in ``GROUP_WORK``, the group's).
    if access.kind in (COURSE, MINE):
        return {404}
    return set()


def _cases() -> Iterator[tuple[str, str, str]]:
    for route in all_routes():
        if route.name not in ACCESS:
            continue
        kind = ACCESS[route.name].kind
        for method in METHODS:
            if method not in route.methods:
                continue
            whos = [ANONYMOUS]
            if kind == COURSE:
                whos += [OUTSIDER, ELSEWHERE_STAFF]
            if kind == MINE:
                whos.append(OUTSIDER)
            if route.name in GROUP_WORK:
                whos.append(OTHER_GROUP)
            if kind in (PUBLIC, OWN, LIST):
                whos.append(OUTSIDER)
            for who in whos:
                yield route.name, method, who


ROUTES = all_routes()
CASES = list(_cases())


# -- the world ------------------------------------------------------------------------------


@dataclass
class Walk:
    world: World
    users: dict[str, Any]


def _add_group_work(world: World) -> None:
    """Group-only work of group A: an annotation with a reply, a thread with a post, a flag."""
    paragraph = world.paragraph
    note = annotation_services.annotation_create(
        user=world.student,
        course=world.course,
        paragraph=paragraph,
        start=0,
        end=10,
        exact=paragraph.text[0:10],
        body="Group secret note.",
        visibility=Visibility.GROUP,
    )
    reply = annotation_services.reply_create(
        user=world.groupmate, annotation=note, body="Group secret reply."
    )
    thread = thread_services.thread_create(
        user=world.student,
        course=world.course,
        title="Group secret",
        body="Group secret opening.",
        group=world.group_a,
    )
    post = thread_services.post_create(user=world.groupmate, thread=thread, body="Group secret post.")
    moderation_services.flag_create(user=world.groupmate, target=note, reason=FlagReason.OFF_TOPIC)
    world.examples.update(group_note=note, group_reply=reply, group_thread=thread, group_post=post)


@pytest.fixture(scope="module")
def walk(django_db_setup, django_db_blocker) -> Iterator[Walk]:
    """The course with its work, and the people from elsewhere; rolled back at the end."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            world = build_world()
            _add_group_work(world)
            elsewhere = CourseFactory(title="Elsewhere", reading=world.paper)
            outsider = member(elsewhere, "walk_outsider", group=GroupFactory(course=elsewhere))
            elsewhere_staff = member(elsewhere, "walk_elsewhere_staff", role=Role.INSTRUCTOR)
            # Staff of another course may create courses: that right must not open this one.
            elsewhere_staff.user_permissions.set(world.instructor.user_permissions.all())
            yield Walk(
                world=world,
                users={
                    OUTSIDER: outsider,
                    ELSEWHERE_STAFF: elsewhere_staff,
                    OTHER_GROUP: world.other_group_student,
                    ANONYMOUS: None,
                },
            )
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _url(walk: Walk, name: str, who: str) -> str:
    world = walk.world
    access = ACCESS[name]
    if who == OTHER_GROUP:
        kwargs = GROUP_WORK[name](world)
    elif access.kwargs is not None:
        kwargs = access.kwargs(world)
    elif name in EXAMPLES:
        kwargs = EXAMPLES[name].kwargs(world)
    else:
        kwargs = {}
    return reverse(name, kwargs=kwargs) + access.query.format(course=world.course.pk)


# A plausible body for any write: a view that forgot its check would act on it.
BODY = {
    "body": "Written by someone who may not.",
    "text": "Written by someone who may not.",
    "title": "Intruder",
    "name": "Intruder",
    "reason": FlagReason.SPAM,
    "feedback": "No.",
    "accept": "true",
    "action": "hide",
    "status": "rejected",
    "score": "1",
    "role": Role.INSTRUCTOR,
    "visibility": Visibility.COURSE,
    "join_code": "",
    "enabled": "true",
}

MODELS = [
    model for model in apps.get_models() if model._meta.app_label in ("annotations", "timeline", "auth")
]


def _counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in MODELS}


def _send(client: Client, name: str, method: str, url: str):
    if method == "get":
        return client.get(url)
    if _is_api(name):
        return getattr(client, method)(url, BODY, content_type="application/json")
    if method == "post":
        return client.post(url, BODY)
    return getattr(client, method)(url)


def _body(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", "replace")


def test_every_url_has_an_access_example():
    missing = [route.name for route in ROUTES if route.name not in ACCESS]
    assert not missing, "\n".join(f"add an access example for {name}" for name in missing)


def test_the_access_table_names_only_existing_urls():
    names = {route.name for route in ROUTES}
    assert not (set(ACCESS) | set(GROUP_WORK)) - names, sorted((set(ACCESS) | set(GROUP_WORK)) - names)


@pytest.mark.parametrize(("name", "method", "who"), CASES, ids=[f"{n}-{m.upper()}-{w}" for n, m, w in CASES])
def test_a_user_gets_nothing_they_may_not_see(name: str, method: str, who: str, walk: Walk, db):
    url = _url(walk, name, who)
    client = Client()
    user = walk.users[who]
    if user is not None:
        client.force_login(user)
    before = _counts()

    response = _send(client, name, method, url)

    allowed = expected(name, method, who)
    answer: int | str = response.status_code
    if response.status_code == 302 and response["Location"].startswith(reverse("login")):
        answer = LOGIN
    if allowed:
        assert answer in allowed, (
            f"{method.upper()} {url} as {who}: {answer}, expected one of {sorted(map(str, allowed))}"
        )
    body = _body(response)
    leaked = [secret for secret in SECRETS if secret in body]
    assert not leaked, f"{method.upper()} {url} as {who} answered {response.status_code} with {leaked}"
    refused = bool(allowed) or response.status_code >= 400
    if refused or method != "get":
        assert _counts() == before, f"{method.upper()} {url} as {who} ({response.status_code}) changed rows"
