"""The admin in Simplified Chinese and Russian: besides Django's own chrome, our model and
field names, filter titles, action descriptions and custom pages follow the language the
browser asks for, for site staff and for a course's instructor alike.

These read the project's catalogue (scoproject/locale), so they need its admin entries."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from annotations.models import Annotation
from annotations.models.annotation import Visibility
from annotations.models.moderation import ModerationItem
from annotations.services import annotations as annotation_services
from annotations.services import moderation

pytestmark = pytest.mark.django_db

INDEX = reverse("admin:index")
QUEUE = reverse("admin:annotations_moderationitem_changelist")
AUDIT = reverse("admin:annotations_auditentry_changelist")

# What each language shows for our strings, and the English it replaces.
WORDS = {
    "ru": {
        "site": "Чтение SCO — администрирование",
        "index": "Записи, курсы и модерация",
        "app": "Текст и аннотации",
        "queue": "Элементы очереди модерации",
        "annotations": "Аннотации",
        "audit": "Записи журнала",
        "flag_reason": "причина жалобы",
        "state_filter": "состояние работы",
        "flag_count": "Число жалоб",
        "hide_action": "Скрыть выбранные работы (с указанием причины)",
        "approve_action": "Одобрить выбранные работы, ожидающие одобрения",
        "anchor": "Якорь абзаца",
        "motivation": "Мотивация",
        "created": "Создано",
        "requirements": "Требования и оценивание",
        "work_mode": "Формат работы",
        "release_action": "Опубликовать оценки для студентов",
        "why": "Почему это скрыто?",
        "hide_count": "Скрыть 1 работу. Каждый автор получит уведомление с вашей причиной.",
        "hide_button": "Скрыть",
        "kind": "аннотация (автор: author)",
        "export": "Выгрузить в CSV",
        "export_action": "Выгрузить выбранные записи в CSV",
    },
    "zh-hans": {
        "site": "SCO 阅读 — 管理",
        "index": "记录、课程与审核",
        "app": "阅读材料与批注",
        "queue": "审核项",
        "annotations": "批注",
        "audit": "审计记录",
        "flag_reason": "举报原因",
        "state_filter": "内容状态",
        "flag_count": "举报数",
        "hide_action": "隐藏所选内容（需填写原因）",
        "approve_action": "批准所选的等待审批的内容",
        "anchor": "段落锚点",
        "motivation": "动机",
        "created": "创建时间",
        "requirements": "要求与评分",
        "work_mode": "作业方式",
        "release_action": "向学生发布成绩",
        "why": "为什么隐藏？",
        "hide_count": "隐藏 1 项内容。每位作者都会收到通知，并看到您填写的原因。",
        "hide_button": "隐藏",
        "kind": "author 的批注",
        "export": "导出为 CSV",
        "export_action": "将所选记录导出为 CSV",
    },
}
ENGLISH = [
    "SCO reading — administration",
    "Records, courses and moderation",
    "Reading and annotations",
    "Moderation items",
    "flag reason",
    "state of the work",
    "Flag count",
    "Hide the selected work (asks for a reason)",
    "Paragraph anchor",
    "Requirements and scoring",
    "Work mode",
    "Release the grades to the students",
    "Why is it hidden?",
    "piece of work",
    "Hide them",
    "Export as CSV",
    "Export the selected entries as CSV",
]
LANGUAGES = pytest.mark.parametrize("language", ["ru", "zh-hans"])


@pytest.fixture
def flagged(course, author, groupmate, paper) -> Annotation:
    """The author's shared annotation in ``course``, flagged by a groupmate (so in the queue)."""
    note = annotation_services.annotation_create(
        user=author,
        course=course,
        paragraph=paper.paragraphs.get(order=1),
        start=0,
        end=10,
        body="A note to flag",
        visibility=Visibility.COURSE,
    )
    moderation.flag_create(user=groupmate, target=note, reason="spam")
    return note


