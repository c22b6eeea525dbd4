"""Text in any script: Chinese, Russian, Arabic (right to left), emoji sequences and
zero-width characters are stored, shown, searched, exported and anchored unchanged."""

from __future__ import annotations

import csv
import html
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.anchoring import anchor, target_for, utf16_to_index
from annotations.models import Annotation, Challenge, Claim, Post, Thread
from annotations.models.courses import Role
from annotations.services import assignments as assignment_services
from tests.factories import (
    ClaimFactory,
    CourseFactory,
    DocumentFactory,
    MembershipFactory,
    ParagraphFactory,
    SectionFactory,
    UserFactory,
)

# Each has words a search can find (spaces between them), and none starts or ends with a space.
TEXTS = {
    "chinese": "上海合作组织 成立 于二〇〇一年。",
    "russian": "Россия подписала договор",
    "arabic": "منظمة شنغهاي للتعاون تأسست",
    # A woman student with a skin tone (five code points joined by a zero-width joiner), a flag.
    "emoji": "graduate 👩🏽‍🎓 and flag 🇨🇳",
    # Zero-width space, non-joiner, joiner and no-break space inside words; right-to-left mark.
    "zero_width": "zero\u200bwidth non\u200cjoiner\u200dword\ufeffmark \u200fend",
}
# A word of each text that search finds on both databases.
SEARCH_WORDS = {
    "chinese": "上海合作组织",
    "russian": "договор",
    "arabic": "شنغهاي",
    "emoji": "graduate",
    "zero_width": "end",
}
ANNOTATIONS = "/api/v1/annotations/"
JSONLD = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def p5(paper):
    return paper.paragraphs.get(anchor="p-5")


def _note(course, paragraph, body: str) -> dict:
    quote = "Qian Qichen and Shevardnadze"
    start = paragraph.text.index(quote)
    return {
        "course": course.pk,
        "paragraph": paragraph.anchor,
        "exact": quote,
        "start": start,
        "end": start + len(quote),
        "body": body,
        "visibility": "course",
    }


# -- stored and shown back -------------------------------------------------------------------


@pytest.mark.parametrize("script", TEXTS)
def test_a_note_in_any_script_comes_back_unchanged_from_the_api_and_the_w3c_export(
    script, course, author, groupmate, p5
):
    text = TEXTS[script]
    created = client_for(author).post(ANNOTATIONS, _note(course, p5, text), format="json")
    assert created.status_code == 201, created.data
    pk = created.data["id"]
    assert Annotation.objects.get(pk=pk).body == text

    read = client_for(groupmate).get(f"{ANNOTATIONS}{pk}/")
    assert read.json()["body"] == text
    assert text.encode("utf-8") in read.content  # as UTF-8 bytes, not \\u escapes

    w3c = client_for(groupmate).get(f"{ANNOTATIONS}{pk}/", HTTP_ACCEPT=JSONLD)
    assert w3c["Content-Type"].startswith("application/ld+json")
    bodies = [body["value"] for body in w3c.json()["body"] if body.get("purpose") != "tagging"]
    assert bodies == [text]
    page = client_for(groupmate).get(
        f"/api/v1/courses/{course.pk}/annotations/", {"page": 1}, HTTP_ACCEPT=JSONLD
    )
    assert text.encode("utf-8") in page.content


@pytest.mark.parametrize("script", TEXTS)
def test_a_note_in_any_script_is_shown_on_the_reading_page(script, client, course, author, groupmate, p5):
    client_for(author).post(ANNOTATIONS, _note(course, p5, TEXTS[script]), format="json")
    client.force_login(groupmate)
    page = client.get(reverse("annotate:reading", kwargs={"pk": course.pk})).content.decode("utf-8")
    assert html.escape(TEXTS[script], quote=False) in page


