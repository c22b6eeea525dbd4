"""/api/v1/flags/ and /api/v1/moderation/: who flags and who moderates, the queue's rows and
filters, acts and bulk acts with their audit entries, the 409 on a stale version, twenty
moderators at once, query counts; and the moderation fields of the work's own resources."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from annotations.api.threads import PostSerializer
from annotations.models import AuditEntry, Claim, Flag, Membership, ModerationItem, Post, Source
from annotations.models.annotation import Visibility
from annotations.models.challenges import Stance
from annotations.models.moderated import ModerationState
from annotations.models.moderation import FlagStatus, ItemStatus
from annotations.services import annotations as annotation_services
from annotations.services import challenges as challenge_services
from annotations.services import moderation as services
from annotations.services import threads as thread_services
from annotations.services.sources import source_add

pytestmark = pytest.mark.django_db

FLAGS = "/api/v1/flags/"
QUEUE = "/api/v1/moderation/"
KINDS = ["annotation", "post", "challenge", "source"]
STAFF = ["ta", "instructor", "curator"]


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def make_work(kind: str, author, course, paper, marker: str = "Plain words."):
    """One piece of course-visible work of ``kind`` by ``author``, through the real services."""
    if kind == "annotation":
        return annotation_services.annotation_create(
            user=author,
            course=course,
            paragraph=paper.paragraphs.get(order=1),
            start=0,
            end=10,
            body=marker,
            visibility=Visibility.COURSE,
        )
    if kind == "challenge":
        claim = Claim.objects.filter(paragraph__document=paper).order_by("key").first()
        return challenge_services.challenge_create(
            user=author, course=course, claim=claim, stance=Stance.SUPPORTS, argument=marker
        )
    if kind == "post":
        thread = thread_services.thread_create(user=author, course=course, title="On p-1", body="Opening.")
        return thread_services.post_create(user=author, thread=thread, body=marker)
    source, _ = source_add(user=author, course=course, kind="book", title=marker, year=2001)
    return source


def name_of(work) -> str:
    """How the API names a piece of work: a source by its key, the rest by id."""
    return work.key if isinstance(work, Source) else str(work.pk)


def flag(user, work, reason="spam", text=""):
    return services.flag_create(user=user, target=work, reason=reason, text=text)


def item_of(work) -> ModerationItem:
    return ModerationItem.objects.get(**{services.kind_of(work): work})


@pytest.fixture
def post(course, author, paper):
    return make_work("post", author, course, paper, "Something off-topic.")


@pytest.fixture
def flagged(post, groupmate) -> ModerationItem:
    flag(groupmate, post, "off_topic")
    return item_of(post)


# -- who may call what ---------------------------------------------------------------------


def test_anonymous_callers_get_a_401_everywhere(flagged):
    client = APIClient()
    calls = [
        client.get(FLAGS),
        client.post(FLAGS, {"kind": "post", "target": str(flagged.post_id), "reason": "spam"}),
        client.get(QUEUE),
        client.get(f"{QUEUE}{flagged.pk}/"),
        client.post(f"{QUEUE}{flagged.pk}/act/", {"action": "review", "version": 1}, format="json"),
        client.post(
            f"{QUEUE}act/", {"action": "review", "items": [{"id": flagged.pk, "version": 1}]}, format="json"
        ),
    ]
    assert [response.status_code for response in calls] == [401] * 6
    assert Flag.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "listed", "detail", "acting"),
    [
        ("author", 403, 403, 403),
        ("groupmate", 403, 403, 403),
        ("other_course_student", 404, 404, 404),
        ("other_instructor", 404, 404, 404),
        ("outsider", 404, 404, 404),
        ("ta", 200, 200, 200),
        ("instructor", 200, 200, 200),
        ("curator", 200, 200, 200),
    ],
)
def test_only_the_course_staff_read_and_work_its_queue(request, course, flagged, who, listed, detail, acting):
    client = client_for(request.getfixturevalue(who))
    before = AuditEntry.objects.count()

    queue = client.get(QUEUE, {"course": course.pk})
    one = client.get(f"{QUEUE}{flagged.pk}/")
    act = client.post(f"{QUEUE}{flagged.pk}/act/", {"action": "review", "version": 1}, format="json")

    assert (queue.status_code, one.status_code, act.status_code) == (listed, detail, acting)
    if acting == 200:
        assert [row["id"] for row in queue.data["results"]] == [flagged.pk]
        assert one.data["flags"][0]["reason"] == "off_topic"
        assert act.data["last_action"] == "review"
        assert AuditEntry.objects.count() == before + 1
    else:
        assert "results" not in queue.data
        assert "flags" not in one.data
        assert AuditEntry.objects.count() == before
        assert item_of(flagged.post).version == 1


@pytest.mark.parametrize("who", ["author", "groupmate", "other_course_student", "outsider"])
def test_the_unscoped_queue_is_empty_for_those_who_moderate_nothing_there(request, flagged, who):
    response = client_for(request.getfixturevalue(who)).get(QUEUE)

    assert response.status_code == 200
    assert response.data["results"] == []


@pytest.mark.parametrize("who", ["author", "groupmate", "other_course_student", "outsider"])
def test_non_staff_cannot_bulk_act(request, flagged, who):
    response = client_for(request.getfixturevalue(who)).post(
        f"{QUEUE}act/", {"action": "review", "items": [{"id": flagged.pk, "version": 1}]}, format="json"
    )

    assert response.status_code == 403
    assert response.data["detail"] == services.NOT_STAFF
    assert item_of(flagged.post).version == 1


# -- flags -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_flag_round_trip(course, paper, author, groupmate, ta, kind):
    work = make_work(kind, author, course, paper, f"Marker for {kind}.")
    member = client_for(groupmate)

    created = member.post(FLAGS, {"kind": kind, "target": name_of(work), "reason": "spam"}, format="json")

    assert created.status_code == 201
    assert {k: created.data[k] for k in ("course", "kind", "target", "flagger", "reason", "status")} == {
        "course": course.pk,
        "kind": kind,
        "target": name_of(work),
        "flagger": "groupmate",
        "reason": "spam",
        "status": "open",
    }
    queue = client_for(ta).get(QUEUE, {"course": course.pk}).data["results"]
    assert [(row["kind"], row["target"], row["flag_count"], row["excerpt"]) for row in queue] == [
        (kind, name_of(work), 1, f"Marker for {kind}.")
    ]
    hidden = client_for(ta).post(
        f"{QUEUE}{queue[0]['id']}/act/", {"action": "hide", "reason": "Spam.", "version": 1}, format="json"
    )
    assert (hidden.data["state"], hidden.data["reason"], hidden.data["status"]) == (
        "hidden",
        "Spam.",
        "closed",
    )
    mine = member.get(FLAGS).data["results"]
    assert [(row["id"], row["status"]) for row in mine] == [(created.data["id"], "upheld")]


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"reason": "other", "text": "  "}, "text", services.NEEDS_TEXT),
        ({"reason": "rude"}, "reason", None),
        ({"reason": "spam", "kind": "thread"}, "kind", None),
    ],
)
def test_a_flag_with_bad_fields_is_a_400_by_field(post, groupmate, payload, field, message):
    body = {"kind": "post", "target": str(post.pk), **payload}

    response = client_for(groupmate).post(FLAGS, body, format="json")

    assert response.status_code == 400
    assert field in response.data
    if message:
        assert response.data[field] == [message]
    assert not Flag.objects.exists()


def test_flagging_twice_or_flagging_your_own_work_is_a_400(post, author, groupmate):
    body = {"kind": "post", "target": str(post.pk), "reason": "spam"}
    assert client_for(groupmate).post(FLAGS, body, format="json").status_code == 201

    again = client_for(groupmate).post(FLAGS, body, format="json")
    own = client_for(author).post(FLAGS, body, format="json")

    assert (again.status_code, again.data["non_field_errors"]) == (400, [services.ALREADY_FLAGGED])
    assert (own.status_code, own.data["non_field_errors"]) == (400, [services.OWN_WORK])
    assert Flag.objects.count() == 1


def test_a_readings_own_source_cannot_be_flagged(course, groupmate):
    reading_source = Source.objects.filter(course__isnull=True).order_by("key").first()

    response = client_for(groupmate).post(
        FLAGS, {"kind": "source", "target": reading_source.key, "reason": "spam"}, format="json"
    )

    assert (response.status_code, response.data["non_field_errors"]) == (400, [services.READING_SOURCE])


@pytest.mark.parametrize(
    "who", ["other_course_student", "other_instructor", "outsider", "other_group_student"]
)
def test_flagging_work_you_cannot_see_is_a_404(request, course, paper, author, who):
    note = annotation_services.annotation_create(
        user=author,
        course=course,
        paragraph=paper.paragraphs.get(order=1),
        start=0,
        end=10,
        body="For my group.",
        visibility=Visibility.GROUP,
    )

    response = client_for(request.getfixturevalue(who)).post(
        FLAGS, {"kind": "annotation", "target": str(note.pk), "reason": "spam"}, format="json"
    )

    assert response.status_code == 404
    assert not Flag.objects.exists()


def test_flagging_a_missing_or_malformed_target_is_a_404(groupmate, course):
    client = client_for(groupmate)
    for kind, target in [("post", "999999"), ("post", "abc"), ("annotation", "x"), ("source", "no-such-key")]:
        response = client.post(FLAGS, {"kind": kind, "target": target, "reason": "spam"}, format="json")
        assert response.status_code == 404, (kind, target)
        assert "id" not in response.data
    assert not Flag.objects.exists()


@pytest.fixture
def two_flags(course, paper, author, groupmate, other_group_student, other_course_student, other_course):
    note = make_work("annotation", author, course, paper, "A note.")
    post = make_work("post", author, course, paper, "A post.")
    elsewhere = make_work("post", other_course_student, other_course, paper, "Elsewhere.")
    return {
        "mine": flag(groupmate, note, "spam"),
        "theirs": flag(other_group_student, post, "other", "Not about the paper."),
        "elsewhere": elsewhere,
    }


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("groupmate", ["mine"]),
        ("other_group_student", ["theirs"]),
        ("author", []),
        ("other_course_student", []),
        ("other_instructor", []),
        ("ta", ["theirs", "mine"]),
        ("instructor", ["theirs", "mine"]),
        ("curator", ["theirs", "mine"]),
    ],
)
def test_members_read_their_own_flags_and_staff_their_courses(request, two_flags, who, sees):
    user = request.getfixturevalue(who)

    listed = client_for(user).get(FLAGS).data["results"]

    assert [row["id"] for row in listed] == [two_flags[name].pk for name in sees]
    mine = client_for(user).get(f"{FLAGS}{two_flags['mine'].pk}/")
    assert mine.status_code == (200 if "mine" in sees else 404)


def test_staff_filter_the_flags_of_their_course(course, two_flags, ta):
    client = client_for(ta)

    def ids(**params) -> list[int]:
        return [row["id"] for row in client.get(FLAGS, params).data["results"]]

    mine, theirs = two_flags["mine"].pk, two_flags["theirs"].pk
    assert ids(reason="other") == [theirs]
    assert ids(kind="annotation") == [mine]
    assert ids(course=course.pk, status="open") == [theirs, mine]
    assert ids(status="upheld") == []
    assert client.get(FLAGS, {"reason": "rude"}).status_code == 400


# -- the queue: rows, filters, order -----------------------------------------------------------


def test_a_queue_row_shows_the_work_its_flags_and_what_was_done(course, flagged, other_group_student, ta):
    flag(other_group_student, flagged.post, "other", "Not about the paper.")

    row = client_for(ta).get(f"{QUEUE}{flagged.pk}/").data

    assert {k: row[k] for k in ("course", "kind", "target", "author", "state", "reason", "excerpt")} == {
        "course": course.pk,
        "kind": "post",
        "target": str(flagged.post_id),
        "author": "author",
        "state": "published",
        "reason": "",
        "excerpt": "Something off-topic.",
    }
    assert (row["flag_count"], row["status"], row["version"], row["last_action"]) == (2, "open", 1, "")
    assert [(f["flagger"], f["reason"], f["text"], f["status"]) for f in row["flags"]] == [
        ("groupmate", "off_topic", "", "open"),
        ("other_group_student", "other", "Not about the paper.", "open"),
    ]


def test_the_queue_is_ordered_by_flag_count_then_age_and_filtered(
    course, paper, author, groupmate, other_group_student, ungrouped_student, ta
):
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        old = make_work("annotation", author, course, paper, "Old note.")
        flag(groupmate, old, "spam")
    with time_machine.travel(start + timedelta(days=2), tick=False):
        busy = make_work("post", groupmate, course, paper, "Busy post.")
        flag(ungrouped_student, busy, "harassment")
        flag(other_group_student, busy, "spam")
        newer = make_work("challenge", author, course, paper, "Newer challenge.")
        flag(groupmate, newer, "off_topic")
    client = client_for(ta)

    def ids(**params) -> list[int]:
        response = client.get(QUEUE, params)
        assert response.status_code == 200, response.data
        return [row["id"] for row in response.data["results"]]

    old_i, busy_i, newer_i = item_of(old).pk, item_of(busy).pk, item_of(newer).pk
    assert ids() == [busy_i, old_i, newer_i]
    assert ids(kind="challenge") == [newer_i]
    assert ids(reason="spam") == [busy_i, old_i]
    assert ids(author="groupmate") == [busy_i]
    assert ids(opened_after=(start + timedelta(days=1)).isoformat()) == [busy_i, newer_i]
    assert ids(opened_before=(start + timedelta(days=1)).isoformat()) == [old_i]
    services.moderate(user=ta, item=item_of(old), action="dismiss", expected_version=1)
    assert ids(status="closed") == [old_i]
    assert ids(status="open", course=course.pk) == [busy_i, newer_i]


def test_the_queue_pages_walk_the_whole_order_forwards_and_back(course, paper, author, groupmate, ta):
    """A page is cut from the items alone and then read in full: the pages, in both
    directions, still give every item once, in the queue's order."""
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    made = []
    for n in range(7):
        with time_machine.travel(start + timedelta(hours=n), tick=False):
            work = make_work("annotation", author, course, paper, f"Note {n}.")
            flag(groupmate, work, "spam")
            made.append(item_of(work).pk)
    client = client_for(ta)
    forwards, url = [], QUEUE + "?page_size=3"
    while url:
        data = client.get(url).data
        forwards.append([row["id"] for row in data["results"]])
        url = data["next"]
    backwards, url = [], data["previous"]
    while url:
        data = client.get(url).data
        backwards.insert(0, [row["id"] for row in data["results"]])
        url = data["previous"]

    assert forwards == [made[0:3], made[3:6], made[6:]]  # one flag each: oldest first
    assert backwards == forwards[:-1]