@pytest.fixture(params=["curator", "instructor"])
def staff(request, flagged):
    """Site staff, then the course's instructor (no ``is_staff``): the admin speaks to both."""
    return request.getfixturevalue(request.param)


def page(client, url: str, language: str, data: dict | None = None) -> str:
    if data is None:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    else:
        response = client.post(url, data, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert response["Content-Language"] == language
    return response.content.decode()


def assert_translated(html: str, language: str, keys: list[str], english: list[str]) -> None:
    words = WORDS[language]
    assert [key for key in keys if words[key] not in html] == []
    assert [text for text in english if text in html] == []


@LANGUAGES
def test_the_index_names_our_site_app_and_models_in_the_language(client, staff, language):
    client.force_login(staff)
    html = page(client, INDEX, language)
    assert_translated(
        html,
        language,
        ["site", "index", "app", "queue", "annotations", "audit"],
        [*ENGLISH[:4], "Audit entries"],
    )


@LANGUAGES
def test_the_queue_shows_its_columns_filters_and_actions_in_the_language(client, staff, language):
    client.force_login(staff)
    html = page(client, QUEUE, language)
    assert_translated(
        html,
        language,
        ["queue", "flag_reason", "state_filter", "flag_count", "hide_action", "approve_action"],
        ENGLISH,
    )


@LANGUAGES
def test_a_change_form_labels_our_fields_in_the_language(client, staff, flagged, language):
    client.force_login(staff)
    html = page(client, reverse("admin:annotations_annotation_change", args=[flagged.pk]), language)
    assert_translated(html, language, ["anchor", "motivation", "created"], ENGLISH)


@LANGUAGES
def test_the_assignment_form_names_its_fieldsets_and_actions_in_the_language(
    client, staff, assignment, language
):
    client.force_login(staff)
    form = page(client, reverse("admin:annotations_assignment_change", args=[assignment.pk]), language)
    listing = page(client, reverse("admin:annotations_assignment_changelist"), language)
    assert_translated(form, language, ["requirements", "work_mode"], ENGLISH)
    assert_translated(listing, language, ["release_action"], ENGLISH)


@LANGUAGES
def test_the_hide_confirmation_asks_for_the_reason_in_the_language(client, staff, flagged, language):
    client.force_login(staff)
    item = ModerationItem.objects.get(annotation=flagged)
    html = page(client, QUEUE, language, {"action": "hide_items", ACTION_CHECKBOX_NAME: [item.pk]})
    assert "A note to flag" in html
    assert_translated(html, language, ["why", "hide_count", "hide_button", "kind"], ENGLISH)
    assert not Annotation.objects.get(pk=flagged.pk).is_hidden


@LANGUAGES
def test_the_audit_log_offers_its_export_in_the_language(client, staff, flagged, ta, language):
    moderation.hide(user=ta, target=flagged, reason="Off-topic.")
    client.force_login(staff)
    html = page(client, AUDIT, language)
    assert "Off-topic." in html
    assert_translated(html, language, ["audit", "export", "export_action"], ENGLISH)


def test_english_stays_as_it_was(client, curator, flagged):
    client.force_login(curator)
    html = page(client, QUEUE, "en")
    for text in [
        "Moderation items",
        "By flag reason",
        "Flag count",
        "Hide the selected work (asks for a reason)",
    ]:
        assert text in html


def test_records_name_themselves_in_the_language_the_admin_lists_them_in(course, author, flagged):
    from django.utils import translation

    from annotations.models import Membership

    membership = Membership.objects.get(course=course, user=author)
    with translation.override("ru"):
        russian = (str(membership), str(flagged))
    with translation.override("zh-hans"):
        chinese = str(membership)
    english = str(membership)

    assert russian[0] == f"author – студент в курсе {course}"
    assert russian[1].startswith(f"author к {flagged.paragraph_anchor}: ")
    assert chinese == f"author – {course} 的学生"
    assert english == f"author – student in {course}"
