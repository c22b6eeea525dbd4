"""The hot API lists build their rows directly (``LeanListSerializer``); each row must be
what the serializer's fields give for it, byte for byte once rendered, for every kind of
row and every viewer: anonymous work, hidden and waiting work, deleted replies, edits,
tags, citations, resolutions, mentions, orphaned quotes, rows with and without a group or
a claim."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory, force_authenticate

from annotations import selectors
from annotations.api.annotations import AnnotationViewSet
from annotations.api.challenges import ChallengeViewSet
from annotations.api.lean import LeanListSerializer, detail_urls, iso_datetime
from annotations.api.moderation import FlagViewSet, ModerationViewSet
from annotations.api.threads import PostViewSet, ThreadViewSet
from annotations.api.views import ClaimViewSet
from annotations.models import AnnotationReply, Claim, Post, Tag
from annotations.models.challenges import Challenge, ChallengeStatus, Stance
from annotations.models.moderated import ModerationState
from annotations.models.moderation import Action, FlagReason, ModerationItem
from annotations.services import challenges as challenge_services
from annotations.services import moderation as moderation_services
from annotations.services import threads as thread_services
from annotations.services.sources import source_add
from annotations.services.threads import reaction_toggle
from tests.factories import AnnotationFactory, SourceFactory

pytestmark = pytest.mark.django_db

VIEWERS = ["author", "groupmate", "other_group_student", "ta", "curator"]


def _list_view(viewset, user, path: str):
    """The list action of ``viewset`` as ``user`` asks it, ready to serialize."""
    django_request = APIRequestFactory().get(path)
    force_authenticate(django_request, user=user)
    view = viewset(action="list", format_kwarg=None, kwargs={})
    request = Request(django_request, authenticators=[])
    request.user = user
    view.request = request
    return view


def _assert_lean_matches_fields(viewset, user, path: str, format_kwarg: str | None = None) -> int:
    view = _list_view(viewset, user, path)
    view.format_kwarg = format_kwarg
    rows = list(view.get_queryset())
    serializer = view.get_serializer(rows, many=True)
    assert isinstance(serializer, LeanListSerializer)
    lean = serializer.data
    # The fields read the rows as the lists did before ``as_lists``: through each relation's
    # manager and its prefetch cache.
    original = selectors.as_lists
    selectors.as_lists = lambda rows: rows
    try:
        by_fields = [view.get_serializer(row).data for row in view.get_queryset()]
    finally:
        selectors.as_lists = original
    renderer = JSONRenderer()
    # Rendered, so that key order, types and URLs count, not only equal values.
    assert renderer.render(lean) == renderer.render(by_fields)
    return len(rows)


@pytest.fixture
def varied_annotations(course, group_a, author, groupmate, ta, instructor, paper):
    claim = Claim.objects.filter(paragraph__document=paper).first()
    paragraphs = list(paper.paragraphs.order_by("order")[:2])
    tagged = AnnotationFactory(
        course=course, author=author, group=group_a, claim=claim, body="Tagged **note**"
    )
    tagged.tags.set([Tag.objects.create(name="treaty"), Tag.objects.create(name="alpha")])
    AnnotationReply.objects.create(annotation=tagged, author=groupmate, body="Yes", body_html="<p>Yes</p>")
    AnnotationReply.objects.create(
        annotation=tagged,
        author=ta,
        body="Gone",
        body_html="<p>Gone</p>",
        deleted_at=timezone.now(),
        edited_at=timezone.now(),
    )
    reaction_toggle(user=groupmate, annotation=tagged)
    AnnotationFactory(course=course, author=author, visibility="private", body="Mine alone")
    AnnotationFactory(
        course=course, author=author, group=group_a, visibility="group", paragraph=paragraphs[1]
    )
    AnnotationFactory(
        course=course,
        author=author,
        moderation=ModerationState.HIDDEN,
        moderation_reason="Off topic",
        edited_at=timezone.now() - dt.timedelta(hours=1),
    )
    AnnotationFactory(
        course=course, author=groupmate, moderation=ModerationState.PENDING, moderation_reason=""
    )
    AnnotationFactory(course=course, author=groupmate, anonymous_to_peers=True, body="Anonymous")
    # A quote the paragraph no longer has: the anchor says orphaned.
    AnnotationFactory(course=course, author=instructor, exact="words that are nowhere in it", start=0, end=28)


def test_annotation_rows_are_what_the_fields_give(varied_annotations, request):
    for name in VIEWERS:
        user = request.getfixturevalue(name)
        assert _assert_lean_matches_fields(AnnotationViewSet, user, "/api/v1/annotations/") > 0


@pytest.fixture
def varied_challenges(course, group_a, author, groupmate, instructor, paper):
    claims = list(Claim.objects.filter(paragraph__document=paper)[:3])
    with_url = SourceFactory(url="https://example.org/a")
    without_url = SourceFactory(url="")
    cited = challenge_services.challenge_create(
        user=author,
        course=course,
        claim=claims[0],
        stance=Stance.DISPUTES,
        argument="It *was* later.",
        citations=[
            {"source": with_url, "page": "12", "quote": "later", "url_fragment": "#s2"},
            {"source": without_url},
        ],
    )
    challenge_services.challenge_respond(user=groupmate, challenge=cited, body="Agreed")
    deleted = challenge_services.challenge_respond(user=instructor, challenge=cited, body="Hm")
    challenge_services.response_delete(user=instructor, response=deleted)
    challenge_services.challenge_resolve(
        user=instructor,
        challenge=cited,
        status=ChallengeStatus.UPHELD,
        feedback="Well **argued**",
        expected_version=cited.version,
    )
    hidden = challenge_services.challenge_create(
        user=author,
        course=course,
        claim=claims[1],
        stance=Stance.DISPUTES,
        argument="Hidden argument",
        citations=[{"source": with_url}],
        visibility="group",
    )
    Challenge.objects.filter(pk=hidden.pk).update(
        moderation=ModerationState.HIDDEN, moderation_reason="Rude", group=group_a
    )
    anonymous = challenge_services.challenge_create(
        user=groupmate, course=course, claim=claims[2], stance=Stance.SUPPORTS, argument="Yes."
    )
    Challenge.objects.filter(pk=anonymous.pk).update(anonymous_to_peers=True)


def test_challenge_rows_are_what_the_fields_give(varied_challenges, request):
    for name in VIEWERS:
        user = request.getfixturevalue(name)
        assert _assert_lean_matches_fields(ChallengeViewSet, user, "/api/v1/challenges/") > 0


@pytest.fixture
def varied_discussion(course, group_a, author, groupmate, ta, paper):
    claim = Claim.objects.filter(paragraph__document=paper).first()
    course_thread = thread_services.thread_create(
        user=author, course=course, title="On the treaty", body="First @groupmate", claim=claim
    )
    group_thread = thread_services.thread_create(
        user=groupmate, course=course, title="Group only", body="Ours", group=group_a
    )
    first = Post.objects.filter(thread=course_thread).first()
    reply = thread_services.post_create(user=groupmate, thread=course_thread, body="A reply", parent=first)
    thread_services.reaction_toggle(user=author, post=reply)
    gone = thread_services.post_create(user=author, thread=course_thread, body="Regret")
    thread_services.post_delete(user=author, post=gone)
    hidden = thread_services.post_create(user=groupmate, thread=group_thread, body="Shouting")
    Post.objects.filter(pk=hidden.pk).update(moderation=ModerationState.HIDDEN, moderation_reason="Tone")
    edited = thread_services.post_create(user=ta, thread=course_thread, body="Draft")
    thread_services.post_edit(user=ta, post=edited, body="Final")


def test_post_rows_are_what_the_fields_give(varied_discussion, request):
    for name in VIEWERS:
        user = request.getfixturevalue(name)
        assert _assert_lean_matches_fields(PostViewSet, user, "/api/v1/posts/") > 0


def test_thread_rows_are_what_the_fields_give(varied_discussion, request):
    for name in VIEWERS:
        user = request.getfixturevalue(name)
        assert _assert_lean_matches_fields(ThreadViewSet, user, "/api/v1/threads/") > 0


def test_claim_rows_are_what_the_fields_give(paper, reader):
    # The reading's claims: with and without a stated date, cited sources, actors, events.
    assert _assert_lean_matches_fields(ClaimViewSet, reader, "/api/v1/claims/") == paper_claims(paper)
    claims = Claim.objects.filter(paragraph__document=paper)
    assert claims.filter(event_links__isnull=False).exists()
    assert claims.filter(cites__isnull=False).exists()
    assert claims.filter(actors__isnull=False).exists()
    assert claims.filter(stated_date__isnull=False).exists()


@pytest.fixture
def varied_queue(course, author, groupmate, other_group_student, ta, instructor, varied_discussion, paper):
    """An item of each kind of work: flagged once or by several, for a reason and for
    "other" with its text; one hidden with a reason, one whose flags were dismissed (by
    whom and when), a source's (named by its key) and a long note's (its excerpt cut)."""
    note = AnnotationFactory(course=course, author=author, body="Long " * 80)
    quote_only = AnnotationFactory(course=course, author=groupmate, body="")
    claim = Claim.objects.filter(paragraph__document=paper).first()
    challenge = challenge_services.challenge_create(
        user=groupmate, course=course, claim=claim, stance=Stance.SUPPORTS, argument="Yes, and more so."
    )
    source, _ = source_add(user=author, course=course, kind="book", title="A flagged book", year=2001)
    post = Post.objects.filter(thread__course=course, author=author, deleted_at__isnull=True).first()
    flaggers = [groupmate, other_group_student]
    for work in [note, quote_only, challenge, source, post]:
        for number, flagger in enumerate(flaggers if work is not post else flaggers[:1]):
            if flagger == moderation_services.author_of(work):
                continue
            other = number == 1
            moderation_services.flag_create(
                user=flagger,
                target=work,
                reason=FlagReason.OTHER if other else FlagReason.SPAM,
                text="Off the reading" if other else "",
            )
    hidden = ModerationItem.objects.get(annotation=note)
    moderation_services.moderate(
        user=ta, item=hidden, action=Action.HIDE, reason="Not on topic", expected_version=hidden.version
    )
    dismissed = ModerationItem.objects.get(challenge=challenge)
    moderation_services.moderate(
        user=instructor, item=dismissed, action=Action.DISMISS, expected_version=dismissed.version
    )


def test_queue_rows_are_what_the_fields_give(varied_queue, request):
    for name in ["ta", "instructor", "curator"]:
        user = request.getfixturevalue(name)
        assert _assert_lean_matches_fields(ModerationViewSet, user, "/api/v1/moderation/") == 5


def test_the_queue_pages_rows_read_only_what_it_shows(varied_queue, ta, django_assert_num_queries):
    # The page reads its items' shown columns only, and its flags as a list: the same as the
    # fields give from the queue's full rows, with no query past the page's two.
    view = _list_view(ModerationViewSet, ta, "/api/v1/moderation/")
    queue = view.get_queryset()
    ids = list(queue.values("pk"))
    with django_assert_num_queries(2):
        page = list(view.page_rows(ids).order_by("-flag_count", "opened_at", "pk"))
        lean = view.get_serializer(page, many=True).data
    # Of the people, their names only; of the work, what the excerpt and state are made of.
    assert {"password", "email"} <= page[0].author.get_deferred_fields()
    assert {"body_html", "created_at"} <= next(
        item for item in page if item.kind == "annotation"
    ).annotation.get_deferred_fields()
    renderer = JSONRenderer()
    assert renderer.render(lean) == renderer.render([view.get_serializer(item).data for item in queue])
    kinds = {item["kind"] for item in lean}
    assert kinds == {"annotation", "challenge", "source", "post"}
    assert any(item["excerpt"].endswith("…") for item in lean)
    assert any(item["last_action_by"] == "instructor" for item in lean)
    assert any(flag["text"] == "Off the reading" for item in lean for flag in item["flags"])


def test_flag_rows_are_what_the_fields_give(varied_queue, request):
    for name, flags in [("ta", 7), ("groupmate", 3), ("other_group_student", 4), ("curator", 7)]:
        user = request.getfixturevalue(name)
        assert _assert_lean_matches_fields(FlagViewSet, user, "/api/v1/flags/") == flags


def paper_claims(paper) -> int:
    return Claim.objects.filter(paragraph__document=paper).count()


def test_a_url_format_suffix_is_kept_in_each_rows_url(varied_annotations, author, varied_challenges):
    for viewset, path in [
        (AnnotationViewSet, "/api/v1/annotations.json"),
        (ChallengeViewSet, "/api/v1/challenges.json"),
    ]:
        view = _list_view(viewset, author, path)
        view.format_kwarg = "json"
        rows = list(view.get_queryset())
        assert view.get_serializer(rows, many=True).data[0]["url"].endswith(f"/{rows[0].pk}.json")
        _assert_lean_matches_fields(viewset, author, path, format_kwarg="json")


def test_detail_urls_are_what_reverse_gives(rf):
    from rest_framework.reverse import reverse

    request = Request(rf.get("/api/v1/claims/", HTTP_HOST="testserver"))
    url = detail_urls({"request": request}, "api:claim-detail", lookup="key")
    assert url("treaty-of-2001") == reverse(
        "api:claim-detail", kwargs={"key": "treaty-of-2001"}, request=request
    )
    assert url("treaty-of-2001") == "http://testserver/api/v1/claims/treaty-of-2001/"
    as_json = detail_urls({"request": request, "format": "json"}, "api:annotation-detail")
    assert as_json(12) == "http://testserver/api/v1/annotations/12.json"


def test_iso_datetime_writes_utc_as_drf_does():
    moment = dt.datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=dt.UTC)
    assert iso_datetime(moment) == "2026-03-04T05:06:07.891011Z"
    assert iso_datetime(None) is None


def test_as_lists_keeps_many_valued_prefetches_as_plain_lists(
    varied_annotations, author, django_assert_num_queries
):
    rows = list(selectors.as_lists(selectors.annotation_list(author).prefetch_related("group")))
    tagged = next(row for row in rows if row.body == "Tagged **note**")
    with django_assert_num_queries(0):
        assert [tag.name for tag in tagged.tags_list] == ["alpha", "treaty"]
        assert [reply.body for reply in tagged.replies_list] == ["Yes", "Gone"]
        # A single-valued relation stays the relation, read from its prefetch.
        assert tagged.group.name == "Group A"
