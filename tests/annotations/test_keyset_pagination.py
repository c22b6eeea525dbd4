"""Keyset (cursor) pagination of the deep lists: every row once, in order, never a COUNT."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from annotations.models import Annotation, Thread
from annotations.services import threads as thread_services
from tests.factories import AnnotationFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/annotations/"
WHOLE_COUNT = re.compile(r"\s*SELECT\s+COUNT\(", re.IGNORECASE)
MOMENT = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def api(author) -> APIClient:
    client = APIClient()
    client.force_authenticate(author)
    return client


@pytest.fixture
def many(course, author, paper, time_machine) -> list[Annotation]:
    """120 annotations over four paragraphs, written at three moments: many share a timestamp."""
    paragraphs = list(paper.paragraphs.order_by("order")[:4])
    rows = []
    for n in range(120):
        # Microseconds too: a cursor that kept only milliseconds would skip rows.
        time_machine.move_to(MOMENT + dt.timedelta(minutes=n % 3, microseconds=654321), tick=False)
        paragraph = paragraphs[n % 4]
        rows.append(
            AnnotationFactory(
                course=course,
                author=author,
                paragraph=paragraph,
                start=n % 7,
                end=n % 7 + 5,
                body=f"Note {n}",
            )
        )
    return rows


def walk(api: APIClient, url: str, params: dict) -> tuple[list[dict], list[dict]]:
    """Every page from the first, following ``next``; the pages and the queries they ran."""
    pages, queries = [], []
    response = api.get(url, params)
    while True:
        assert response.status_code == 200, response.data
        pages.append(response.data)
        if not response.data["next"]:
            return pages, queries
        with CaptureQueriesContext(connection) as captured:
            response = api.get(response.data["next"])
        queries.extend(captured.captured_queries)


def test_walking_next_links_lists_every_annotation_once_newest_first(api, many):
    with CaptureQueriesContext(connection) as first:
        api.get(URL, {"page_size": 25})
    pages, queries = walk(api, URL, {"page_size": 25})

    ids = [row["id"] for page in pages for row in page["results"]]
    newest_first = sorted(many, key=lambda a: (a.created_at, a.pk), reverse=True)
    assert ids == [a.pk for a in newest_first]
    assert [len(page["results"]) for page in pages] == [25, 25, 25, 25, 20]
    assert all(set(page) == {"next", "previous", "results"} for page in pages)
    # The annotations' own aggregates (helpful_count) are bounded by the page; a count of
    # the whole list is what must not run.
    counts = [q["sql"] for q in [*first.captured_queries, *queries] if WHOLE_COUNT.match(q["sql"])]
    assert counts == []


def test_previous_links_walk_the_same_pages_back(api, many):
    pages, _ = walk(api, URL, {"page_size": 50})
    assert pages[0]["previous"] is None

    back = [pages[-1]]
    while back[-1]["previous"]:
        back.append(api.get(back[-1]["previous"]).data)
    assert [[r["id"] for r in p["results"]] for p in reversed(back)] == [
        [r["id"] for r in p["results"]] for p in pages
    ]


def test_the_reading_order_is_walked_too(api, many):
    pages, _ = walk(api, URL, {"page_size": 30, "ordering": "reading"})
    ids = [row["id"] for page in pages for row in page["results"]]
    reading = sorted(many, key=lambda a: (a.paragraph_anchor, a.start, a.created_at, a.pk))
    assert ids == [a.pk for a in reading]


def test_filters_apply_on_every_page(api, many, paper):
    anchor = many[0].paragraph_anchor
    pages, _ = walk(api, URL, {"page_size": 7, "paragraph": anchor})
    ids = [row["id"] for page in pages for row in page["results"]]
    assert sorted(ids) == sorted(a.pk for a in many if a.paragraph_anchor == anchor)
    assert len(ids) == len(set(ids)) == 30


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ranking is PostgreSQL's")
def test_search_results_are_walked_best_match_first(api, course, author):
    # Ranks repeat (the same text twice), so the pk breaks the ties within a rank.
    for n in range(24):
        AnnotationFactory(course=course, author=author, body="treaty " * (1 + n % 4) + f"number {n}")
    pages, _ = walk(api, URL, {"page_size": 5, "q": "treaty"})
    rows = [row for page in pages for row in page["results"]]
    assert len(rows) == len({row["id"] for row in rows}) == 24
    counts = [row["body"].count("treaty") for row in rows]
    assert counts == sorted(counts, reverse=True)
    for repeat in set(counts):
        ids = [row["id"] for row in rows if row["body"].count("treaty") == repeat]
        assert ids == sorted(ids, reverse=True)


def test_a_forged_cursor_is_a_404(api, many):
    response = api.get(URL, {"cursor": "not-a-cursor"})
    assert response.status_code == 404
    assert response.data == {"detail": "Invalid cursor."}


def test_threads_are_walked_pinned_first_then_by_latest_activity(course, author, groupmate, time_machine):
    made = []
    for n in range(12):
        time_machine.move_to(MOMENT + dt.timedelta(minutes=n), tick=False)
        made.append(thread_services.thread_create(user=author, course=course, title=f"T{n}", body="Hello"))
    time_machine.move_to(MOMENT + dt.timedelta(hours=1), tick=False)
    thread_services.post_create(user=groupmate, thread=made[3], body="Back to this one")
    Thread.objects.filter(pk=made[7].pk).update(pinned=True)

    client = APIClient()
    client.force_authenticate(author)
    pages, _ = walk(client, "/api/v1/threads/", {"page_size": 5})
    titles = [row["title"] for page in pages for row in page["results"]]
    assert titles == ["T7", "T3", *[f"T{n}" for n in range(11, -1, -1) if n not in (3, 7)]]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/challenges/",
        "/api/v1/threads/",
        "/api/v1/posts/",
        "/api/v1/notifications/",
        "/api/v1/flags/",
        "/api/v1/moderation/",
        "/api/v1/links/",
    ],
)
def test_deep_lists_answer_with_cursors_and_no_count(url, instructor):
    client = APIClient()
    client.force_authenticate(instructor)
    response = client.get(url)
    assert response.status_code == 200
    assert set(response.data) == {"next", "previous", "results"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ranking is PostgreSQL's")
def test_a_search_page_is_chosen_narrow_then_read_in_full(api, course, author, django_assert_max_num_queries):
    # The page's ids are ranked first, the rows read in full after, in one query: the rank
    # each row carries (and its cursor) is the one the order used, and the next page
    # starts right after it.
    for n in range(12):
        AnnotationFactory(course=course, author=author, body="treaty " * (1 + n % 3) + f"number {n}")
    with django_assert_max_num_queries(12):
        first = api.get(URL, {"page_size": 4, "q": "treaty"})
    with CaptureQueriesContext(connection) as captured:
        api.get(first.data["next"])
    ranked = [q["sql"] for q in captured.captured_queries if "ts_rank" in q["sql"]]
    assert len(ranked) == 1
    assert "LIMIT 5" in ranked[0]
    pages, _ = walk(api, URL, {"page_size": 4, "q": "treaty"})
    assert [row["id"] for page in pages for row in page["results"]][:4] == [
        row["id"] for row in first.data["results"]
    ]
