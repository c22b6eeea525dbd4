"""Text search: the annotations ``q`` filter, the claims and sources searches.

Words, "phrases" and -exclusions behave the same on both databases; stemming, ranking and
the GIN indexes are PostgreSQL's (SQLite's fallback matches every word, ignoring case).
"""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from annotations import selectors
from annotations.models import Annotation
from annotations.search import ANNOTATIONS, StoredVector, annotations_matching
from tests.factories import AnnotationFactory, ClaimFactory, SourceFactory

pytestmark = pytest.mark.django_db

ANNOTATIONS_URL = "/api/v1/annotations/"
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="full-text search and GIN indexes are PostgreSQL's"
)


@pytest.fixture
def api(author) -> APIClient:
    client = APIClient()
    client.force_authenticate(author)
    return client


@pytest.fixture
def notes(course, author) -> dict[str, int]:
    bodies = {
        "treaty": "The border treaty was signed in Moscow.",
        "reversed": "A treaty about the border, signed in Beijing.",
        "energy": "Energy cooperation came later.",
        "institution": "This marks the institutionalization of the SCO.",
    }
    return {
        name: AnnotationFactory(course=course, author=author, body=body).pk for name, body in bodies.items()
    }


def found(api: APIClient, q: str) -> set[int]:
    return {row["id"] for row in api.get(ANNOTATIONS_URL, {"q": q}).data["results"]}


def test_every_word_must_appear_in_the_note_or_the_quote(api, notes):
    assert found(api, "treaty border") == {notes["treaty"], notes["reversed"]}
    assert found(api, "Treaty Moscow") == {notes["treaty"]}
    assert found(api, "treaty nowhere") == set()


def test_a_quoted_phrase_must_appear_as_written(api, notes):
    assert found(api, '"border treaty"') == {notes["treaty"]}


def test_a_word_after_a_minus_excludes_the_notes_that_have_it(api, notes):
    assert found(api, "treaty -moscow") == {notes["reversed"]}


def test_the_quoted_span_is_searched_too(api, course, author, notes):
    quoted = AnnotationFactory(course=course, author=author, body="")
    word = quoted.exact.split()[1]  # "Shanghai": the first word, "The", is a stop word
    assert quoted.pk in found(api, word)


def test_search_keeps_to_the_annotations_the_user_may_see(notes, course, groupmate, other_course_student):
    AnnotationFactory(course=course, author=groupmate, body="A private treaty note.", visibility="private")
    outsider = APIClient()
    outsider.force_authenticate(other_course_student)
    assert found(outsider, "treaty") == set()


@postgresql_only
def test_search_finds_other_forms_of_a_word(api, notes):
    assert found(api, "institutionalize") == {notes["institution"]}


@postgresql_only
def test_the_best_match_comes_first(api, course, author, notes):
    best = AnnotationFactory(course=course, author=author, body="Energy, energy and more energy policy.").pk
    ids = [row["id"] for row in api.get(ANNOTATIONS_URL, {"q": "energy"}).data["results"]]
    assert ids == [best, notes["energy"]]


def test_an_explicit_order_wins_over_the_ranking(api, course, author, notes):
    newer = AnnotationFactory(course=course, author=author, body="Energy, energy and more energy policy.").pk
    ids = [
        row["id"] for row in api.get(ANNOTATIONS_URL, {"q": "energy", "ordering": "oldest"}).data["results"]
    ]
    assert ids == [notes["energy"], newer]


@postgresql_only
def test_the_annotations_search_uses_its_gin_index(author, notes):
    # Every annotation: with the visibility rule, its btree indexes compete with it here.
    rows = annotations_matching(Annotation.objects.all(), "treaty border", rank=True)
    with connection.cursor() as cursor:
        # A handful of rows: without this the planner rightly prefers reading the table.
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = rows.explain()
    assert ANNOTATIONS.column_index_name in plan


