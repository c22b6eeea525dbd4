"""The interface in English, Simplified Chinese and Russian: chosen by the browser's language or
by the switch in the footer, with localised dates, and complete, compiled catalogues."""

from __future__ import annotations

import ast
import datetime as dt
import gettext
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.models import Claim
from annotations.models.challenges import Challenge
from annotations.services.notifications import notify

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
CATALOGUES = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/django.po"))

# Each page and, per language, phrases its translated interface must show.
PAGES = {
    "home": {
        "zh-hans": ["一起批判性地阅读一篇已发表的论证", "从何开始", "作为学生", "阅读论文"],
        "ru": ["Читаем опубликованную аргументацию критически — вместе", "С чего начать", "Студенту"],
    },
    "reading": {
        "zh-hans": ["个论断已在原文中高亮", "第 1 段", "关键词："],
        "ru": ["выделен", "Абзац 1", "Ключевые слова:"],
    },
    "help": {
        "zh-hans": ["本站用语", "证据状态", "举报与审核", "教师指南"],
        "ru": ["Термины сайта", "Статус доказательности", "Жалобы и модерация", "Для преподавателей"],
    },
    "course": {
        "zh-hans": ["您的角色", "审核队列", "课程的参考文献", "教师"],
        "ru": ["Ваша роль", "Очередь проверки", "библиография курса", "преподаватель"],
    },
}  # fmt: skip


@pytest.fixture
def page_url(paper, course, instructor, client):
    """The address of each page under test, with the client signed in where the page needs it."""
    client.force_login(instructor)
    return {
        "home": reverse("annotations:home"),
        "reading": paper.get_absolute_url(),
        "help": reverse("help:index"),
        "course": reverse("courses:detail", kwargs={"pk": course.pk}),
    }


def _text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("language", ["zh-hans", "ru"])
@pytest.mark.parametrize("page", sorted(PAGES))
def test_the_browsers_language_chooses_the_interface(client, page_url, page, language):
    text = _text(client.get(page_url[page], HTTP_ACCEPT_LANGUAGE=f"{language},en;q=0.5"))

    assert f'<html lang="{language}">' in text
    for phrase in PAGES[page][language]:
        assert phrase in text


@pytest.mark.parametrize("language", ["zh-hans", "ru"])
@pytest.mark.parametrize("page", sorted(PAGES))
def test_the_switch_chooses_the_interface_over_the_browsers_language(client, page_url, page, language):
    response = client.post(reverse("set_language"), {"language": language, "next": page_url[page]})
    assert response["Location"] == page_url[page]

    text = _text(client.get(page_url[page], HTTP_ACCEPT_LANGUAGE="en"))

    assert f'<html lang="{language}">' in text
    for phrase in PAGES[page][language]:
        assert phrase in text


