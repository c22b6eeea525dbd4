"""Hidden and waiting work leaks nowhere.

Each kind of student work (an annotation, a challenge, a post, a course's source) is written
by ``author`` with a unique marker in its text, then either hidden by the TA (with a reason)
or left waiting for approval (the course is pre-moderated). Classmates, students of other
courses and anonymous visitors must never meet the marker: not in API lists, details,
searches, the W3C collection, bibliography downloads, pages, notifications; and no count
(posts of a thread, unread, evidence, progress, dashboard, exports) may include the work.
The author and the course's staff still read it in full.
"""

from __future__ import annotations

import json
from itertools import product

import pytest
from django.urls import reverse

from annotations import dashboard, selectors
from annotations.grading import class_progress
from annotations.models import Claim, ModerationItem, Notification, Post
from annotations.models.annotation import Visibility
from annotations.models.moderated import ModerationState
from annotations.services import annotations as annotation_services
from annotations.services import challenges as challenge_services
from annotations.services import moderation
from annotations.services import sources as source_services
from annotations.services import threads as thread_services
from annotations.services.challenges import evidence_for
from tests.helpers import queries_for

pytestmark = pytest.mark.django_db

MARKER = "zanzibarquokka"
REASON = "Off-topic: keep to the reading."
KINDS = ("annotation", "challenge", "post", "source")
STATES = (ModerationState.HIDDEN, ModerationState.PENDING)
OUTSIDERS = ("groupmate", "other_group_student", "other_course_student", "anonymous")


@pytest.fixture
def claim(paper):
    return Claim.objects.filter(paragraph__document=paper).order_by("paragraph__order", "start").first()


@pytest.fixture
def thread(course, groupmate):
    """A course-wide thread opened (and published) by a classmate before any moderation."""
    return thread_services.thread_create(
        user=groupmate, course=course, title="About the reading", body="Opening post."
    )


def _write(kind: str, *, course, author, paper, claim, thread):
    """One piece of ``author``'s work of ``kind``, shared with the whole course, with the marker."""
    if kind == "annotation":
        return annotation_services.annotation_create(
            user=author,
            course=course,
            paragraph=paper.paragraphs.get(order=1),
            start=0,
            end=10,
            body=f"My note {MARKER}.",
            visibility=Visibility.COURSE,
        )
    if kind == "challenge":
        # Needs context: an open one would make the claim "contested".
        return challenge_services.challenge_create(
            user=author, course=course, claim=claim, stance="needs_context", argument=f"Why {MARKER}?"
        )
    if kind == "post":
        return thread_services.post_create(user=author, thread=thread, body=f"Reply {MARKER} @groupmate")
    source, _ = source_services.source_add(
        user=author, course=course, kind="article", authors=["Doe, Jane"], year=2001, title=f"On {MARKER}"
    )
    return source


@pytest.fixture(params=list(product(KINDS, STATES)), ids=lambda p: f"{p[0]}-{p[1]}")
def work(request, course, author, paper, claim, thread, instructor, ta):
    """``(kind, state, the work)``: hidden by the TA with a reason, or waiting for approval."""
    kind, state = request.param
    if state == ModerationState.PENDING:
        moderation.course_set_premoderation(user=instructor, course=course, enabled=True)
    target = _write(kind, course=course, author=author, paper=paper, claim=claim, thread=thread)
    if state == ModerationState.HIDDEN:
        moderation.hide(user=ta, target=target, reason=REASON)
    target.refresh_from_db()
    assert target.moderation == state
    return kind, state, target


def _client_for(client, request, who: str):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    return client


def _detail_url(kind: str, target) -> str:
    if kind == "source":
        return f"/api/v1/sources/{target.key}/"
    return f"/api/v1/{kind}s/{target.pk}/"


def _text(response) -> str:
    return response.content.decode()


# -- lists, details, search, W3C, bibliography ------------------------------------------------


