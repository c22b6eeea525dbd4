"""The reading inside a course: the sidebar, the note form, editing, deleting, replying."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from annotations.models import Annotation, AnnotationReply
from annotations.models.annotation import Motivation, Visibility
from annotations.views.annotate import NOTES_PER_PARAGRAPH
from tests.factories import AnnotationFactory
from tests.helpers import queries_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def reading_url(course) -> str:
    return reverse("annotate:reading", kwargs={"pk": course.pk})


@pytest.fixture
def as_author(client, author):
    client.force_login(author)
    return client


def test_every_paragraph_has_a_note_form_defaulting_to_the_group(as_author, reading_url, paper):
    response = as_author.get(reading_url)

    text = response.content.decode()
    assert text.count('class="annotate-form"') == paper.paragraphs.count()
    first = response.context["blocks"][0]["paragraphs"][0]
    selected = re.findall(r'<option value="(\w+)" selected>', first.form_fields_html)
    assert selected == [Motivation.COMMENTING, Visibility.GROUP]
    assert text.count('<option value="group" selected>') == paper.paragraphs.count()
    assert 'src="/static/js/annotate.js"' in text


def test_a_note_made_with_the_form_shows_highlighted_beside_its_paragraph(
    as_author, reading_url, course, paper
):
    p1 = paper.paragraphs.get(anchor="p-1")
    quote = "typical case of genuine multilateralism"

    response = as_author.post(
        reverse("annotate:create", kwargs={"pk": course.pk}),
        {
            "paragraph": "p-1",
            "exact": quote,
            "motivation": "questioning",
            "tags": "thesis, Key",
            "body": "Is it *really*?",
            "visibility": "group",
        },
    )

    note = Annotation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{reading_url}#a-{note.pk}"
    assert (note.start, note.end) == (p1.text.index(quote), p1.text.index(quote) + len(quote))
    text = as_author.get(reading_url).content.decode()
    assert f'<span class="hl" data-annotations="a-{note.pk}">' in text
    assert "Is it <em>really</em>?" in text
    assert "#thesis" in text
    assert "#key" in text


def test_a_quote_not_in_the_paragraph_is_refused_in_its_form(as_author, course):
    response = as_author.post(
        reverse("annotate:create", kwargs={"pk": course.pk}),
        {
            "paragraph": "p-3",
            "exact": "words the paper never says",
            "motivation": "commenting",
            "visibility": "private",
        },
    )

    text = response.content.decode()
    assert response.status_code == 400
    assert "The quote is not in the paragraph" in text
    assert '<details class="annotate-form" open>' in text
    assert not Annotation.objects.exists()


def test_offsets_that_do_not_fit_are_refused(as_author, course):
    response = as_author.post(
        reverse("annotate:create", kwargs={"pk": course.pk}),
        {
            "paragraph": "p-3",
            "exact": "Initially",
            "start": 5,
            "end": 1,
            "motivation": "commenting",
            "visibility": "private",
        },
    )

    assert response.status_code == 400
    assert "must be before end" in response.content.decode()


def test_outsiders_cannot_annotate_a_course(client, course, other_course_student):
    client.force_login(other_course_student)

    response = client.post(
        reverse("annotate:create", kwargs={"pk": course.pk}),
        {"paragraph": "p-1", "exact": "genuine", "motivation": "commenting", "visibility": "private"},
    )

    assert response.status_code == 404
    assert not Annotation.objects.exists()


def test_the_author_edits_and_the_note_says_edited(as_author, course, author):
    note = AnnotationFactory(course=course, author=author)
    url = reverse("annotate:edit", kwargs={"pk": note.pk})

    page = as_author.get(url)
    response = as_author.post(
        url, {"motivation": "commenting", "tags": "", "body": "Changed", "visibility": "course"}
    )

    note.refresh_from_db()
    assert page.status_code == 200
    assert response.status_code == 302
    assert note.body == "Changed"
    assert note.edited_at is not None
    assert "(edited)" in as_author.get(reverse("annotate:reading", kwargs={"pk": course.pk})).content.decode()


@pytest.mark.parametrize(
    ("who", "status"), [("groupmate", 403), ("instructor", 403), ("other_course_student", 404)]
)
def test_others_cannot_edit_or_delete(client, course, author, request, who, status):
    note = AnnotationFactory(course=course, author=author, visibility=Visibility.COURSE)
    client.force_login(request.getfixturevalue(who))

    assert client.get(reverse("annotate:edit", kwargs={"pk": note.pk})).status_code == status
    assert client.post(reverse("annotate:delete", kwargs={"pk": note.pk})).status_code == status
    note.refresh_from_db()
    assert note.deleted_at is None


def test_a_deleted_note_with_replies_stays_as_a_tombstone(
    client, as_author, course, author, groupmate, reading_url
):
    note = AnnotationFactory(course=course, author=author, body="Original words")
    client.force_login(groupmate)
    client.post(reverse("annotate:reply", kwargs={"pk": note.pk}), {"body": "My reply"})
    client.force_login(author)

    client.post(reverse("annotate:delete", kwargs={"pk": note.pk}))

    text = client.get(reading_url).content.decode()
    assert "This note was deleted by its author." in text
    assert "My reply" in text
    assert "Original words" not in text
    assert Annotation.objects.filter(pk=note.pk, deleted_at__isnull=False).exists()


def test_a_deleted_note_without_replies_disappears(as_author, course, author, reading_url):
    note = AnnotationFactory(course=course, author=author, deleted_at=timezone.now())

    assert f'id="a-{note.pk}"' not in as_author.get(reading_url).content.decode()


def test_replies_are_edited_and_deleted_by_their_author_only(client, course, author, groupmate):
    note = AnnotationFactory(course=course, author=author)
    client.force_login(groupmate)
    client.post(reverse("annotate:reply", kwargs={"pk": note.pk}), {"body": "First"})
    reply = AnnotationReply.objects.get()

    client.post(reverse("annotate:reply-edit", kwargs={"pk": reply.pk}), {"body": "Second"})
    client.force_login(author)
    refused = client.post(reverse("annotate:reply-delete", kwargs={"pk": reply.pk}))

    reply.refresh_from_db()
    assert reply.body == "Second"
    assert reply.edited_at is not None
    assert refused.status_code == 403
    assert reply.deleted_at is None


def test_an_empty_reply_is_refused(as_author, course, author):
    note = AnnotationFactory(course=course, author=author)

    response = as_author.post(reverse("annotate:reply", kwargs={"pk": note.pk}), {"body": "  "})

    assert response.status_code == 400
    assert "Write something to reply." in response.content.decode()
    assert not note.replies.exists()


def test_a_note_whose_quote_moved_is_reattached_and_one_whose_quote_is_gone_is_orphaned(
    as_author, course, author, paper, reading_url
):
    p1, p2 = paper.paragraphs.get(anchor="p-1"), paper.paragraphs.get(anchor="p-2")
    moved = AnnotationFactory(course=course, author=author, paragraph=p1, start=4, end=34)
    gone = AnnotationFactory(course=course, author=author, paragraph=p2, start=0, end=30)
    p1.text = "An inserted sentence. " + p1.text
    p1.save()
    p2.text = "Entirely rewritten."
    p2.save()

    response = as_author.get(reading_url)

    text = response.content.decode()
    assert [p.annotation for p in response.context["orphans"]] == [gone]
    assert "Notes whose words are no longer in the reading" in text
    assert "re-attached by its quote" in text
    assert f'<span class="hl" data-annotations="a-{moved.pk}">{moved.exact}</span>' in text


def test_the_reading_page_runs_a_fixed_number_of_queries(
    as_author, course, author, groupmate, group_a, reading_url
):
    AnnotationFactory(course=course, author=author)
    queries_for(as_author, reading_url)  # the reading's structure, kept per process from now on
    before = queries_for(as_author, reading_url)
    for n in range(10):
        note = AnnotationFactory(course=course, author=groupmate, visibility=Visibility.GROUP, group=group_a)
        note.tags.create(name=f"t{n}")
        note.replies.create(author=author, body="r", body_html="<p>r</p>")

    assert queries_for(as_author, reading_url) == before <= 18


def test_members_mark_a_note_helpful_once_and_can_take_it_back(
    client, course, author, groupmate, reading_url
):
    note = AnnotationFactory(course=course, author=author)
    client.force_login(groupmate)
    url = reverse("annotate:helpful", kwargs={"pk": note.pk})

    client.post(url)
    client.post(url)
    client.post(url)

    assert note.reactions.count() == 1
    assert "Helpful (1)" in client.get(reading_url).content.decode()


def test_outsiders_cannot_mark_a_note_helpful(client, course, author, other_course_student):
    note = AnnotationFactory(course=course, author=author)
    client.force_login(other_course_student)

    assert client.post(reverse("annotate:helpful", kwargs={"pk": note.pk})).status_code == 404
    assert not note.reactions.exists()


def test_a_busy_paragraph_shows_your_own_notes_first_then_the_newest_and_links_to_all(
    as_author, course, author, groupmate, other_group_student, reading_url
):
    own = AnnotationFactory(course=course, author=author, body_html="<p>Mine, written first.</p>")
    others = [
        AnnotationFactory(course=course, author=writer, body_html=f"<p>Classmate note {n}.</p>")
        for n, writer in enumerate([groupmate, other_group_student] * 4)
    ]
    AnnotationFactory(
        course=course, author=groupmate, visibility=Visibility.PRIVATE, body_html="<p>Not yours to see.</p>"
    )

    response = as_author.get(reading_url)

    text = response.content.decode()
    first = response.context["blocks"][0]["paragraphs"][0]
    shown = NOTES_PER_PARAGRAPH
    newest = sorted(others, key=lambda note: (note.created_at, note.pk), reverse=True)[: shown - 1]
    assert {placed.annotation for placed in first.notes} == {own, *newest}
    assert (first.note_total, first.more_notes) == (9, 9 - shown)
    assert "Mine, written first." in text
    assert "Classmate note 7." in text
    assert "Classmate note 0." not in text
    assert "Not yours to see." not in text
    link = reverse("annotate:paragraph-notes", kwargs={"pk": course.pk, "anchor": first.paragraph.anchor})
    assert f'<a href="{link}">All 9 notes on paragraph 1</a> ({9 - shown} more)' in text
    assert "9 notes you can see." in text


def test_the_paragraph_page_lists_every_note_you_may_see_there(as_author, course, author, groupmate, paper):
    notes = [
        AnnotationFactory(course=course, author=groupmate, body_html=f"<p>Note number {n}.</p>")
        for n in range(7)
    ]
    AnnotationFactory(
        course=course, author=groupmate, visibility=Visibility.PRIVATE, body_html="<p>Private.</p>"
    )
    url = reverse("annotate:paragraph-notes", kwargs={"pk": course.pk, "anchor": "p-1"})

    response = as_author.get(url)

    text = response.content.decode()
    assert [placed.annotation for placed in response.context["notes"]] == notes
    assert all(f"Note number {n}." in text for n in range(7))
    assert "Private." not in text
    assert "7 notes you can see on this paragraph." in text


def test_the_paragraph_page_is_a_404_outside_the_course_and_for_an_unknown_paragraph(
    client, course, other_course_student, author
):
    AnnotationFactory(course=course, author=author)
    client.force_login(other_course_student)
    assert (
        client.get(reverse("annotate:paragraph-notes", kwargs={"pk": course.pk, "anchor": "p-1"})).status_code
        == 404
    )
    client.force_login(author)
    assert (
        client.get(
            reverse("annotate:paragraph-notes", kwargs={"pk": course.pk, "anchor": "p-999"})
        ).status_code
        == 404
    )


def test_the_paragraph_page_runs_a_fixed_number_of_queries(as_author, course, author, groupmate):
    url = reverse("annotate:paragraph-notes", kwargs={"pk": course.pk, "anchor": "p-1"})
    AnnotationFactory(course=course, author=author)
    before = queries_for(as_author, url)
    for n in range(10):
        note = AnnotationFactory(course=course, author=groupmate)
        note.tags.create(name=f"t{n}")
        note.replies.create(author=author, body="r", body_html="<p>r</p>")

    assert queries_for(as_author, url) == before


def test_a_paragraph_with_more_notes_than_the_cap_is_counted_as_more_than_the_cap(
    as_author, course, groupmate, reading_url, monkeypatch
):
    monkeypatch.setattr("annotations.views.annotate.NOTE_COUNT_CAP", 6)
    for n in range(8):
        AnnotationFactory(course=course, author=groupmate, body_html=f"<p>Classmate note {n}.</p>")

    response = as_author.get(reading_url)

    text = response.content.decode()
    first = response.context["blocks"][0]["paragraphs"][0]
    assert len(first.notes) == NOTES_PER_PARAGRAPH
    link = reverse("annotate:paragraph-notes", kwargs={"pk": course.pk, "anchor": first.paragraph.anchor})
    assert f'<a href="{link}">All notes on paragraph 1</a> (more than 6)' in text
    assert "More than 6 notes you can see." in text
    assert "8 notes you can see on this paragraph." in as_author.get(link).content.decode()


def test_the_reading_shows_a_notes_first_replies_and_links_to_the_rest_and_the_reply_form(
    as_author, client, course, author, groupmate, reading_url
):
    note = AnnotationFactory(course=course, author=author)
    for n in range(7):
        note.replies.create(author=groupmate, body=f"Reply {n}", body_html=f"<p>Reply number {n}.</p>")

    text = as_author.get(reading_url).content.decode()

    notes_url = reverse("annotate:paragraph-notes", kwargs={"pk": course.pk, "anchor": note.paragraph_anchor})
    assert [n for n in range(7) if f"Reply number {n}." in text] == list(range(NOTES_PER_PARAGRAPH))
    assert f'<a href="{notes_url}?note={note.pk}#a-{note.pk}">All 7 replies, reply</a>' in text
    assert f'action="{reverse("annotate:reply", kwargs={"pk": note.pk})}"' not in text
    full = as_author.get(f"{notes_url}?note={note.pk}").content.decode()
    assert all(f"Reply number {n}." in full for n in range(7))
    assert f'action="{reverse("annotate:reply", kwargs={"pk": note.pk})}"' in full


def test_a_reply_sends_its_writer_to_the_note_among_all_its_replies(client, course, author, groupmate):
    note = AnnotationFactory(course=course, author=author)
    client.force_login(groupmate)

    response = client.post(reverse("annotate:reply", kwargs={"pk": note.pk}), {"body": "Seen it."})

    notes_url = reverse("annotate:paragraph-notes", kwargs={"pk": course.pk, "anchor": note.paragraph_anchor})
    assert response.url == f"{notes_url}?note={note.pk}#a-{note.pk}"
    assert "Seen it." in client.get(response.url).content.decode()


def test_a_link_to_a_note_opens_the_paragraph_page_that_holds_it(
    as_author, course, author, groupmate, monkeypatch
):
    monkeypatch.setattr("annotations.views.annotate.NOTES_PER_PAGE", 2)
    notes = [
        AnnotationFactory(course=course, author=groupmate, body_html=f"<p>Note number {n}.</p>")
        for n in range(5)
    ]
    hidden = AnnotationFactory(course=course, author=groupmate, visibility=Visibility.PRIVATE)
    url = reverse("annotate:paragraph-notes", kwargs={"pk": course.pk, "anchor": "p-1"})

    pages = [as_author.get(url, {"page": n}) for n in (1, 2, 3)]
    linked = as_author.get(url, {"note": notes[4].pk})
    not_seen = as_author.get(url, {"note": hidden.pk})

    shown = [placed.annotation for page in pages for placed in page.context["notes"]]
    assert shown == notes  # page by page, every note once, in reading order
    assert linked.context["page"].number == 3
    assert "Note number 4." in linked.content.decode()
    assert not_seen.context["page"].number == 1
    assert f'id="a-{hidden.pk}"' not in not_seen.content.decode()


def test_a_claim_edited_in_the_reading_shows_at_once_in_the_course(as_author, reading_url, paper):
    before = as_author.get(reading_url).content.decode()
    claim = paper.paragraphs.get(anchor="p-1").claims.order_by("start").first()
    claim.paraphrase = "A paraphrase edited by the site's staff"
    claim.save()

    after = as_author.get(reading_url).content.decode()

    assert "A paraphrase edited by the site&#x27;s staff" not in before
    assert 'title="A paraphrase edited by the site&#x27;s staff"' in after
