"""Notifications speak the reader's language: each keeps its sentence and what fills it, so the
app, the API, e-mails and digests translate it when it is read, not when it was written; a
user's e-mail language is the one they last signed in with or chose."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from annotations.models import Claim, LanguagePreference, Notification, NotificationPreference, Source
from annotations.models.challenges import ChallengeStatus, Stance
from annotations.models.discussion import Delivery, NotificationKind
from annotations.services import notifications as services
from annotations.services import threads as thread_services
from annotations.services.challenges import challenge_create, challenge_resolve

pytestmark = pytest.mark.django_db

UPHELD_RU = "Ваше оспаривание утверждения c-20-8 поддержано."
UPHELD_ZH = "您对论断 c-20-8 的质疑被采纳。"
UPHELD_EN = "Your challenge on claim c-20-8 was upheld."


@pytest.fixture
def challenge(course, author, paper):
    source = Source.objects.filter(course__isnull=True).order_by("key").first()
    return challenge_create(
        user=author, course=course, claim=Claim.objects.get(key="c-20-8"), stance=Stance.DISPUTES,
        argument="The record says otherwise.", visibility="course",
        citations=[{"source": source, "page": "12", "quote": "a passage", "url_fragment": ""}],
    )  # fmt: skip


def by_email(user, kind: str, delivery: str = Delivery.EMAIL) -> None:
    user.email = f"{user.username}@example.org"
    user.save()
    NotificationPreference.objects.create(user=user, kind=kind, delivery=delivery)


def speaks(user, language: str) -> None:
    services.language_record(user=user, language=language)


def resolve(challenge, ta) -> Notification:
    challenge_resolve(user=ta, challenge=challenge, status=ChallengeStatus.UPHELD, expected_version=1)
    return Notification.objects.get(kind=NotificationKind.CHALLENGE_RESOLVED)


def test_a_notification_keeps_its_sentence_and_english_text_whatever_language_its_cause_was_in(challenge, ta):
    with translation.override("ru"):
        notification = resolve(challenge, ta)

    notification.refresh_from_db()
    assert notification.text == UPHELD_EN
    assert notification.message == "Your challenge on claim %(claim)s was upheld."
    assert notification.params == {"claim": "c-20-8"}


@pytest.mark.parametrize(
    ("language", "expected"), [("ru", UPHELD_RU), ("zh-hans", UPHELD_ZH), ("en", UPHELD_EN)]
)
def test_the_list_and_the_api_show_it_in_the_readers_language(
    client, challenge, author, ta, language, expected
):
    with translation.override("zh-hans"):
        resolve(challenge, ta)
    client.force_login(author)
    api = APIClient()
    api.force_authenticate(author)

    page = client.get(reverse("notifications:list"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    answer = api.get("/api/v1/notifications/", HTTP_ACCEPT_LANGUAGE=language).json()

    assert expected in page
    assert [item["text"] for item in answer["results"]] == [expected]


def test_a_thread_reply_names_the_thread_and_the_replier_in_the_readers_language(course, author, groupmate):
    thread = thread_services.thread_create(user=author, course=course, title="Dates", body="Which date?")
    thread_services.post_create(user=groupmate, thread=thread, body="2001.", parent=thread.posts.get())
    notification = Notification.objects.get(recipient=author, kind=NotificationKind.REPLY)

    with translation.override("ru"):
        assert notification.display_text == "groupmate ответил(а) вам в обсуждении «Dates»"
    with translation.override("en"):
        assert notification.display_text == "groupmate replied to you in “Dates”"


def test_a_row_written_before_sentences_were_kept_shows_its_stored_text(course, author, ta):
    old = Notification.objects.create(
        recipient=author, kind=NotificationKind.REPLY, actor=ta, course=course, text="An old reply", url="/"
    )
    broken = Notification.objects.create(
        recipient=author, kind=NotificationKind.REPLY, actor=ta, course=course, text="Kept text", url="/",
        message="%(user)s replied to you in “%(thread)s”", params={"user": "ta"},
    )  # fmt: skip

    with translation.override("ru"):
        assert old.display_text == "An old reply"
        assert broken.display_text == "Kept text"


def test_every_notification_sentence_is_translated():
    sentences = [
        services.REPLIED,
        services.MENTIONED,
        services.GRADE_RELEASED,
        *services.CHALLENGE_RESOLVED.values(),
        *services.LINK_DECIDED.values(),
        *services.EVENT_DECIDED.values(),
        *(message for news in services.MODERATION_NEWS.values() for message in news.values()),
        *(message for news in services.FLAG_NEWS.values() for message in news.values()),
    ]

    assert len(sentences) == 34
    for language in ("ru", "zh-hans"):
        with translation.override(language):
            for sentence in sentences:
                assert translation.gettext(sentence) != sentence, (language, sentence)


# -- e-mails -----------------------------------------------------------------------------------


def test_an_email_is_written_in_the_recipients_language_not_the_actors(
    django_capture_on_commit_callbacks, challenge, author, ta
):
    by_email(author, NotificationKind.CHALLENGE_RESOLVED)
    speaks(author, "ru")

    with django_capture_on_commit_callbacks(execute=True), translation.override("en"):
        resolve(challenge, ta)

    (message,) = mail.outbox
    assert message.subject == f"[{challenge.course.title}] {UPHELD_RU}"
    assert message.body.startswith(UPHELD_RU)
    assert "Открыть:" in message.body
    assert f"Вы получили это письмо о курсе «{challenge.course.title}»" in message.body
    assert reverse("notifications:preferences") in message.body
    assert "Your challenge" not in message.body


def test_without_a_known_language_the_email_is_in_english(
    django_capture_on_commit_callbacks, challenge, author, ta
):
    by_email(author, NotificationKind.CHALLENGE_RESOLVED)

    with django_capture_on_commit_callbacks(execute=True), translation.override("ru"):
        resolve(challenge, ta)

    (message,) = mail.outbox
    assert message.subject.endswith(UPHELD_EN)
    assert "Open it:" in message.body


def test_each_digest_is_in_its_recipients_language(course, author, groupmate, ta):
    by_email(author, NotificationKind.REPLY, Delivery.DIGEST)
    by_email(groupmate, NotificationKind.REPLY, Delivery.DIGEST)
    speaks(author, "zh-hans")
    speaks(groupmate, "ru")
    for recipient in (author, author, groupmate):
        services.notify(
            recipient=recipient, kind=NotificationKind.REPLY, actor=ta, course=course,
            message=services.REPLIED, params={"user": "ta", "thread": "Dates"}, url="/t/",
        )  # fmt: skip

    call_command("send_digests", stdout=StringIO())

    digests = {message.to[0]: message for message in mail.outbox}
    chinese, russian = digests["author@example.org"], digests["groupmate@example.org"]
    assert chinese.subject == "您的每日摘要：2 条通知"
    assert chinese.body.count("ta 在“Dates”中回复了您") == 2
    assert "自上次摘要以来，有 2 条通知：" in chinese.body
    assert russian.subject == "Ваша ежедневная сводка: 1 уведомление"
    assert "ta ответил(а) вам в обсуждении «Dates»" in russian.body
    assert "потому что выбрали её в настройках уведомлений" in russian.body


# -- the language a user's e-mails are written in ------------------------------------------------


def test_signing_in_remembers_the_pages_language(client, author):
    response = client.post(
        reverse("login"),
        {"username": author.username, "password": "a-long-test-password"},
        HTTP_ACCEPT_LANGUAGE="ru,en;q=0.5",
    )

    assert response.status_code == 302
    assert services.language_of(author) == "ru"


def test_the_language_switch_remembers_a_signed_in_users_choice(client, author):
    client.force_login(author)

    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/help/"})

    assert response["Location"] == "/help/"
    assert services.language_of(author) == "zh-hans"


def test_the_switch_remembers_nothing_for_a_visitor_or_an_unknown_language(client, author):
    client.post(reverse("set_language"), {"language": "ru", "next": "/"})
    client.force_login(author)
    client.post(reverse("set_language"), {"language": "fr", "next": "/"})

    assert not LanguagePreference.objects.exists()
    assert services.language_of(author) == "en"


def test_the_preferences_page_sets_the_email_language_with_the_deliveries(client, author):
    client.force_login(author)
    deliveries = {kind: Delivery.IN_APP for kind in NotificationKind.values}

    page = client.get(reverse("notifications:preferences"), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    response = client.post(
        reverse("notifications:preferences"),
        {**deliveries, NotificationKind.REPLY: Delivery.DIGEST, "language": "ru"},
    )

    assert "Язык ваших писем" in page
    assert '<option value="zh-hans">简体中文</option>' in page
    assert response.status_code == 302
    assert services.language_of(author) == "ru"
    assert services.preferences_for(author)[NotificationKind.REPLY] == Delivery.DIGEST


def test_an_unknown_language_on_the_preferences_page_is_refused_and_nothing_is_saved(client, author):
    client.force_login(author)
    deliveries = {kind: Delivery.EMAIL for kind in NotificationKind.values}

    response = client.post(reverse("notifications:preferences"), {**deliveries, "language": "fr"})

    assert response.status_code == 200
    assert "Select a valid choice. fr is not one of the available choices." in response.content.decode()
    assert not NotificationPreference.objects.exists()
    assert not LanguagePreference.objects.exists()


def test_the_service_refuses_a_language_the_site_does_not_speak(author):
    with pytest.raises(ValidationError) as refused:
        services.language_record(user=author, language="xx")

    assert refused.value.message_dict == {"language": [str(services.UNKNOWN_LANGUAGE)]}
    assert not LanguagePreference.objects.exists()


def test_saving_deliveries_without_a_language_keeps_the_one_chosen(client, author):
    speaks(author, "zh-hans")
    client.force_login(author)

    response = client.post(
        reverse("notifications:preferences"), {kind: Delivery.EMAIL for kind in NotificationKind.values}
    )

    assert response.status_code == 302
    assert services.language_of(author) == "zh-hans"
    assert set(services.preferences_for(author).values()) == {Delivery.EMAIL}
