"""The reading's paragraphs and notes come from the cache under a digest of everything they
show: a cached note or paragraph reads exactly as a fresh one, every change shows at once,
no reader is shown what was rendered for another, and no cached piece holds anyone's CSRF
token."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from annotations import fragments
from annotations.models import Annotation
from annotations.services import annotations as annotation_services
from annotations.services import moderation as moderation_services
from annotations.services.threads import reaction_toggle
from tests.factories import AnnotationFactory
from tests.helpers import queries_for

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def reading_url(course) -> str:
    return reverse("annotate:reading", kwargs={"pk": course.pk})


@pytest.fixture
def note(course, author, group_a) -> Annotation:
    return AnnotationFactory(
        course=course,
        author=author,
        group=group_a,
        body="First thoughts.",
        body_html="<p>First thoughts.</p>",
    )


def page(client: Client, url: str, **headers: str) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200
    return response.content.decode()


def note_html(text: str, note: Annotation) -> str:
    """The note's <li> in the page, with its CSRF tokens blanked."""
    found = re.search(rf'<li class="note[^"]*" id="a-{note.pk}">.*?\n</li>', text, re.S)
    assert found, f"note {note.pk} is not on the page"
    return TOKEN.sub('name="csrfmiddlewaretoken" value=""', found.group(0))


def stored_fragments(monkeypatch) -> dict[str, str]:
    """Every fragment the cache is asked to keep from now on, by key."""
    stored: dict[str, str] = {}
    keep = fragments.fragment_cache.set_many

    def spy(values, timeout=None):
        stored.update(values)
        return keep(values, timeout=timeout)

    monkeypatch.setattr(fragments.fragment_cache, "set_many", spy)
    return stored


def dispute(author, course, key: str = "c-20-8"):
    """A challenge of claim ``key`` shared with the course, citing the reading's first source."""
    from annotations.models import Claim, Source
    from annotations.models.challenges import Stance
    from annotations.services import challenges as challenge_services

    source = Source.objects.filter(course__isnull=True).order_by("key").first()
    return challenge_services.challenge_create(
        user=author,
        course=course,
        claim=Claim.objects.get(key=key),
        stance=Stance.DISPUTES,
        argument="The record says otherwise.",
        citations=[{"source": source, "page": "12", "quote": "a passage", "url_fragment": ""}],
        visibility="course",
    )


def test_a_note_from_the_cache_reads_exactly_as_a_freshly_rendered_one(client, author, note, reading_url):
    client.force_login(author)
    AnnotationFactory(course=note.course, author=author, start=30, end=60, body="Second.")

    fresh = page(client, reading_url)
    cached = page(client, reading_url)
    cache.clear()
    fresh_again = page(client, reading_url)

    assert note_html(cached, note) == note_html(fresh, note) == note_html(fresh_again, note)
    assert TOKEN.sub("", cached) == TOKEN.sub("", fresh)
    assert "First thoughts." in note_html(cached, note)


def test_the_cache_costs_no_query(client, author, note, reading_url):
    client.force_login(author)
    queries_for(client, reading_url)  # the reading's structure, kept per process from now on
    cache.clear()

    cold = queries_for(client, reading_url)
    warm = queries_for(client, reading_url)

    assert warm == cold


def test_an_edit_a_reply_a_helpful_mark_and_a_moderation_show_at_once(
    client, author, groupmate, instructor, note, reading_url
):
    client.force_login(groupmate)
    page(client, reading_url)

    annotation_services.annotation_update(user=author, annotation=note, body="Second thoughts.")
    assert "Second thoughts." in note_html(page(client, reading_url), note)

    annotation_services.reply_create(
        user=instructor, annotation=Annotation.objects.get(pk=note.pk), body="Why?"
    )
    assert "Why?" in note_html(page(client, reading_url), note)

    reaction_toggle(user=instructor, annotation=note)
    assert "Helpful (1)" in note_html(page(client, reading_url), note)

    moderation_services.hide(user=instructor, target=Annotation.objects.get(pk=note.pk), reason="Off topic.")
    hidden = note_html(page(client, reading_url), note)
    assert "Hidden by a moderator." in hidden
    assert "Second thoughts." not in hidden