@pytest.mark.parametrize("who", OUTSIDERS)
def test_the_marker_appears_in_no_api_list_search_collection_or_bibliography(
    request, client, work, who, course, thread
):
    _client_for(client, request, who)
    urls = [
        "/api/v1/annotations/",
        f"/api/v1/annotations/?q={MARKER}",
        f"/api/v1/annotations/?course={course.pk}",
        "/api/v1/challenges/",
        f"/api/v1/challenges/?course={course.pk}",
        "/api/v1/posts/",
        f"/api/v1/posts/?thread={thread.pk}",
        "/api/v1/threads/",
        f"/api/v1/threads/{thread.pk}/",
        "/api/v1/sources/",
        f"/api/v1/sources/?q={MARKER}",
        f"/api/v1/sources/?course={course.pk}",
        f"/api/v1/courses/{course.pk}/annotations/",
        f"/api/v1/courses/{course.pk}/annotations/?page=1",
        f"/api/v1/sources/bibliography/?course={course.pk}&format=bibtex",
        f"/api/v1/sources/bibliography/?course={course.pk}&format=csl-json",
    ]
    for url in urls:
        response = client.get(url)
        assert MARKER not in _text(response), url


@pytest.mark.parametrize("who", OUTSIDERS)
def test_the_work_itself_is_a_404_or_refused(request, client, work, who):
    kind, _state, target = work
    _client_for(client, request, who)
    response = client.get(_detail_url(kind, target))
    expected = {404} if who != "anonymous" or kind == "source" else {401, 403, 404}
    assert response.status_code in expected
    assert MARKER not in _text(response)


@pytest.mark.parametrize("who", ["author", "ta"])
def test_its_author_and_the_staff_still_read_it_in_full(request, client, work, who):
    kind, state, target = work
    client.force_login(request.getfixturevalue(who))
    response = client.get(_detail_url(kind, target))
    assert response.status_code == 200
    assert MARKER in _text(response)
    assert response.data.get("moderation", state) == state


def test_the_w3c_collection_leaves_hidden_and_waiting_work_out_even_for_staff(client, work, ta, course):
    """A W3C collection travels to other tools, where moderation cannot follow it."""
    client.force_login(ta)
    page = client.get(f"/api/v1/courses/{course.pk}/annotations/?page=1")
    assert MARKER not in _text(page)
    collection = client.get(f"/api/v1/courses/{course.pk}/annotations/")
    assert collection.json()["total"] == 0


@pytest.mark.parametrize("fmt", ["bibtex", "csl-json"])
def test_a_downloaded_bibliography_lists_only_published_course_sources(client, course, author, ta, fmt):
    hidden, _ = source_services.source_add(
        user=author, course=course, kind="article", authors=["Doe, Jane"], year=2001, title=f"On {MARKER}"
    )
    source_services.source_add(
        user=author, course=course, kind="article", authors=["Roe, Rick"], year=2002, title="Kept in view"
    )
    moderation.hide(user=ta, target=hidden, reason=REASON)
    for user in (author, ta):
        client.force_login(user)
        body = _text(client.get(f"/api/v1/sources/bibliography/?course={course.pk}&format={fmt}"))
        assert "Kept in view" in body
        assert MARKER not in body


# -- pages --------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["groupmate", "other_group_student", "other_course_student"])
def test_no_course_page_shows_the_marker_to_students(request, client, work, who, course, claim, thread):
    _client_for(client, request, who)
    urls = [
        reverse("annotate:reading", kwargs={"pk": course.pk}),
        reverse("challenges:claim", kwargs={"pk": course.pk, "key": claim.key}),
        reverse("threads:list", kwargs={"pk": course.pk}),
        reverse("threads:detail", kwargs={"pk": course.pk, "thread_pk": thread.pk}),
        reverse("annotations:course-sources", kwargs={"pk": course.pk}),
        reverse("challenges:claims", kwargs={"pk": course.pk}),
        reverse("courses:detail", kwargs={"pk": course.pk}),
        reverse("notifications:list"),
    ]
    for url in urls:
        assert MARKER not in _text(client.get(url)), url