# -- acts ------------------------------------------------------------------------------------


def test_staff_hide_and_restore_with_an_audit_entry_each(flagged, ta, instructor):
    url = f"{QUEUE}{flagged.pk}/act/"
    before = AuditEntry.objects.count()

    hidden = client_for(ta).post(url, {"action": "hide", "reason": "Off-topic.", "version": 1}, format="json")
    restored = client_for(instructor).post(url, {"action": "restore", "version": 2}, format="json")

    assert (hidden.status_code, hidden.data["state"], hidden.data["version"]) == (200, "hidden", 2)
    assert (restored.status_code, restored.data["state"], restored.data["version"]) == (200, "published", 3)
    entries = list(AuditEntry.objects.order_by("pk")[before:])
    assert [(e.actor_name, e.action, e.target_type, e.target_id, e.reason) for e in entries] == [
        ("ta", "moderation.hide", "post", str(flagged.post_id), "Off-topic."),
        ("instructor", "moderation.restore", "post", str(flagged.post_id), ""),
    ]
    assert entries[0].before["moderation"] == "published"
    assert entries[0].after["moderation"] == "hidden"
    assert Flag.objects.get().status == FlagStatus.UPHELD


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"action": "hide", "reason": " "}, "reason", services.NEEDS_REASON),
        ({"action": "restore"}, "action", services.CANNOT["restore"]),
        ({"action": "approve"}, "action", services.CANNOT["approve"]),
        ({"action": "burn"}, "action", None),
    ],
)
def test_an_impossible_act_is_a_400_and_writes_nothing(flagged, ta, payload, field, message):
    before = AuditEntry.objects.count()

    response = client_for(ta).post(f"{QUEUE}{flagged.pk}/act/", {**payload, "version": 1}, format="json")

    assert response.status_code == 400
    if message:
        assert response.data[field] == [message]
    else:
        assert field in response.data
    assert AuditEntry.objects.count() == before
    assert item_of(flagged.post).version == 1