def test_a_reader_never_sees_what_was_rendered_for_the_author(client, author, groupmate, note, reading_url):
    client.force_login(author)
    own = note_html(page(client, reading_url), note)
    client.force_login(groupmate)
    theirs = note_html(page(client, reading_url), note)

    edit = reverse("annotate:edit", args=[note.pk])
    assert f'href="{edit}"' in own
    assert f'href="{edit}"' not in theirs
    assert "or flag" in theirs
    assert "or flag" not in own


def test_an_anonymous_note_keeps_its_author_from_classmates_whoever_read_it_first(
    client, author, groupmate, instructor, note, reading_url
):
    Annotation.objects.filter(pk=note.pk).update(anonymous_to_peers=True)
    client.force_login(instructor)
    for_staff = note_html(page(client, reading_url), note)
    client.force_login(groupmate)
    for_classmate = note_html(page(client, reading_url), note)

    assert "<strong>author</strong>" in for_staff
    assert "<strong>Anonymous classmate</strong>" in for_classmate
    assert "<strong>author</strong>" not in for_classmate


def test_each_language_has_its_own_fragment(client, groupmate, note, reading_url):
    client.force_login(groupmate)

    russian = note_html(page(client, reading_url, HTTP_ACCEPT_LANGUAGE="ru"), note)
    english = note_html(page(client, reading_url, HTTP_ACCEPT_LANGUAGE="en"), note)

    assert "Полезно (0)" in russian
    assert "Helpful (0)" in english
    assert "Полезно" not in english


def paragraph_block(text: str, anchor: str) -> str:
    """One paragraph's block of the reading (its text, notes and form), tokens blanked."""
    found = re.search(rf'<div class="annotated" id="{anchor}">.*?\n      </div>', text, re.S)
    assert found, f"paragraph {anchor} is not on the page"
    return TOKEN.sub('name="csrfmiddlewaretoken" value=""', found.group(0))


def test_a_paragraph_shows_its_form_only_to_a_reader_who_may_annotate_whoever_read_it_first(
    client, author, curator, note, reading_url
):
    client.force_login(curator)  # site staff: sees the course's shared work, is not a member
    for_staff = paragraph_block(page(client, reading_url), note.paragraph_anchor)
    client.force_login(author)
    for_member = paragraph_block(page(client, reading_url), note.paragraph_anchor)
    client.force_login(curator)
    for_staff_again = paragraph_block(page(client, reading_url), note.paragraph_anchor)

    assert "Annotate this paragraph" in for_member
    assert "Annotate this paragraph" not in for_staff
    assert for_staff_again == for_staff
    assert f'id="a-{note.pk}"' in for_staff


def test_a_new_note_shows_at_once_on_its_paragraph(client, author, note, reading_url):
    client.force_login(author)
    before = paragraph_block(page(client, reading_url), "p-2")

    p2 = note.course.reading.paragraphs.get(anchor="p-2")
    AnnotationFactory(
        course=note.course, author=author, paragraph=p2, body="On p-2.", body_html="<p>On p-2.</p>"
    )
    after = paragraph_block(page(client, reading_url), "p-2")

    assert "On p-2." not in before
    assert "On p-2." in after


def test_a_refused_note_is_shown_with_its_errors_and_the_next_view_is_clean(
    client, author, note, reading_url, monkeypatch
):
    client.force_login(author)
    page(client, reading_url)
    stored = stored_fragments(monkeypatch)
    refused = client.post(
        reverse("annotate:create", kwargs={"pk": note.course_id}),
        {
            "paragraph": "p-3",
            "exact": "words the paper never says",
            "motivation": "commenting",
            "visibility": "private",
            "body": "Kept text.",
        },
    )
    again = paragraph_block(page(client, reading_url), "p-3")

    refused_block = paragraph_block(refused.content.decode(), "p-3")
    assert refused.status_code == 400
    assert "The quote is not in the paragraph" in refused_block
    assert "Kept text." in refused_block
    assert '<details class="annotate-form" open>' in refused_block
    assert not any("Kept text." in fragment for fragment in stored.values())
    assert "The quote is not in the paragraph" not in again
    assert '<details class="annotate-form">' in again