# -- notifications ------------------------------------------------------------------------------


def test_no_notification_ever_carries_the_marker(work):
    assert not Notification.objects.filter(text__icontains=MARKER).exists()
    assert not Notification.objects.filter(url__icontains=MARKER).exists()


def test_a_waiting_posts_mention_notifies_only_once_approved(
    course, instructor, author, groupmate, thread, ta
):
    moderation.course_set_premoderation(user=instructor, course=course, enabled=True)
    post = thread_services.post_create(user=author, thread=thread, body=f"Look {MARKER} @groupmate")
    assert post.moderation == ModerationState.PENDING
    assert not Notification.objects.filter(recipient=groupmate, kind="mention").exists()

    item = ModerationItem.objects.get(post=post)
    moderation.moderate(user=ta, item=item, action="approve", expected_version=item.version)

    mention = Notification.objects.get(recipient=groupmate, kind="mention")
    assert mention.text == f"author mentioned you in “{thread.title}”"
    assert MARKER not in mention.text


def test_a_hidden_posts_mention_was_told_before_hiding_but_never_its_text(author, groupmate, thread, ta):
    post = thread_services.post_create(user=author, thread=thread, body=f"Look {MARKER} @groupmate")
    moderation.hide(user=ta, target=post, reason=REASON)
    assert Notification.objects.filter(recipient=groupmate, kind="mention").count() == 1
    assert not Notification.objects.filter(text__icontains=MARKER).exists()


# -- counts -------------------------------------------------------------------------------------


def only(kind: str, *, states=STATES):
    """Parametrize ``work`` with one kind of work, in each state."""
    return pytest.mark.parametrize("work", [(kind, s) for s in states], indirect=True, ids=lambda p: p[1])


@only("post")
@pytest.mark.parametrize(
    ("who", "seen"), [("groupmate", 1), ("other_group_student", 1), ("author", 2), ("ta", 2)]
)
def test_a_threads_post_count_counts_only_posts_the_reader_may_read(request, client, work, thread, who, seen):
    client.force_login(request.getfixturevalue(who))
    assert client.get(f"/api/v1/threads/{thread.pk}/").data["post_count"] == seen
    listed = client.get("/api/v1/threads/").data
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [row["post_count"] for row in rows if row["id"] == thread.pk] == [seen]
    page = _text(client.get(reverse("threads:list", kwargs={"pk": thread.course_id})))
    assert f"{seen} post{'s' if seen > 1 else ''}" in page


def test_a_waiting_post_leaves_the_thread_read_for_classmates(
    client, course, instructor, author, groupmate, thread
):
    thread_services.thread_mark_read(user=groupmate, thread=thread)
    moderation.course_set_premoderation(user=instructor, course=course, enabled=True)
    thread_services.post_create(user=author, thread=thread, body=f"Late {MARKER}")

    client.force_login(groupmate)
    unread_threads = client.get("/api/v1/threads/?unread=true").data
    rows = unread_threads["results"] if isinstance(unread_threads, dict) else unread_threads
    assert rows == []
    unread_posts = client.get("/api/v1/posts/?unread=true")
    assert MARKER not in _text(unread_posts)


def test_a_hidden_post_is_never_among_a_classmates_unread_posts(client, author, groupmate, thread, ta):
    thread_services.thread_mark_read(user=groupmate, thread=thread)
    post = thread_services.post_create(user=author, thread=thread, body=f"Late {MARKER}")
    moderation.hide(user=ta, target=post, reason=REASON)

    client.force_login(groupmate)
    response = client.get(f"/api/v1/posts/?unread=true&thread={thread.pk}")
    assert MARKER not in _text(response)