@pytest.mark.parametrize("script", TEXTS)
def test_thread_titles_and_posts_in_any_script_come_back_unchanged(script, client, course, author, groupmate):
    text = TEXTS[script]
    created = client_for(author).post(
        "/api/v1/threads/", {"course": course.pk, "title": text, "body": f"{text}\n\n{text}"}
    )
    assert created.status_code == 201, created.data
    thread = Thread.objects.get(pk=created.data["id"])
    assert thread.title == text
    assert thread.posts.get().body == f"{text}\n\n{text}"
    assert client_for(groupmate).get(f"/api/v1/threads/{thread.pk}/").json()["title"] == text
    posts = client_for(groupmate).get("/api/v1/posts/", {"thread": thread.pk}).json()["results"]
    assert [p["body"] for p in posts] == [f"{text}\n\n{text}"]
    client.force_login(groupmate)
    page = client.get(reverse("threads:detail", kwargs={"pk": course.pk, "thread_pk": thread.pk})).content
    assert html.escape(text, quote=False).encode("utf-8") in page


@pytest.mark.parametrize("script", TEXTS)
def test_challenge_arguments_in_any_script_come_back_unchanged(
    script, client, course, author, groupmate, paper
):
    claim = Claim.objects.filter(paragraph__document=paper).order_by("pk").first()
    text = TEXTS[script]
    created = client_for(author).post(
        "/api/v1/challenges/",
        {"course": course.pk, "claim": claim.key, "stance": "supports", "argument": text},
        format="json",
    )
    assert created.status_code == 201, created.data
    assert Challenge.objects.get(pk=created.data["id"]).argument == text
    assert client_for(groupmate).get(f"/api/v1/challenges/{created.data['id']}/").json()["argument"] == text
    client.force_login(groupmate)
    page = client.get(reverse("challenges:claim", kwargs={"pk": course.pk, "key": claim.key})).content
    assert html.escape(text, quote=False).encode("utf-8") in page


# -- user names ----------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["张伟", "Анна_К", "ليلى", "zoë.k"])
def test_a_username_in_any_script_can_sign_up_and_is_kept(db, client, username):
    response = client.post(
        reverse("signup"),
        {"username": username, "password1": "a-long-test-password", "password2": "a-long-test-password"},
    )
    assert response.status_code == 302, response.content.decode()
    assert get_user_model().objects.filter(username=username).exists()
    page = client.get(reverse("courses:list")).content.decode("utf-8")
    assert html.escape(username) in page


@pytest.mark.parametrize("username", ["👩🏽‍🎓", "zero\u200bwidth", "rtl\u200fmark", "join\u200der"])
def test_a_username_with_emoji_or_invisible_characters_is_refused(db, client, username):
    response = client.post(
        reverse("signup"),
        {"username": username, "password1": "a-long-test-password", "password2": "a-long-test-password"},
    )
    assert response.status_code == 400
    assert "Enter a valid username" in response.content.decode()
    assert not get_user_model().objects.filter(username=username).exists()


def test_a_full_width_copy_of_a_taken_username_is_refused(client, author):
    # NFKC makes "ａｕｔｈｏｒ" the same name as "author".
    response = client.post(
        reverse("signup"),
        {
            "username": "ａｕｔｈｏｒ",
            "password1": "a-long-test-password",
            "password2": "a-long-test-password",
        },
    )
    assert response.status_code == 400
    assert get_user_model().objects.filter(username__iexact="author").count() == 1


# -- search ---------------------------------------------------------------------------------


@pytest.mark.parametrize("script", TEXTS)
def test_a_word_in_any_script_is_found_by_the_annotation_search(script, course, author, p5):
    client_for(author).post(ANNOTATIONS, _note(course, p5, TEXTS[script]), format="json")
    client_for(author).post(ANNOTATIONS, _note(course, p5, "Something else entirely"), format="json")
    found = client_for(author).get(ANNOTATIONS, {"course": course.pk, "q": SEARCH_WORDS[script]}).json()
    assert [row["body"] for row in found["results"]] == [TEXTS[script]]