def test_a_stale_version_is_a_409_with_the_current_state_and_writes_nothing(flagged, ta, instructor):
    services.moderate(user=instructor, item=flagged, action="review", expected_version=1)
    before = AuditEntry.objects.count()

    response = client_for(ta).post(
        f"{QUEUE}{flagged.pk}/act/", {"action": "hide", "reason": "Off-topic.", "version": 1}, format="json"
    )

    assert response.status_code == 409
    assert response.data["detail"] == services.CONFLICT
    current = response.data["current"]
    assert (current["id"], current["version"], current["last_action"], current["last_action_by"]) == (
        flagged.pk,
        2,
        "review",
        "instructor",
    )
    assert current["state"] == "published"
    assert AuditEntry.objects.count() == before
    flagged.post.refresh_from_db()
    assert flagged.post.moderation == ModerationState.PUBLISHED


def test_a_bulk_act_reports_each_item_and_a_stale_one_loses_nothing_for_the_others(
    course, paper, author, groupmate, ta, instructor
):
    works = [make_work("post", author, course, paper, f"Post {n}.") for n in range(3)]
    for work in works:
        flag(groupmate, work, "spam")
    first, stale, third = (item_of(work) for work in works)
    services.moderate(user=instructor, item=stale, action="review", expected_version=1)
    before = AuditEntry.objects.count()

    response = client_for(ta).post(
        f"{QUEUE}act/",
        {
            "action": "hide",
            "reason": "Spam.",
            "items": [
                {"id": first.pk, "version": 1},
                {"id": stale.pk, "version": 1},
                {"id": third.pk, "version": 1},
                {"id": 999999, "version": 1},
            ],
        },
        format="json",
    )

    assert response.status_code == 200
    assert [(r["id"], r["done"], r["conflict"], r["message"]) for r in response.data] == [
        (first.pk, True, False, ""),
        (stale.pk, False, True, services.CONFLICT),
        (third.pk, True, False, ""),
        (999999, False, False, "No such item in a queue you moderate."),
    ]
    assert [r["current"]["state"] if r["current"] else None for r in response.data] == [
        "hidden",
        "published",
        "hidden",
        None,
    ]
    assert response.data[1]["current"]["version"] == 2
    written = AuditEntry.objects.filter(action="moderation.hide").order_by("pk")
    assert AuditEntry.objects.count() == before + 2
    assert [e.target_id for e in written] == [str(works[0].pk), str(works[2].pk)]
    assert [Post.objects.get(pk=w.pk).moderation for w in works] == ["hidden", "published", "hidden"]