def test_a_pre_moderated_students_new_thread_is_not_listed_for_classmates(
    client, course, instructor, author, groupmate, ta
):
    moderation.course_set_premoderation(user=instructor, course=course, enabled=True)
    thread = thread_services.thread_create(user=author, course=course, title=f"Title {MARKER}", body="Body.")

    client.force_login(groupmate)
    assert MARKER not in _text(client.get("/api/v1/threads/"))
    assert client.get(f"/api/v1/threads/{thread.pk}/").status_code == 404
    assert MARKER not in _text(client.get(reverse("threads:list", kwargs={"pk": course.pk})))
    for user in (author, ta):
        client.force_login(user)
        assert client.get(f"/api/v1/threads/{thread.pk}/").data["title"] == f"Title {MARKER}"

    item = ModerationItem.objects.get(post__thread=thread)
    moderation.moderate(user=ta, item=item, action="approve", expected_version=item.version)
    client.force_login(groupmate)
    assert client.get(f"/api/v1/threads/{thread.pk}/").data["title"] == f"Title {MARKER}"


def test_hidden_work_cannot_be_marked_helpful_by_a_classmate(client, course, author, paper, groupmate, ta):
    note = _write("annotation", course=course, author=author, paper=paper, claim=None, thread=None)
    moderation.hide(user=ta, target=note, reason=REASON)
    client.force_login(groupmate)
    response = client.post(f"/api/v1/annotations/{note.pk}/helpful/")
    assert response.status_code == 404
    assert not note.reactions.exists()


@only("challenge")
def test_a_hidden_or_waiting_challenge_does_not_change_the_claims_evidence(work, course, claim, ta):
    assert evidence_for(course, [claim])[claim.pk].status == "unchallenged"

    item = ModerationItem.objects.get(challenge=work[2])
    action = "restore" if work[1] == ModerationState.HIDDEN else "approve"
    moderation.moderate(
        user=ta, item=item, action=action, reason="Fine after all.", expected_version=item.version
    )
    assert evidence_for(course, [claim])[claim.pk].status == "contested"


def test_hidden_or_waiting_work_counts_for_no_progress(work, assignment, author):
    row = next(row for row in class_progress(assignment) if row.student == author)
    assert (row.tallies["annotations"].counted, row.tallies["challenges"].counted) == (0, 0)


def test_the_dashboard_counts_only_published_work(client, work, course, ta):
    totals = dict(zip(dashboard.PARTICIPATION_KINDS, dashboard.participation(ta, course).totals, strict=True))
    # The classmate's opening post is the one published piece of work.
    assert totals == {"annotations": 0, "challenges": 0, "posts": 1, "replies": 0}
    assert sum(cell.count for _, cells in dashboard.heat_map(ta, course) for cell in cells) == 0
    assert dashboard.most_challenged(ta, course) == []
    assert dashboard.open_items(ta, course)[0].count == 0

    client.force_login(ta)
    page = _text(client.get(reverse("assignments:dashboard", kwargs={"pk": course.pk})))
    assert MARKER not in page


def test_the_assignments_work_export_lists_no_hidden_or_waiting_work(client, work, assignment, ta):
    client.force_login(ta)
    response = client.get(reverse("assignments:work-json", kwargs={"pk": assignment.pk}))
    data = json.loads(response.content)
    assert MARKER not in response.content.decode()
    student = next(s for s in data["students"] if s["username"] == "author")
    assert student["tallies"]["annotations"]["on_time"] == 0
    assert student["tallies"]["challenges"]["on_time"] == 0


@pytest.mark.parametrize(
    "work", list(product(("annotation", "challenge", "post"), STATES)), indirect=True, ids="-".join
)
def test_the_course_work_export_marks_every_hidden_or_waiting_item_with_its_state(client, work, course, ta):
    """Staff only, and moderation destroys nothing: the item is there, marked with its state."""
    _kind, state, target = work
    client.force_login(ta)
    data = json.loads(client.get(reverse("assignments:course-work-json", kwargs={"pk": course.pk})).content)
    items = [*data["annotations"], *data["challenges"], *(p for t in data["threads"] for p in t["posts"])]
    with_marker = [item for item in items if MARKER in json.dumps(item)]
    assert [(i["id"], i["moderation"]) for i in with_marker] == [(target.pk, state)]
    expected_reason = REASON if state == ModerationState.HIDDEN else ""
    assert with_marker[0]["moderation_reason"] == expected_reason
    others = [item for item in items if MARKER not in json.dumps(item)]
    assert all(item["moderation"] == ModerationState.PUBLISHED for item in others)


