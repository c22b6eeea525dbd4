"""Shared fixtures.

The paper is loaded once per test session, through the real loader, into the test
database; every test then runs inside a transaction that is rolled back, so tests
see the paper's records and may change them freely.

Users and their rights (more join as courses arrive):
- ``anonymous``: no user; reads the paper, its claims, the timeline, actors and sources.
- ``reader``: a signed-in account with no role; sees what anonymous sees.
- ``curator``: site staff (superuser); curates the records in the admin.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

from annotations.models import Document
from annotations.services import reading_load
from tests.factories import UserFactory

PAPER_TXT = Path(settings.BASE_DIR).parent / "shared" / "paper" / "paper.txt"
PAPER_SLUG = "sco-institutionalization"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        reading_load(path=settings.DEFAULT_READING_DIR)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Hashing strength is Django's concern, not these tests'; MD5 keeps them quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def paper(db) -> Document:
    """The paper's document, as loaded for the session."""
    return Document.objects.get(slug=PAPER_SLUG)


@pytest.fixture
def paper_txt() -> str:
    """The paper as published; only the tests read it, the project never does."""
    if not PAPER_TXT.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{PAPER_TXT} is missing: CI must have shared/ beside the checkout.")
        pytest.skip(f"{PAPER_TXT} is not beside this checkout")
    return PAPER_TXT.read_text(encoding="utf-8")


@pytest.fixture
def reader(db):
    return UserFactory(username="reader")


@pytest.fixture
def curator(db):
    return UserFactory(username="curator", is_staff=True, is_superuser=True)