def test_a_bulk_hide_without_a_reason_is_refused_whole(flagged, ta):
    response = client_for(ta).post(
        f"{QUEUE}act/", {"action": "hide", "items": [{"id": flagged.pk, "version": 1}]}, format="json"
    )

    assert (response.status_code, response.data["reason"]) == (400, [services.NEEDS_REASON])
    assert not AuditEntry.objects.filter(action__startswith="moderation.").exists()


def test_a_bulk_act_skips_items_of_courses_the_moderator_does_not_teach(
    flagged, other_course, other_course_student, paper, other_instructor
):
    elsewhere = make_work("post", other_course_student, other_course, paper, "Elsewhere.")
    flag(other_instructor, elsewhere, "spam")

    response = client_for(other_instructor).post(
        f"{QUEUE}act/", {"action": "review", "items": [{"id": flagged.pk, "version": 1}]}, format="json"
    )

    assert response.status_code == 200
    assert [(r["done"], r["current"]) for r in response.data] == [(False, None)]
    assert item_of(flagged.post).version == 1


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="SQLite serialises writers itself and has no SELECT … FOR UPDATE; run with DATABASE_URL=postgres://…",
)
@pytest.mark.django_db(transaction=True)
def test_twenty_moderators_acting_at_once_make_exactly_one_act():
    from django.conf import settings as django_settings

    from annotations.models.courses import Role
    from annotations.services import reading_load
    from tests.factories import CourseFactory, MembershipFactory, UserFactory

    reading_load(path=django_settings.DEFAULT_READING_DIR)
    paper = Claim.objects.order_by("key").first().paragraph.document
    course = CourseFactory(title="Race", reading=paper)
    student, flagger = UserFactory(username="racer"), UserFactory(username="flagger")
    MembershipFactory(course=course, user=student, role=Role.STUDENT)
    MembershipFactory(course=course, user=flagger, role=Role.STUDENT)
    staff = []
    for n in range(20):
        user = UserFactory(username=f"mod{n}")
        MembershipFactory(course=course, user=user, role=Role.TA)
        staff.append(user)
    post = make_work("post", student, course, paper, "Contested.")
    flag(flagger, post, "spam")
    item = item_of(post)
    barrier = threading.Barrier(len(staff))
    outcomes: list[int] = []
    lock = threading.Lock()

    def hide(user) -> None:
        try:
            client = client_for(user)
            barrier.wait()
            response = client.post(
                f"{QUEUE}{item.pk}/act/",
                {"action": "hide", "reason": user.username, "version": 1},
                format="json",
            )
            with lock:
                outcomes.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=hide, args=(user,)) for user in staff]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == [200] + [409] * 19
    item.refresh_from_db()
    post.refresh_from_db()
    assert (item.version, post.moderation) == (2, ModerationState.HIDDEN)
    entries = list(AuditEntry.objects.filter(action="moderation.hide"))
    assert len(entries) == 1
    assert entries[0].reason == post.moderation_reason == entries[0].actor_name