def test_the_cache_holds_no_token_and_the_pages_tokens_work(groupmate, note, reading_url, monkeypatch):
    stored = stored_fragments(monkeypatch)
    client = Client(enforce_csrf_checks=True)
    client.force_login(groupmate)

    text = page(client, reading_url)
    response = client.post(
        reverse("annotate:helpful", args=[note.pk]), {"csrfmiddlewaretoken": TOKEN.findall(text)[0]}
    )

    # The note and every paragraph of the reading, each with the slot where its forms' token goes.
    assert len(stored) == 1 + note.course.reading.paragraphs.count()
    for fragment in stored.values():
        assert fragments.csrf_slot() in fragment
        assert not TOKEN.search(fragment.replace(f'value="{fragments.csrf_slot()}"', ""))
    assert fragments.csrf_slot() not in text
    assert response.status_code == 302
    assert note.reactions.count() == 1


# -- a thread's posts -------------------------------------------------------------------------


@pytest.fixture
def thread(course, author):
    from annotations.services import threads as thread_services

    return thread_services.thread_create(user=author, course=course, title="Dates", body="Which date?")


def post_html(text: str, post) -> str:
    found = re.search(rf'<li id="post-{post.pk}" class="post"><article.*?</article>', text, re.S)
    assert found, f"post {post.pk} is not on the page"
    return TOKEN.sub('name="csrfmiddlewaretoken" value=""', found.group(0))


def test_a_post_is_shown_to_each_reader_as_they_may_see_it_whoever_read_it_first(
    client, author, groupmate, instructor, thread
):
    from annotations.services import threads as thread_services

    url = reverse("threads:detail", args=[thread.course_id, thread.pk])
    post = thread.posts.get()
    pages = {}
    for reader in (author, groupmate, instructor):
        client.force_login(reader)
        pages[reader.username] = post_html(page(client, url), post)
    edit = reverse("threads:post-edit", args=[post.pk])
    hide = reverse("moderation:hide", args=[thread.course_id, "post", post.pk])

    assert f'href="{edit}"' in pages["author"]
    assert f'href="{edit}"' not in pages["groupmate"]
    assert f'action="{hide}"' in pages["instructor"]
    assert f'action="{hide}"' not in pages["groupmate"]
    assert "Post reply" in pages["groupmate"]

    thread_services.thread_lock(user=instructor, thread=thread, locked=True)
    client.force_login(groupmate)
    assert "Post reply" not in post_html(page(client, url), post)

    moderation_services.hide(user=instructor, target=post, reason="Off topic.")
    hidden = post_html(page(client, url), post)
    assert "Hidden by a moderator." in hidden
    assert "Which date?" not in hidden


def test_a_cached_post_reads_as_a_fresh_one(client, groupmate, thread):
    url = reverse("threads:detail", args=[thread.course_id, thread.pk])
    post = thread.posts.get()
    client.force_login(groupmate)

    fresh = post_html(page(client, url), post)
    cached = post_html(page(client, url), post)

    assert cached == fresh
    assert "Which date?" in cached


# -- the class table's lines --------------------------------------------------------------------


def test_a_class_table_line_reads_as_a_fresh_one_and_a_new_grade_shows_at_once(
    client, course, author, groupmate, instructor
):
    from decimal import Decimal

    from annotations.services import assignments as assignment_services
    from tests.factories import AssignmentFactory

    assignment = AssignmentFactory(course=course)
    url = reverse("assignments:progress", args=[assignment.pk])
    client.force_login(instructor)

    def line(text: str, username: str) -> str:
        found = re.search(
            rf'<tr class="student-row[^"]*">\s*<th scope="row" class="student">{username}</th>.*?</tr>',
            text,
            re.S,
        )
        assert found, username
        return found.group(0)

    fresh = page(client, url)
    cached = page(client, url)
    assert line(cached, "author") == line(fresh, "author")

    assignment_services.grade_set(
        user=instructor, assignment=assignment, student=author, score=Decimal("7.5")
    )
    regraded = page(client, url)

    assert "<strong>7.5</strong>" in line(regraded, "author")
    assert "<strong>7.5</strong>" not in line(regraded, "groupmate")
    assert line(regraded, "groupmate") == line(fresh, "groupmate")