@pytest.mark.parametrize("script", ["chinese", "russian", "arabic"])
def test_a_word_in_any_script_is_found_by_the_claims_search(db, script):
    claim = ClaimFactory(paraphrase=TEXTS[script])
    ClaimFactory(paraphrase="A plain English paraphrase.")
    found = APIClient().get("/api/v1/claims/", {"q": SEARCH_WORDS[script]}).json()
    assert [row["key"] for row in found["results"]] == [claim.key]


def test_what_each_database_makes_of_part_of_a_word(course, author, p5):
    """Documented limits: PostgreSQL's parser takes a run of Chinese characters as one
    word and ignores emoji, so only whole runs are found there; SQLite matches any part of
    the text, but folds case for ASCII letters only."""
    for text in ("上海合作组织成立", "Россия 👩🏽‍🎓"):
        client_for(author).post(ANNOTATIONS, _note(course, p5, text), format="json")

    def bodies(q: str) -> list[str]:
        return [row["body"] for row in client_for(author).get(ANNOTATIONS, {"q": q}).json()["results"]]

    postgres = connection.vendor == "postgresql"
    assert bodies("上海合作组织成立") == ["上海合作组织成立"]
    assert bodies("上海") == ([] if postgres else ["上海合作组织成立"])
    assert bodies("👩🏽‍🎓") == ([] if postgres else ["Россия 👩🏽‍🎓"])
    assert bodies("Россия") == ["Россия 👩🏽‍🎓"]
    assert bodies("россия") == (["Россия 👩🏽‍🎓"] if postgres else [])


# -- exports ---------------------------------------------------------------------------------


def test_names_in_any_script_survive_the_grades_csv_byte_for_byte(client, course, instructor, assignment):
    names = {
        "zhang": ("伟", "张"),
        "anna": ("Анна", "Каренина"),
        "layla": ("ليلى", "العربي"),
        "emoji": ("Zoë 👩🏽‍🎓", "Z\u200bW"),
    }
    for username, (first, last) in names.items():
        user = UserFactory(username=f"csv-{username}", first_name=first, last_name=last)
        MembershipFactory(course=course, user=user, role=Role.STUDENT)
    assignment_services.grade_set(
        user=instructor, assignment=assignment, student=get_user_model().objects.get(username="csv-layla"),
        score="7", feedback="ممتاز 👍 — отлично 很好",
    )  # fmt: skip
    client.force_login(instructor)
    for url, name in (
        ("assignments:grades-csv", "{first} {last}"),
        ("assignments:grades-canvas-csv", "{last}, {first}"),
    ):
        raw = client.get(reverse(url, kwargs={"pk": assignment.pk})).content
        assert raw.startswith("\ufeff".encode())
        cells = {cell for row in csv.reader(io.StringIO(raw.decode("utf-8-sig"))) for cell in row}
        for first, last in names.values():
            assert name.format(first=first, last=last) in cells
            assert name.format(first=first, last=last).encode() in raw
    assert (
        "ممتاز 👍 — отлично 很好".encode()
        in client.get(reverse("assignments:grades-csv", kwargs={"pk": assignment.pk})).content
    )


def test_notes_in_any_script_survive_the_courses_work_json_byte_for_byte(client, course, author, ta, p5):
    for text in TEXTS.values():
        client_for(author).post(ANNOTATIONS, _note(course, p5, text), format="json")
    client.force_login(ta)
    raw = client.get(reverse("assignments:course-work-json", kwargs={"pk": course.pk})).content
    assert sorted(a["body"] for a in json.loads(raw.decode("utf-8"))["annotations"]) == sorted(TEXTS.values())
    for text in TEXTS.values():
        assert text.encode("utf-8") in raw


# -- anchoring -------------------------------------------------------------------------------

