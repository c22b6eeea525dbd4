"""The demo accounts."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_it_creates_the_demo_accounts_with_the_demo_password(capsys, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "another-pass-2026")

    call_command("seed_demo")

    User = get_user_model()
    names = set(User.objects.values_list("username", flat=True))
    assert {"curator", "instructor", "ta", *(f"student{n}" for n in range(1, 7))} <= names
    assert User.objects.get(username="student3").check_password("another-pass-2026")
    assert User.objects.get(username="curator").is_superuser
    assert not User.objects.get(username="student1").is_staff
    assert "password: another-pass-2026" in capsys.readouterr().out


def test_running_it_twice_changes_nothing(capsys):
    call_command("seed_demo")
    before = list(get_user_model().objects.order_by("pk").values_list("pk", "password"))

    call_command("seed_demo")

    assert list(get_user_model().objects.order_by("pk").values_list("pk", "password")) == before
    assert "Created 0 demo account(s); 0 password(s) reset." in capsys.readouterr().out


def test_a_dry_run_writes_nothing():
    call_command("seed_demo", "--dry-run")

    assert not get_user_model().objects.filter(username="student1").exists()