def test_an_english_browser_sees_english(client, page_url):
    text = _text(client.get(page_url["home"], HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9"))

    assert '<html lang="en">' in text
    assert "Read a published argument critically, together" in text
    assert "Where to start" in text
    assert "С чего начать" not in text


def test_an_unknown_language_falls_back_to_english(client, page_url):
    text = _text(client.get(page_url["help"], HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9"))

    assert '<html lang="en">' in text
    assert "The words used here" in text


def test_the_footer_offers_every_language_in_its_own_name(client, page_url):
    text = _text(client.get(page_url["help"], HTTP_ACCEPT_LANGUAGE="ru"))

    assert f'action="{reverse("set_language")}"' in text
    assert '<label for="language-select">Язык</label>' in text
    assert '<option value="ru" lang="ru" selected>Русский</option>' in text
    assert '<option value="zh-hans" lang="zh-hans">简体中文</option>' in text
    assert '<option value="en" lang="en">English</option>' in text


@pytest.mark.parametrize(
    ("language", "expected"),
    [("ru", "15 марта 2026 г. 9:30"), ("zh-hans", "2026年3月15日 09:30"), ("en", "15 Mar 2026, 09:30")],
)
def test_dates_follow_the_language(client, course, author, instructor, language, expected):
    with time_machine.travel(dt.datetime(2026, 3, 15, 9, 30, tzinfo=dt.UTC), tick=False):
        notify(recipient=author, kind="reply", actor=instructor, course=course, message="A reply", url="/")
    client.force_login(author)

    text = _text(client.get(reverse("notifications:list"), HTTP_ACCEPT_LANGUAGE=language))

    assert expected in text
    assert 'datetime="2026-03-15T09:30:00+00:00"' in text


# -- the catalogues ----------------------------------------------------------------------------


def _entries(path: Path) -> list[dict[str, object]]:
    """The entries of a .po file: msgid, msgid_plural, msgstr (a list of forms) and flags."""
    entries: list[dict[str, object]] = []
    entry: dict[str, object] = {}
    field = ""
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if "msgid" in entry:
                entries.append(entry)
            entry, field = {}, ""
        elif line.startswith("#~"):
            raise AssertionError(f"{path} keeps an obsolete entry: run makemessages with --no-obsolete")
        elif line.startswith("#,"):
            entry.setdefault("flags", set()).update(f.strip() for f in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            _append(entry, field, ast.literal_eval(line))
        else:
            keyword, _, value = line.partition(" ")
            field = keyword
            _append(entry, field, ast.literal_eval(value))
    return entries


def _append(entry: dict[str, object], field: str, text: str) -> None:
    if field.startswith("msgstr"):
        forms = entry.setdefault("msgstr", {})
        forms[field] = forms.get(field, "") + text
    else:
        entry[field] = entry.get(field, "") + text


def test_there_is_a_catalogue_for_each_language_but_english():
    assert {path.parts[-3] for path in CATALOGUES} == {"ru", "zh_Hans"}


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda path: path.parts[-3])
def test_every_string_is_translated_and_none_is_fuzzy(po):
    entries = _entries(po)
    header, messages = entries[0], entries[1:]

    assert "fuzzy" not in header.get("flags", set())
    assert len(messages) > 300
    for entry in messages:
        assert "fuzzy" not in entry.get("flags", set()), entry["msgid"]
        assert all(form.strip() for form in entry["msgstr"].values()), entry["msgid"]


@pytest.mark.parametrize(("language", "forms"), [("ru", 3), ("zh_Hans", 1)])
def test_plurals_have_every_form_the_language_needs(language, forms):
    entries = _entries(LOCALE_DIR / language / "LC_MESSAGES" / "django.po")

    assert f"nplurals={forms};" in entries[0]["msgstr"]["msgstr"]
    plurals = [entry for entry in entries if "msgid_plural" in entry]
    assert plurals
    for entry in plurals:
        assert sorted(entry["msgstr"]) == [f"msgstr[{n}]" for n in range(forms)], entry["msgid"]


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda path: path.parts[-3])
def test_the_compiled_catalogue_matches_its_source(po):
    with po.with_suffix(".mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    entries = _entries(po)[1:]

    for entry in entries:
        msgid = entry["msgid"]
        if "msgctxt" in entry:
            assert compiled.pgettext(entry["msgctxt"], msgid) == entry["msgstr"]["msgstr"], msgid
        elif "msgid_plural" in entry:
            assert compiled.ngettext(msgid, entry["msgid_plural"], 1) == entry["msgstr"]["msgstr[0]"]
        else:
            assert compiled.gettext(msgid) == entry["msgstr"]["msgstr"], msgid


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext is not installed")
@pytest.mark.parametrize("po", CATALOGUES, ids=lambda path: path.parts[-3])
def test_msgfmt_finds_no_fault_in_the_catalogue(po, tmp_path):
    result = subprocess.run(
        ["msgfmt", "--check", "-o", str(tmp_path / "django.mo"), str(po)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda path: path.parts[-3])
def test_placeholders_survive_translation(po):
    for entry in _entries(po)[1:]:
        wanted = set(re.findall(r"%\(\w+\)s", entry["msgid"] + entry.get("msgid_plural", "")))
        for form in entry["msgstr"].values():
            assert set(re.findall(r"%\(\w+\)s", form)) <= wanted, entry["msgid"]
            if "msgid_plural" not in entry:
                assert set(re.findall(r"%\(\w+\)s", form)) == wanted, entry["msgid"]


def test_drawing_coordinates_stay_numbers_in_a_language_with_decimal_commas(client, paper):
    text = _text(client.get(reverse("timeline:timeline"), HTTP_ACCEPT_LANGUAGE="ru"))

    assert '<svg class="timeline"' in text
    assert "Хронология" in text
    assert not re.search(r'\b(?:x|y|width|height)="-?\d+,\d', text)
    assert re.search(r'<rect x="\d+(?:\.\d+)?"', text)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "ru",
            "Оспаривание, которое опровергает или уточняет утверждение, должно ссылаться хотя бы на один источник.",
        ),
        ("zh-hans", "反驳或限定论断的质疑必须至少引用一个来源。"),
    ],
)
def test_a_service_refusal_reaches_the_student_in_their_language(paper, course, author, language, expected):
    claim = Claim.objects.filter(paragraph__document=paper).order_by("key").first()
    client = APIClient()
    client.force_authenticate(author)

    response = client.post(
        "/api/v1/challenges/",
        {"course": course.pk, "claim": claim.key, "stance": "disputes", "argument": "No."},
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )

    assert response.status_code == 400
    assert json.loads(response.content) == {"citations": [expected]}
    assert not Challenge.objects.exists()


def test_the_class_table_and_an_assignments_requirements_speak_russian(client, course, author, instructor):
    from tests.factories import AssignmentFactory

    assignment = AssignmentFactory(course=course, required_annotations=2, required_challenges=1)
    client.force_login(instructor)

    table = _text(
        client.get(reverse("assignments:progress", args=[assignment.pk]), HTTP_ACCEPT_LANGUAGE="ru")
    )
    detail = _text(client.get(assignment.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="ru"))

    assert "Итоговый балл" in table
    assert "(по возрастанию)" in table
    assert "ещё нет" in table
    assert "Final score" not in table
    assert "2 аннотации, 1 оспаривание" in detail
