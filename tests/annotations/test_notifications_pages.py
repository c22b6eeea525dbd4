"""/notifications/: the list, opening one, marking all read, preferences and the header count."""

from __future__ import annotations

import pytest
from django.urls import reverse

from annotations.models import Notification, NotificationPreference
from annotations.models.discussion import NotificationKind
from annotations.services.notifications import notify

pytestmark = pytest.mark.django_db

LIST = reverse("notifications:list")
PREFERENCES = reverse("notifications:preferences")


@pytest.fixture
def notes(course, author, ta, groupmate):
    return [
        notify(
            recipient=author, kind="reply", actor=ta, course=course, message="Older reply", url="/claims/"
        ),
        notify(recipient=author, kind="mention", actor=ta, course=course, message="Newer mention", url="/"),
        notify(recipient=groupmate, kind="reply", actor=ta, course=course, message="Someone else's", url="/"),
    ]


@pytest.mark.parametrize("url", [LIST, PREFERENCES, reverse("notifications:open", kwargs={"pk": 1})])
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_list_shows_only_my_notifications_newest_first_with_unread_marked(
    client, author, notes, django_assert_max_num_queries
):
    client.force_login(author)
    with django_assert_max_num_queries(8):
        response = client.get(LIST)

    html = response.content.decode()
    assert html.index("Newer mention") < html.index("Older reply")
    assert "Someone else" not in html
    assert html.count("notification--unread") == 2
    assert reverse("notifications:open", kwargs={"pk": notes[0].pk}) in html


def test_opening_a_notification_marks_it_read_and_follows_it(client, author, notes):
    client.force_login(author)
    response = client.get(reverse("notifications:open", kwargs={"pk": notes[0].pk}))

    assert response.status_code == 302
    assert response["Location"] == "/claims/"
    notes[0].refresh_from_db()
    assert notes[0].read_at is not None


def test_nobody_else_can_open_my_notification(client, groupmate, notes):
    client.force_login(groupmate)
    response = client.get(reverse("notifications:open", kwargs={"pk": notes[0].pk}))

    assert response.status_code == 404
    notes[0].refresh_from_db()
    assert notes[0].read_at is None


def test_mark_all_as_read_marks_only_mine(client, author, notes):
    client.force_login(author)
    response = client.post(reverse("notifications:mark-all-read"), follow=True)

    assert "Marked 2 notification(s) as read." in response.content.decode()
    assert list(Notification.objects.filter(read_at__isnull=True)) == [notes[2]]


def test_mark_all_as_read_wants_a_post(client, author, notes):
    client.force_login(author)
    assert client.get(reverse("notifications:mark-all-read")).status_code == 405


def test_the_header_shows_my_unread_count_with_one_query(client, author, notes):
    client.force_login(author)
    response = client.get(reverse("annotations:home"))
    html = response.content.decode()
    assert 'aria-label="Notifications, 2 unread"' in html
    assert 'Notifications (<span class="unread-count">2</span>)' in html


def test_the_unread_count_costs_one_query_and_none_for_anonymous(
    rf, author, notes, django_assert_num_queries
):
    from django.contrib.auth.models import AnonymousUser

    from annotations.context_processors import unread_notifications

    request = rf.get("/")
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert unread_notifications(request) == {}

    request.user = author
    context = unread_notifications(request)
    with django_assert_num_queries(1):
        assert context["unread_notifications"]() == 2
        assert context["unread_notifications"]() == 2


def test_anonymous_pages_have_no_notifications_link(client, paper):
    assert "Notifications (" not in client.get(reverse("annotations:home")).content.decode()


def test_the_preferences_page_saves_a_choice_per_kind(client, author):
    client.force_login(author)
    page = client.get(PREFERENCES).content.decode()
    kinds = len(NotificationKind.choices)
    assert page.count('value="in_app"') == kinds
    assert page.count("checked") == kinds

    data = {
        "reply": "email",
        "mention": "digest",
        "challenge_resolved": "in_app",
        "link_decided": "digest",
        "moderation": "in_app",
        "grade_released": "email",
    }
    response = client.post(PREFERENCES, data, follow=True)

    assert "Your notification preferences are saved." in response.content.decode()
    saved = dict(NotificationPreference.objects.filter(user=author).values_list("kind", "delivery"))
    assert saved == data

    client.post(PREFERENCES, {**data, "reply": "in_app"})
    assert NotificationPreference.objects.get(user=author, kind="reply").delivery == "in_app"
    assert NotificationPreference.objects.filter(user=author).count() == kinds


def test_the_preferences_page_refuses_an_unknown_delivery(client, author):
    client.force_login(author)
    response = client.post(PREFERENCES, {"reply": "pigeon"})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not NotificationPreference.objects.exists()