# -- query counts ------------------------------------------------------------------------------


def _queries(client: APIClient, url: str, params: dict) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(context.captured_queries)


def test_the_queue_and_flag_lists_cost_the_same_whatever_their_length(
    course, paper, author, groupmate, other_group_student, ta
):
    client = client_for(ta)

    def add(n: int) -> None:
        for index in range(n):
            kind = KINDS[index % len(KINDS)]
            work = make_work(kind, author, course, paper, f"Work {kind} {index}.")
            flag(groupmate, work, "spam")
            flag(other_group_student, work, "other", "Why.")

    add(2)
    services.moderate(user=ta, item=ModerationItem.objects.first(), action="review", expected_version=1)
    few = (_queries(client, QUEUE, {"course": course.pk}), _queries(client, FLAGS, {}))
    add(10)
    many = (_queries(client, QUEUE, {"course": course.pk}), _queries(client, FLAGS, {}))

    assert many == few
    assert len(client.get(QUEUE, {"course": course.pk}).data["results"]) == 12


# -- the moderation state in the work's own resources -------------------------------------------


RESOURCES = {
    "annotation": "/api/v1/annotations/",
    "challenge": "/api/v1/challenges/",
    "post": "/api/v1/posts/",
    "source": "/api/v1/sources/",
}