# -- queries ------------------------------------------------------------------------------------


def test_the_thread_list_costs_the_same_queries_whatever_is_hidden(
    client, course, author, groupmate, thread, ta
):
    client.force_login(groupmate)
    url = reverse("threads:list", kwargs={"pk": course.pk})
    api = "/api/v1/threads/"
    before = (queries_for(client, url), queries_for(client, api))
    for n in range(3):
        post = thread_services.post_create(user=author, thread=thread, body=f"Reply {n}")
        moderation.hide(user=ta, target=post, reason=REASON)
        thread_services.thread_create(user=author, course=course, title=f"More {n}", body="Body.")
    assert (queries_for(client, url), queries_for(client, api)) == before
    assert Post.objects.filter(moderation=ModerationState.HIDDEN).count() == 3


def test_a_pages_bibliography_shows_each_reader_what_they_may_see(course, author, groupmate, ta, instructor):
    hidden, _ = source_services.source_add(
        user=author, course=course, kind="article", authors=["Doe, Jane"], year=2001, title="Hidden one"
    )
    moderation.hide(user=ta, target=hidden, reason=REASON)
    moderation.course_set_premoderation(user=instructor, course=course, enabled=True)
    source_services.source_add(
        user=author, course=course, kind="article", authors=["Roe, Rick"], year=2002, title="Waiting one"
    )

    def titles(user=None, **kwargs) -> set[str]:
        found = selectors.course_bibliography(course, user, **kwargs)
        return {source.title for source in found if source.course_id == course.pk}

    assert titles() == set()  # a file to download: published only
    assert titles(groupmate) == set()
    # A page keeps the hidden one's place (it shows a placeholder); a waiting one is no one's business.
    assert titles(groupmate, placeholders=True) == {"Hidden one"}
    assert titles(author) == titles(ta) == {"Hidden one", "Waiting one"}


def test_the_dashboard_names_the_review_queue_without_the_works_text(
    client, course, author, groupmate, thread, ta
):
    post = thread_services.post_create(user=author, thread=thread, body=f"Rude {MARKER}")
    moderation.flag_create(user=groupmate, target=post, reason="inappropriate")

    queue = {group.key: group for group in dashboard.open_items(ta, course)}["moderation"]
    assert (queue.count, [item.text for item in queue.items]) == (1, ["post by author (1 flag)"])
    client.force_login(ta)
    page = _text(client.get(reverse("assignments:dashboard", kwargs={"pk": course.pk})))
    assert "Review queue" in page
    assert reverse("moderation:queue", kwargs={"pk": course.pk}) in page
    assert MARKER not in page


def test_a_post_hidden_since_the_last_visit_does_not_make_the_thread_unread(course, author, groupmate, ta):
    from rest_framework.test import APIClient

    from annotations.services import moderation as moderation_services
    from annotations.services import threads as thread_services

    thread = thread_services.thread_create(user=author, course=course, title="Quiet", body="First.")
    thread_services.thread_mark_read(user=groupmate, thread=thread)
    later = thread_services.post_create(user=author, thread=thread, body="Something to hide.")
    moderation_services.hide(user=ta, target=later, reason="Off-topic.")
    client = APIClient()
    client.force_authenticate(groupmate)

    unread = client.get("/api/v1/threads/", {"unread": "true"}).data["results"]
    assert [row["id"] for row in unread] == []
    thread_services.post_create(user=author, thread=thread, body="Back on topic.")
    unread = client.get("/api/v1/threads/", {"unread": "true"}).data["results"]
    assert [row["id"] for row in unread] == [thread.pk]
