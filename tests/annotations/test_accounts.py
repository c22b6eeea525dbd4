"""Accounts: signing up, logging in (throttled by django-axes), changing a password, logging out."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"
NEW_PASSWORD = "another-long-password-2027"
User = get_user_model()


def signed_in_username(client) -> str | None:
    """Who the client's session belongs to, as the next page sees it."""
    user = client.get(reverse("annotations:home")).wsgi_request.user
    return user.username if user.is_authenticated else None


@pytest.fixture
def member(db):
    return UserFactory(username="member")


def log_in(client, username: str, password: str):
    return client.post(reverse("login"), {"username": username, "password": password})


# -- signing up -----------------------------------------------------------------------


def test_the_signup_page_has_a_labelled_form(client):
    response = client.get(reverse("signup"))

    text = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_username">Username</label>' in text
    assert '<label for="id_email">Email (optional)</label>' in text
    assert '<label for="id_password1">Password</label>' in text


def test_signing_up_creates_the_account_and_signs_in(client):
    response = client.post(
        reverse("signup"),
        {"username": "newstudent", "email": "", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        follow=True,
    )

    user = User.objects.get(username="newstudent")
    assert user.check_password(NEW_PASSWORD)
    assert user.email == ""
    assert response.redirect_chain == [(reverse("courses:list"), 302)]
    assert response.wsgi_request.user == user
    assert "Join your course with the code your instructor gave you" in response.content.decode()


def test_an_email_given_at_signup_is_kept(client):
    client.post(
        reverse("signup"),
        {
            "username": "withmail",
            "email": "s@example.org",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )

    assert User.objects.get(username="withmail").email == "s@example.org"


def test_signup_goes_on_to_a_safe_next_page_only(client, paper):
    reading = reverse("annotations:reading-default")
    data = {"username": "a", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}

    assert client.post(reverse("signup"), {**data, "next": reading})["Location"] == reading
    client.logout()
    evil = client.post(reverse("signup"), {**data, "username": "b", "next": "https://evil.example/"})
    assert evil["Location"] == reverse("courses:list")


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"username": "member", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, "already exists"),
        ({"username": "x", "password1": NEW_PASSWORD, "password2": "different-password-1"}, "didn’t match"),
        ({"username": "y", "password1": "123", "password2": "123"}, "too short"),
        (
            {"username": "z", "email": "not-an-email", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
            "valid email",
        ),
        ({"username": "", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, "This field is required."),
    ],
)
def test_a_bad_signup_shows_the_field_error_and_creates_nobody(client, member, data, field_error):
    response = client.post(reverse("signup"), data)

    assert response.status_code == 400
    assert field_error in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert User.objects.count() == 1
    assert signed_in_username(client) is None


def test_a_signed_in_user_is_sent_on_from_the_signup_page(client, member):
    client.force_login(member)

    assert client.get(reverse("signup"))["Location"] == reverse("courses:list")


# -- logging in -----------------------------------------------------------------------


def test_the_login_page_offers_signing_up(client):
    text = client.get(reverse("login")).content.decode()

    assert '<label for="id_username">Username</label>' in text
    assert '<button type="submit">Log in</button>' in text
    assert f'href="{reverse("signup")}"' in text


def test_logging_in_signs_in_and_goes_to_my_courses(client, member):
    response = log_in(client, "member", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("courses:list")
    assert signed_in_username(client) == "member"


def test_a_wrong_password_shows_an_error_and_signs_nobody_in(client, member):
    response = log_in(client, "member", "wrong-password")

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert signed_in_username(client) is None


def test_after_five_failures_logging_in_is_paused_even_with_the_right_password(client, member):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert log_in(client, "member", "wrong-password").status_code == 200

    # axes refuses at the failure that reaches the limit, and from then on.
    fifth = log_in(client, "member", "wrong-password")
    sixth = log_in(client, "member", PASSWORD)

    for response in (fifth, sixth):
        assert response.status_code == 429
        text = response.content.decode()
        assert "Logging in is paused" in text
        assert "Please wait 15 minutes, then try again." in text
    assert signed_in_username(client) is None


def test_the_lockout_is_for_that_username_only(client, member):
    UserFactory(username="someone_else")
    for _ in range(5):
        log_in(client, "member", "wrong-password")

    response = log_in(client, "someone_else", PASSWORD)

    assert response.status_code == 302
    assert signed_in_username(client) == "someone_else"


def test_a_success_before_the_limit_starts_the_count_again(client, member):
    for _ in range(4):
        log_in(client, "member", "wrong-password")
    assert log_in(client, "member", PASSWORD).status_code == 302
    client.post(reverse("logout"))

    for _ in range(4):
        assert log_in(client, "member", "wrong-password").status_code == 200
    assert log_in(client, "member", PASSWORD).status_code == 302


# -- the header ---------------------------------------------------------------------


def test_the_header_offers_login_and_signup_to_visitors(client, paper):
    text = client.get(reverse("annotations:claim-list")).content.decode()

    assert f'href="{reverse("login")}?next=/claims/"' in text
    assert f'href="{reverse("signup")}"' in text
    assert "My courses" not in text
    assert "Log out" not in text


def test_the_header_offers_my_courses_and_logout_to_members(client, member, paper):
    client.force_login(member)

    text = client.get(reverse("annotations:claim-list")).content.decode()

    assert f'href="{reverse("courses:list")}"' in text
    assert f'<form method="post" action="{reverse("logout")}"' in text
    assert "Signed in as <strong>member</strong>" in text
    assert f'href="{reverse("login")}' not in text


# -- logging out ----------------------------------------------------------------------


def test_logging_out_takes_a_post(client, member):
    client.force_login(member)

    refused = client.get(reverse("logout"))
    assert refused.status_code == 405
    assert signed_in_username(client) == "member"

    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("annotations:home")
    assert signed_in_username(client) is None


# -- changing the password ----------------------------------------------------------


def test_changing_the_password_needs_a_login(client):
    response = client.get(reverse("password_change"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_changing_the_password_with_the_old_one_works_and_keeps_me_signed_in(client, member):
    client.force_login(member)

    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )

    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)
    assert "Your password is changed" in response.content.decode()
    assert signed_in_username(client) == "member"


def test_changing_the_password_requires_the_old_one(client, member):
    client.force_login(member)

    response = client.post(
        reverse("password_change"),
        {"old_password": "not-my-password", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    member.refresh_from_db()
    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()
    assert member.check_password(PASSWORD)
