"""A refused in-place (htmx) post says why: the 400 carries the message for the form's
feedback region, and the thread page holds that region and the translated words the
script says for other failures (throttled, offline, refused, too large…)."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from annotations.models import Claim, Post
from annotations.services import threads as services


@pytest.fixture
def thread(author, group_a, course, paper):
    claim = Claim.objects.filter(paragraph__document=paper).first()
    return services.thread_create(
        user=author, course=course, title="Group talk", body="In the group", group=group_a, claim=claim
    )


def _post_url(thread) -> str:
    return reverse("threads:post", args=[thread.course_id, thread.pk])


def _detail(client, thread, language: str = "en") -> str:
    response = client.get(
        reverse("threads:detail", args=[thread.course_id, thread.pk]), HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 200
    return response.content.decode()


def _messages(page: str) -> dict[str, str]:
    holder = re.search(r'<div id="htmx-form-messages" hidden([^>]*)>', page)
    assert holder is not None
    return {name: html.unescape(value) for name, value in re.findall(r'data-([a-z-]+)="([^"]*)"', holder[1])}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("   ", "This field is required."),
        ("x" * 20001, "Ensure this value has at most 20000 characters (it has 20001)."),
    ],
)
def test_a_refused_htmx_post_answers_400_with_its_message_in_an_alert(
    client, thread, groupmate, body, message
):
    client.force_login(groupmate)

    response = client.post(
        _post_url(thread), {"body": body, "parent": thread.posts.get().pk}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 400
    assert response.content.decode() == f'<p class="error" role="alert">{message}</p>'
    assert thread.posts.count() == 1


def test_a_refused_htmx_post_in_a_locked_thread_says_it_is_locked(client, thread, groupmate, ta):
    services.thread_lock(user=ta, thread=thread)
    client.force_login(groupmate)

    response = client.post(_post_url(thread), {"body": "Late words"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 400
    assert (
        response.content.decode() == '<p class="error" role="alert">This thread is locked: no new posts.</p>'
    )
    assert not Post.objects.filter(body="Late words").exists()


def test_the_refusal_is_in_the_readers_language(client, thread, groupmate):
    client.force_login(groupmate)

    response = client.post(
        _post_url(thread), {"body": "  "}, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="ru"
    )

    assert response.status_code == 400
    assert response.content.decode() == '<p class="error" role="alert">Обязательное поле.</p>'


def test_every_htmx_form_of_the_thread_has_its_own_alert_region(client, thread, groupmate):
    client.force_login(groupmate)

    page = _detail(client, thread)

    forms = re.findall(r"<form [^>]*hx-post=.*?</form>", page, flags=re.S)
    # The new-post form, the reply form and the "helpful" toggle of the one post.
    assert len(forms) == 3
    for form in forms:
        assert '<div class="form-feedback error" role="alert" aria-live="assertive"></div>' in form or (
            '<span class="form-feedback error" role="alert" aria-live="assertive"></span>' in form
        )
    assert page.index('id="htmx-form-messages"') < page.index("js/htmx-forms")


def test_the_page_carries_the_words_for_each_failure_in_english(client, thread, groupmate):
    client.force_login(groupmate)

    words = _messages(_detail(client, thread))

    assert words["offline"] == (
        "This could not be sent: check your connection and try again. What you wrote is still here."
    )
    assert words["throttled"] == "You are posting too fast; wait a moment and try again."
    assert words["throttled-one"] == "You are posting too fast; try again in {seconds} second."
    assert words["throttled-other"] == "You are posting too fast; try again in {seconds} seconds."
    assert set(words) >= {"refused", "forbidden", "not-found", "too-large", "server-error", "throttled-few"}
    assert all(words.values())


def test_the_page_carries_the_words_for_each_failure_in_russian(client, thread, groupmate):
    # Needs the merged catalogue (the translations are delivered beside the code).
    client.force_login(groupmate)

    words = _messages(_detail(client, thread, "ru"))

    assert words["offline"] == (
        "Не удалось отправить: проверьте подключение и попробуйте ещё раз. Написанное вами сохранено."
    )
    assert words["throttled"] == "Вы отправляете слишком часто; подождите немного и попробуйте ещё раз."
    assert (
        words["throttled-one"] == "Вы отправляете слишком часто; попробуйте ещё раз через {seconds} секунду."
    )
    assert (
        words["throttled-few"] == "Вы отправляете слишком часто; попробуйте ещё раз через {seconds} секунды."
    )
    assert (
        words["throttled-many"] == "Вы отправляете слишком часто; попробуйте ещё раз через {seconds} секунд."
    )