# Emoji before the quote take two UTF-16 units each in the browser, one index in Python.
PARAGRAPH = "👩🏽‍🎓 Студенты 上海 read: «منظمة» and zero\u200bwidth; the quote is here, then 🇨🇳 more."
QUOTE = "the quote is here"


def test_a_quote_after_emoji_and_zero_width_characters_is_anchored_by_code_points():
    start = PARAGRAPH.index(QUOTE)
    target = target_for(PARAGRAPH, exact=QUOTE, start=start, end=start + len(QUOTE))
    assert (target.start, target.end, target.exact) == (start, start + len(QUOTE), QUOTE)
    assert PARAGRAPH[: target.start].endswith(target.prefix)
    assert target_for(PARAGRAPH, exact=QUOTE).start == start


def test_offsets_counted_in_utf16_units_by_a_browser_are_read_as_code_points():
    start = PARAGRAPH.index(QUOTE)
    js_start = len(PARAGRAPH[:start].encode("utf-16-le")) // 2
    assert js_start > start  # the emoji sequence and the flag before it hold astral characters
    assert utf16_to_index(PARAGRAPH, js_start) == start
    target = target_for(PARAGRAPH, exact=QUOTE, start=js_start, end=js_start + len(QUOTE))
    assert (target.start, target.end) == (start, start + len(QUOTE))


def test_a_utf16_offset_inside_a_surrogate_pair_is_not_a_position():
    assert utf16_to_index("👩x", 1) is None
    assert utf16_to_index("👩x", 2) == 1
    assert utf16_to_index("👩x", 3) == 2
    assert utf16_to_index("👩x", 4) is None


def test_a_quote_of_emoji_and_right_to_left_text_is_anchored_and_reanchored():
    quote = "«منظمة»"
    start = PARAGRAPH.index(quote)
    target = target_for(PARAGRAPH, exact=quote, start=start, end=start + len(quote))
    moved = "🇨🇳🇨🇳 " + PARAGRAPH
    found = anchor(
        moved, exact=quote, prefix=target.prefix, suffix=target.suffix, start=start, end=target.end
    )
    assert (found.status, moved[found.start : found.end]) == ("reanchored", quote)


def test_the_api_anchors_a_browser_selection_after_emoji(paper):
    document = DocumentFactory()
    paragraph = ParagraphFactory(section=SectionFactory(document=document), text=PARAGRAPH)
    course = CourseFactory(reading=document)
    student = MembershipFactory(course=course, role=Role.STUDENT).user
    start = PARAGRAPH.index(QUOTE)
    js_start = len(PARAGRAPH[:start].encode("utf-16-le")) // 2
    response = client_for(student).post(
        ANNOTATIONS,
        {
            "course": course.pk,
            "paragraph": paragraph.anchor,
            "exact": QUOTE,
            "start": js_start,
            "end": js_start + len(QUOTE),
            "body": "👍",
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    note = Annotation.objects.get(pk=response.data["id"])
    assert (note.start, note.end, PARAGRAPH[note.start : note.end]) == (start, start + len(QUOTE), QUOTE)
    assert response.data["anchor"]["status"] == "anchored"


def test_the_page_script_sends_code_point_offsets():
    """The reading page's script converts the browser's UTF-16 offsets before sending them."""
    from django.contrib.staticfiles import finders

    with open(finders.find("js/annotate.js"), encoding="utf-8") as file:
        script = file.read()
    assert "Array.from(text).length" in script
    assert 'querySelector("[name=start]").value = first;' in script


def test_posts_keep_invisible_characters(course, author):
    thread = (
        client_for(author).post("/api/v1/threads/", {"course": course.pk, "title": "t", "body": "a"}).data
    )
    body = TEXTS["zero_width"]
    created = client_for(author).post("/api/v1/posts/", {"thread": thread["id"], "body": body})
    assert created.status_code == 201, created.data
    assert Post.objects.get(pk=created.data["id"]).body == body
