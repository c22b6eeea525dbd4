"""Adding sources to a course: validation, reuse of duplicates, and pasted bibliographies."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from annotations.models import Source
from annotations.services import sources as services
from annotations.services.sources import (
    source_add,
    sources_import,
    sources_parse_bibtex,
    sources_parse_csl_json,
)

ARTICLE = {
    "kind": "article",
    "authors": ["Ambrosio, Thomas"],
    "year": 2008,
    "title": "Catching the Shanghai spirit",
    "container": "Europe-Asia Studies",
    "doi": "10.1080/09668130802292143",
}


def test_a_member_adds_a_source_with_a_generated_key(author, course):
    source, created = source_add(user=author, course=course, **ARTICLE)

    assert created is True
    source.refresh_from_db()
    assert (source.key, source.course, source.added_by) == ("ambrosio-2008-1", course, author)
    again, _ = source_add(user=author, course=course, **ARTICLE | {"doi": "", "title": "Another"})
    assert again.key == "ambrosio-2008-2"


def test_it_refuses_someone_outside_the_course(other_course_student, outsider, curator, course):
    for user in (other_course_student, outsider, curator):
        with pytest.raises(PermissionDenied):
            source_add(user=user, course=course, **ARTICLE)
    assert not Source.objects.filter(course=course).exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"doi": "11.1/x"}, "doi", "A DOI looks like 10.1234/abcd"),
        ({"doi": "https://doi.org/abc"}, "doi", "“https://doi.org/abc” is not one"),
        ({"url": "ftp://example.org/x"}, "url", "starts with http:// or https://"),
        ({"url": "not a url"}, "url", "“not a url” is not one"),
        ({"kind": "web", "doi": ""}, "url", services.URL_MISSING),
        ({"kind": "note"}, "kind", "Choose one of: book, article"),
        ({"year": 99}, "year", "The year must be between 1000"),
        ({"year": 2031}, "year", "The year must be between 1000 and 2028."),
        ({"title": " "}, "title", services.TITLE_MISSING),
        ({"accessed": dt.date(2027, 6, 2)}, "accessed", services.ACCESSED_FUTURE),
    ],
)
@time_machine.travel(dt.datetime(2027, 6, 1, 12, tzinfo=dt.UTC))
def test_it_explains_each_bad_field_and_writes_nothing(author, course, fields, field, message):
    with pytest.raises(ValidationError) as caught:
        source_add(user=author, course=course, **ARTICLE | fields)

    assert str(message) in " ".join(caught.value.message_dict[field])
    assert not Source.objects.filter(course=course).exists()


@pytest.mark.parametrize(
    "doi",
    [
        "10.1080/09668130802292143",
        "https://doi.org/10.1080/09668130802292143",
        "DOI:10.1080/09668130802292143".replace("DOI", "doi"),
        "10.1080/09668130802292143".upper(),
    ],
)
def test_the_same_doi_in_any_form_reuses_the_course_source(author, groupmate, course, doi):
    first, _ = source_add(user=author, course=course, **ARTICLE)

    again, created = source_add(
        user=groupmate, course=course, **ARTICLE | {"doi": doi, "title": "Typed again"}
    )

    assert (again, created) == (first, False)
    assert Source.objects.filter(course=course).count() == 1
    assert again.title == "Catching the Shanghai spirit"


@pytest.mark.parametrize(
    "url",
    [
        "http://WWW.xinhuanet.com/world/2015-07/07/c_1115839679.htm#top",
        "HTTP://www.xinhuanet.com/world/2015-07/07/c_1115839679.htm",
    ],
)
def test_the_same_url_as_a_reading_source_reuses_the_reading_source(author, course, url):
    source, created = source_add(user=author, course=course, kind="web", title="Deepen", url=url)

    assert created is False
    assert source.key == "xinhuanet-2015"
    assert not Source.objects.filter(course=course).exists()


def test_a_root_url_with_or_without_its_slash_is_one_source(author, course):
    first, _ = source_add(user=author, course=course, kind="web", title="SCO", url="https://ENG.sectsco.org/")

    again, created = source_add(
        user=author, course=course, kind="web", title="SCO", url="https://eng.sectsco.org"
    )

    assert first.url == "https://eng.sectsco.org"
    assert (again, created) == (first, False)


def test_two_courses_each_keep_their_own_copy(author, course, other_course_student, other_course):
    mine, _ = source_add(user=author, course=course, **ARTICLE)

    theirs, created = source_add(user=other_course_student, course=other_course, **ARTICLE)

    assert created is True
    assert theirs != mine
    assert {s.course for s in Source.objects.filter(doi=ARTICLE["doi"])} == {course, other_course}


def test_the_database_refuses_a_second_copy_in_a_course(author, course):
    source_add(user=author, course=course, **ARTICLE)

    with pytest.raises(IntegrityError), transaction.atomic():
        Source.objects.create(key="copy", kind="article", title="x", course=course, doi=ARTICLE["doi"])


def test_a_lost_race_returns_the_winner(author, course, monkeypatch):
    winner = Source.objects.create(key="winner", kind="article", title="x", course=course, doi=ARTICLE["doi"])
    # The duplicate appears after the check and before the write.
    lookups = iter([None, winner])
    monkeypatch.setattr(services, "source_duplicate", lambda **kwargs: next(lookups))

    source, created = source_add(user=author, course=course, **ARTICLE)

    assert (source, created) == (winner, False)
    assert Source.objects.filter(course=course).count() == 1


BIBTEX = r"""
@article{ambrosio2008,
  author = {Ambrosio, Thomas},
  title = {Catching the {Shanghai} spirit},
  journaltitle = {Europe-Asia Studies},
  year = {2008},
  pages = {1321--1344},
  doi = {https://doi.org/10.1080/09668130802292143}
}

@book{broken,
  title = {No closing brace},

@online{sco2016,
  author = {{Shanghai Cooperation Organisation}},
  title = {Tashkent Declaration},
  url = {https://eng.sectsco.org/x},
  urldate = {2024-03-05},
  year = {2016}
}

@book{badyear, author = {Xu, Tao}, title = {Concept}, year = {soon}}

@article{baddoi, title = {Wrong}, doi = {12.3/x}, year = 2001}
"""


def test_bibtex_parses_every_good_entry_and_names_the_bad_ones():
    entries = {entry.entry: entry for entry in sources_parse_bibtex(BIBTEX)}

    assert entries["ambrosio2008"].fields["authors"] == ["Ambrosio, Thomas"]
    assert entries["ambrosio2008"].fields["title"] == "Catching the Shanghai spirit"
    assert entries["ambrosio2008"].fields["pages"] == "1321–1344"
    assert entries["sco2016"].fields["authors"] == ["Shanghai Cooperation Organisation"]
    assert entries["sco2016"].fields["kind"] == "web"
    assert "Entry “broken”" in entries["broken"].errors[0]
    assert "the year “soon”" in entries["badyear"].errors[0]


def test_a_bibtex_import_adds_the_good_entries_and_reports_the_bad(author, course):
    report = sources_import(user=author, course=course, text=BIBTEX, format="bibtex")

    assert sorted(s.title for s in report.added) == ["Catching the Shanghai spirit", "Tashkent Declaration"]
    assert sorted(error["entry"] for error in report.errors) == ["baddoi", "badyear", "broken"]
    baddoi = next(error for error in report.errors if error["entry"] == "baddoi")
    assert "Entry “baddoi”: doi — A DOI looks like" in baddoi["messages"][0]
    assert Source.objects.filter(course=course).count() == 2
    again = sources_import(user=author, course=course, text=BIBTEX, format="bibtex")
    assert (len(again.added), len(again.reused)) == (0, 2)


CSL = [
    {"id": "a", "type": "article-journal", "title": "Catching", "author": [{"family": "Ambrosio", "given": "Thomas"}],
     "issued": {"date-parts": [[2008]]}, "DOI": "10.1080/09668130802292143", "container-title": "EAS"},
    {"id": "b", "type": "song", "title": "Not a source"},
    {"id": "c", "type": "webpage", "title": "Page", "author": [{"literal": "SCO"}], "URL": "https://x.org/",
     "accessed": {"date-parts": [[2024, 2, 30]]}},
    {"id": "d", "type": "dataset", "title": "Trade", "author": [{"literal": "UN"}], "URL": "https://data.un.org/t"},
    "not an object",
]  # fmt: skip


def test_csl_json_import_adds_the_good_items_and_reports_the_bad(author, course):
    report = sources_import(user=author, course=course, text=json.dumps(CSL), format="csl-json")

    assert sorted(s.title for s in report.added) == ["Catching", "Trade"]
    errors = {error["entry"]: error["messages"] for error in report.errors}
    assert set(errors) == {"b", "c", "item 5"}
    assert "the type “song”" in errors["b"][0]
    assert "date-parts" in errors["c"][0]
    assert report.added[0].authors == ["Ambrosio, Thomas"]


def test_csl_json_that_is_not_json_is_a_field_error(author, course):
    with pytest.raises(ValidationError) as caught:
        sources_parse_csl_json("[{")
    assert "not valid JSON" in caught.value.message_dict["text"][0]
    with pytest.raises(ValidationError) as caught:
        sources_import(user=author, course=course, text="no entries here", format="bibtex")
    assert caught.value.message_dict["text"] == [services.NOTHING_TO_IMPORT]


def test_an_import_refuses_someone_outside_the_course(other_course_student, course):
    with pytest.raises(PermissionDenied):
        sources_import(user=other_course_student, course=course, text=BIBTEX, format="bibtex")


def test_the_papers_sources_are_unchanged_and_still_load(paper):
    reading = Source.objects.filter(course__isnull=True)

    assert reading.count() == 25
    assert reading.get(key="xu-ji-2002").authors == ["Xu Tao", "Ji Zhiye"]