@postgresql_only
def test_a_students_search_reads_the_index_by_course_and_words(author, notes):
    rows = annotations_matching(selectors.visible_annotations(author), "treaty", rank=True)
    with connection.cursor() as cursor:
        # A handful of rows: the course's btree indexes would rightly win here. Dropped inside
        # the test's transaction, so the plan shows whether the search index can use the course.
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'annotations_annotation' "
            "AND indexname NOT IN (%s, 'annotations_annotation_pkey')",
            [ANNOTATIONS.column_index_name],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = rows.explain()
    # The course's notes with the word, from the index alone: not every note with the word.
    assert re.search(rf"{ANNOTATIONS.column_index_name}.*\n\s*Index Cond: \(\(course_id = ", plan), plan


@postgresql_only
def test_the_matches_of_a_search_can_be_counted(author, notes):
    # A paginator's count hashes the query's expressions, the stored vector's column too.
    matches = annotations_matching(selectors.visible_annotations(author), "treaty")
    assert matches.count() == len(list(matches)) >= 2


def stored_vector(pk: int) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {ANNOTATIONS.column}::text FROM annotations_annotation WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@postgresql_only
def test_the_database_keeps_the_stored_vector_of_a_note_current(api, course, author, notes):
    assert "'moscow'" in stored_vector(notes["treaty"])
    note = api.patch(f"{ANNOTATIONS_URL}{notes['treaty']}/", {"body": "Signed in Tashkent."}, format="json")
    assert note.data["body"] == "Signed in Tashkent."
    assert "'tashkent'" in stored_vector(notes["treaty"])
    assert "'moscow'" not in stored_vector(notes["treaty"])
    assert found(api, "Tashkent") == {notes["treaty"]}
    assert found(api, "Moscow") == set()


@postgresql_only
def test_bulk_loaded_notes_are_searchable():
    call_command(
        "generate_scale_data",
        courses=1,
        students=4,
        annotations=40,
        challenges=4,
        posts=4,
        big_course_students=4,
        big_thread_posts=2,
        stdout=StringIO(),
        stderr=StringIO(),
        verbosity=0,
    )
    loaded = Annotation.objects.filter(course__title__startswith="Scale 1 ")
    assert loaded.count() == 40
    missing = loaded.alias(vector=StoredVector(ANNOTATIONS.column)).filter(vector__isnull=True)
    assert not missing.exists()
    note = loaded.exclude(body="").first()
    word = next(w for w in note.body.split() if len(w) > 6).strip(".,;:")
    assert annotations_matching(loaded, word).filter(pk=note.pk).exists()


def test_claims_search_matches_quote_paraphrase_and_note(client):
    wanted = ClaimFactory(paraphrase="Zebras crossed the steppe.", note="")
    ClaimFactory(paraphrase="Horses crossed the steppe.", note="")
    keys = {row["key"] for row in client.get("/api/v1/claims/", {"q": "zebras steppe"}).json()["results"]}
    assert keys == {wanted.key}


@postgresql_only
def test_claims_search_stems_and_ranks(client):
    once = ClaimFactory(paraphrase="Institutionalizing the zebra league.", note="")
    twice = ClaimFactory(paraphrase="The institutionalization of zebras.", note="Zebra institutions.")
    keys = [
        row["key"] for row in client.get("/api/v1/claims/", {"q": "zebra institutionalize"}).json()["results"]
    ]
    assert keys == [twice.key, once.key]


def test_claims_search_in_the_pages(client):
    ClaimFactory(paraphrase="Zebras crossed the steppe.", note="")
    ClaimFactory(paraphrase="Horses crossed the steppe.", note="")
    page = client.get("/claims/", {"q": "zebras"}).content.decode()
    assert "Zebras crossed the steppe." in page
    assert "Horses crossed the steppe." not in page


def test_sources_search_matches_title_and_authors(client):
    wanted = SourceFactory(title="Zebra diplomacy in Central Asia", course=None)
    SourceFactory(title="Horse diplomacy in Central Asia", course=None)
    keys = {row["key"] for row in client.get("/api/v1/sources/", {"q": "zebra diplomacy"}).json()["results"]}
    assert keys == {wanted.key}