# -- a claim's challenges ---------------------------------------------------------------------


def test_a_challenge_is_shown_to_each_reader_as_they_may_see_it_and_changes_show_at_once(
    client, course, author, groupmate, instructor, paper
):
    from annotations.models.challenges import ChallengeStatus
    from annotations.services import challenges as challenge_services

    challenge = dispute(author, course)
    claim = challenge.claim
    url = reverse("challenges:claim", kwargs={"pk": course.pk, "key": claim.key})

    def seen_by(reader) -> str:
        client.force_login(reader)
        text = page(client, url)
        found = re.search(rf'<article id="challenge-{challenge.pk}".*?</article>', text, re.S)
        assert found
        return found.group(0)

    pages = {reader.username: seen_by(reader) for reader in (author, groupmate, instructor)}
    assert "Delete my challenge" in pages["author"]
    assert "Delete my challenge" not in pages["groupmate"]
    assert "Resolve" in pages["instructor"]
    assert "Resolve" not in pages["groupmate"]
    assert TOKEN.sub("", seen_by(groupmate)) == TOKEN.sub("", pages["groupmate"])

    challenge_services.challenge_resolve(
        user=instructor, challenge=challenge, status=ChallengeStatus.UPHELD, expected_version=1
    )
    resolved = seen_by(groupmate)
    assert 'class="challenge challenge--upheld"' in resolved
    assert "by instructor" in resolved


# -- a claim's form for a new challenge -------------------------------------------------------


def new_challenge_form(text: str) -> str:
    found = re.search(r'<section aria-labelledby="new-heading">.*?</section>', text, re.S)
    assert found, "the form for a new challenge is not on the page"
    return TOKEN.sub('name="csrfmiddlewaretoken" value=""', found.group(0))


def test_the_new_challenge_form_is_shared_by_members_and_shows_a_new_source_at_once(
    client, course, author, groupmate, curator, paper
):
    from annotations.services.sources import source_add

    url = reverse("challenges:claim", kwargs={"pk": course.pk, "key": "c-20-8"})
    client.force_login(author)
    fresh = new_challenge_form(page(client, url))
    client.force_login(groupmate)
    cached = new_challenge_form(page(client, url))
    cache.clear()
    fresh_again = new_challenge_form(page(client, url))

    source_add(user=author, course=course, kind="book", authors=["Doe, Jane"], year=2020, title="A New Book")
    after = new_challenge_form(page(client, url))
    client.force_login(curator)  # site staff, not a member: may read the page, not challenge
    staff = page(client, url)

    assert cached == fresh == fresh_again
    assert "A New Book" not in fresh
    assert after.count("A New Book") == 3  # in each of the three source selects
    assert 'aria-labelledby="new-heading"' not in staff


def test_a_refused_challenge_is_shown_with_its_errors_and_the_next_view_is_clean(
    client, course, author, paper, monkeypatch
):
    url = reverse("challenges:claim", kwargs={"pk": course.pk, "key": "c-20-8"})
    client.force_login(author)
    page(client, url)
    stored = stored_fragments(monkeypatch)
    refused = client.post(
        reverse("challenges:create", kwargs={"pk": course.pk, "key": "c-20-8"}),
        {"stance": "disputes", "argument": "Kept argument.", "visibility": "course"},
    )
    again = new_challenge_form(page(client, url))

    refused_form = new_challenge_form(refused.content.decode())
    assert refused.status_code == 400
    assert "Kept argument." in refused_form
    assert 'role="alert"' in refused_form
    assert not any("Kept argument." in fragment for fragment in stored.values())
    assert "Kept argument." not in again
    assert 'role="alert"' not in again


# -- a course's claims list -------------------------------------------------------------------


