"""OpenAPI schema, its docs page, and token auth."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_schema_is_openapi_3_and_lists_every_resource(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for resource in ["documents", "paragraphs", "claims", "events", "actors", "sources"]:
        assert f"/api/v1/{resource}/" in schema["paths"]
    assert "/api/v1/timeline.json" in schema["paths"]


def test_the_docs_page_loads_nothing_from_outside(client):
    response = client.get("/api/docs/")

    text = response.content.decode()
    assert response.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', text)
    assert assets
    assert all(not asset.startswith(("http:", "https:", "//")) for asset in assets), assets


def test_a_token_is_issued_for_good_credentials_and_refused_for_bad_ones():
    user = UserFactory(username="tokenuser")
    api = APIClient()

    good = api.post("/api/v1/auth/token/", {"username": "tokenuser", "password": "a-long-test-password"})
    bad = api.post("/api/v1/auth/token/", {"username": "tokenuser", "password": "wrong"})

    assert good.status_code == 200
    assert good.json()["token"] == user.auth_token.key
    assert bad.status_code == 400
    assert bad.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}


def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    out = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    assert "/api/v1/claims/{key}/" in out.read_text(encoding="utf-8")