def detail_url(kind: str, work) -> str:
    return f"{RESOURCES[kind]}{name_of(work)}/"


def listed_names(client: APIClient, kind: str, **params) -> list[str]:
    rows = client.get(RESOURCES[kind], params).data["results"]
    return [row["key"] if kind == "source" else str(row["id"]) for row in rows]


@pytest.fixture
def moderated(request, course, paper, author, ta):
    """``(kind, state, work)``: work of ``kind`` in ``state`` (hidden by the TA with a reason,
    or pending because its author is under pre-moderation), with a unique marker."""
    kind, state = request.param
    marker = f"Zebracorn{kind}{state}"
    if state == "pending":
        membership = Membership.objects.get(user=author, course=course)
        services.membership_set_premoderated(
            user=ta, membership=membership, enabled=True, reason="Repeated spam."
        )
        work = make_work(kind, author, course, paper, marker)
    else:
        work = make_work(kind, author, course, paper, marker)
        services.hide(user=ta, target=work, reason="Not about the reading.")
    work.refresh_from_db()
    assert work.moderation == state
    return kind, state, work, marker


CASES = [(kind, state) for kind in KINDS for state in ("hidden", "pending")]


@pytest.mark.parametrize("moderated", CASES, indirect=True, ids=[f"{k}-{s}" for k, s in CASES])
@pytest.mark.parametrize("who", ["groupmate", "other_group_student", "other_course_student"])
def test_hidden_and_pending_work_is_absent_for_other_students(request, course, moderated, who):
    kind, _state, work, marker = moderated
    client = client_for(request.getfixturevalue(who))

    assert client.get(detail_url(kind, work)).status_code == 404
    assert name_of(work) not in listed_names(client, kind)
    assert marker.encode() not in client.get(RESOURCES[kind]).content
    if kind in ("annotation", "source"):
        assert listed_names(client, kind, q=marker) == []
    if kind == "annotation":
        collection = f"/api/v1/courses/{course.pk}/annotations/"
        for params in ({}, {"page": 1}):
            response = client.get(collection, params)
            assert marker.encode() not in response.content