def test_the_claims_list_reads_as_a_fresh_one_and_a_new_status_shows_at_once(
    client, course, author, groupmate, instructor, paper
):
    from annotations.models.challenges import ChallengeStatus
    from annotations.services import challenges as challenge_services

    url = reverse("challenges:claims", kwargs={"pk": course.pk})
    client.force_login(groupmate)

    def card(text: str, key: str) -> str:
        found = re.search(
            rf'<li class="claim-card">\s*<p class="claim-card__paraphrase"><a href="[^"]*/{key}/">.*?</li>',
            text,
            re.S,
        )
        assert found, key
        return found.group(0)

    fresh = page(client, url)
    cached = page(client, url)
    cache.clear()
    fresh_again = page(client, url)
    assert TOKEN.sub("", cached) == TOKEN.sub("", fresh) == TOKEN.sub("", fresh_again)

    challenge = dispute(author, course)
    contested = page(client, url)
    challenge_services.challenge_resolve(
        user=instructor, challenge=challenge, status=ChallengeStatus.UPHELD, expected_version=1
    )
    upheld = page(client, url)

    assert "evidence--unchallenged" in card(fresh, "c-20-8")
    assert "evidence--contested" in card(contested, "c-20-8")
    assert "evidence--disputed" in card(upheld, "c-20-8")
    assert card(upheld, "c-21-2") == card(fresh, "c-21-2")


def test_the_claims_filters_show_each_request_its_own_values_and_errors(client, course, groupmate, paper):
    url = reverse("challenges:claims", kwargs={"pk": course.pk})
    client.force_login(groupmate)

    contested = page(client, f"{url}?status=contested")
    blank = page(client, url)
    wrong = client.get(f"{url}?status=nonsense").content.decode()

    assert '<option value="contested" selected>' in contested
    assert '<option value="contested" selected>' not in blank
    assert "Select a valid choice" in wrong
    assert "Select a valid choice" not in page(client, url)


def test_the_claims_filters_show_a_new_edited_or_removed_option_at_once(client, course, groupmate, paper):
    from annotations.models import Source
    from timeline.models import Actor, Event

    url = reverse("challenges:claims", kwargs={"pk": course.pk})
    client.force_login(groupmate)
    event = Event.objects.order_by("date").first()
    removed = Source.objects.filter(course__isnull=True).order_by("key").first()
    before = page(client, url)
    assert f'<option value="{event.key}">{escape(event)}</option>' in before
    assert f'<option value="{removed.key}">' in before

    # Written as a migration or the shell would, with no signal sent; one change at a time,
    # as any change of the filters' options is a new key for the whole form.
    Event.objects.filter(pk=event.pk).update(title="A summit renamed")
    renamed = page(client, url)
    Actor.objects.create(key="a-new-actor", name="A new actor", kind=Actor.Kind.PERSON)
    added = page(client, url)
    removed.delete()
    after = page(client, url)

    assert f'<option value="{event.key}">A summit renamed ({event.date_iso})</option>' in renamed
    assert '<option value="a-new-actor">A new actor</option>' not in renamed
    assert '<option value="a-new-actor">A new actor</option>' in added
    assert f'<option value="{removed.key}">' in added
    assert f'<option value="{removed.key}">' not in after


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Option digests are PostgreSQL's.")
def test_the_claims_filters_read_their_options_in_one_query(course, paper):
    from django.http import QueryDict

    from annotations import selectors
    from annotations.api.filters import ClaimFilter

    form = ClaimFilter(QueryDict(), queryset=selectors.claims_of_course(course)).form
    with CaptureQueriesContext(connection) as queries:
        inputs = fragments.form_inputs(form)
    options = {name: choices for name, _, _, _, _, choices, _ in inputs}

    assert len(queries.captured_queries) == 1
    # Options drawn from rows as a digest of those rows; fixed choices as they are.
    assert options["section"][0] == "annotations.Section"
    assert options["actor"][0] == "timeline.Actor"
    assert options["event"][0] == "timeline.Event"
    assert options["source"][0] == "annotations.Source"
    assert all(len(options[name][2]) == 32 for name in ("section", "actor", "event", "source"))
    assert ("factual", "factual") in options["kind"]