@pytest.mark.parametrize("moderated", CASES, indirect=True, ids=[f"{k}-{s}" for k, s in CASES])
@pytest.mark.parametrize("who", ["author", "ta", "instructor", "curator"])
def test_the_author_and_staff_read_hidden_and_pending_work_with_its_reason(request, moderated, who):
    kind, state, work, marker = moderated
    client = client_for(request.getfixturevalue(who))

    detail = client.get(detail_url(kind, work))

    assert detail.status_code == 200
    assert marker.encode() in detail.content
    assert detail.data["moderation"] == state
    assert detail.data["moderation_reason"] == ("Not about the reading." if state == "hidden" else "")
    assert name_of(work) in listed_names(client, kind)


@pytest.mark.parametrize("kind", KINDS)
def test_published_work_says_so_to_every_reader(course, paper, author, groupmate, kind):
    work = make_work(kind, author, course, paper, "Fine work.")

    data = client_for(groupmate).get(detail_url(kind, work)).data

    assert (data["moderation"], data["moderation_reason"]) == ("published", "")


def test_a_hidden_post_shown_as_a_placeholder_has_no_text_for_a_student(rf, post, groupmate, ta, author):
    services.hide(user=ta, target=post, reason="Off-topic.")
    post.refresh_from_db()

    def shown_to(user) -> dict:
        request = rf.get("/")
        request.user = user
        return PostSerializer(post, context={"request": request}).data

    assert {k: shown_to(groupmate)[k] for k in ("body", "body_html", "moderation", "moderation_reason")} == {
        "body": "",
        "body_html": "",
        "moderation": "hidden",
        "moderation_reason": None,
    }
    assert shown_to(author)["body"] == "Something off-topic."
    assert shown_to(author)["moderation_reason"] == "Off-topic."


def test_the_queue_item_of_pending_work_is_approved_through_the_api(course, author, ta, paper):
    membership = Membership.objects.get(user=author, course=course)
    services.membership_set_premoderated(user=ta, membership=membership, enabled=True)
    note = make_work("annotation", author, course, paper, "Waiting note.")
    item = item_of(note)
    assert (item.status, client_for(ta).get(f"{QUEUE}{item.pk}/").data["state"]) == (
        ItemStatus.OPEN,
        "pending",
    )

    approved = client_for(ta).post(
        f"{QUEUE}{item.pk}/act/", {"action": "approve", "version": item.version}, format="json"
    )

    assert (approved.data["state"], approved.data["status"]) == ("published", "closed")
    assert AuditEntry.objects.filter(action="moderation.approve", target_id=str(note.pk)).count() == 1
