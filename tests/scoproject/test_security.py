"""Security headers and production settings: `check --deploy` is clean with production
variables, and every page carries a Content-Security-Policy that no inline script breaks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.urls import reverse

from annotations.models import Claim
from annotations.services.threads import thread_create

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "a-production-secret-key-that-is-long-and-random-enough-for-the-check-0123456789",
    "ALLOWED_HOSTS": "sco.example.org",
}


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE for this process; no server runs with it.
    left_out = {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in left_out}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


SETTINGS_SCRIPT = """
import json
from django.conf import settings
names = [
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER", "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY", "X_FRAME_OPTIONS", "SECURE_CROSS_ORIGIN_OPENER_POLICY",
]
print(json.dumps({name: getattr(settings, name) for name in names}))
"""


def production_settings(**env: str) -> dict:
    result = run_manage("shell", "-c", SETTINGS_SCRIPT, **PRODUCTION, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_is_clean_with_production_variables():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_production_turns_on_https_only_cookies_hsts_and_the_redirect():
    found = production_settings()

    assert found == {
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "X_FRAME_OPTIONS": "DENY",
        "SECURE_CROSS_ORIGIN_OPENER_POLICY": "same-origin",
    }


def test_without_a_tls_proxy_the_forwarded_proto_header_is_not_trusted():
    found = production_settings(BEHIND_TLS_PROXY="false", SECURE_HSTS_PRELOAD="false")

    assert found["SECURE_PROXY_SSL_HEADER"] is None
    assert found["SECURE_HSTS_PRELOAD"] is False
    assert found["SECURE_SSL_REDIRECT"] is True


@pytest.mark.django_db
def test_an_https_response_carries_hsts_with_subdomains(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True

    response = client.get(reverse("annotations:claim-list"), secure=True)

    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


@pytest.mark.django_db
def test_every_response_says_nosniff_same_origin_and_no_framing(client):
    response = client.get(reverse("annotations:claim-list"))

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


# --- Content-Security-Policy -------------------------------------------------------------


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


class InlineCode(HTMLParser):
    """Collects what a strict policy would refuse: inline scripts, on… handlers, style
    attributes and <style> blocks, and javascript: URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.page_title = ""
        self._in_inline_script = False
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "title":
            self._in_title = True
        if tag == "script" and not attributes.get("src") and attributes.get("type") != "application/json":
            self._in_inline_script = True
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style> block")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{name}= on <{tag}>")
            if name == "style":
                self.found.append(f"style= on <{tag}>")
            if name.startswith("hx-on"):
                self.found.append(f"{name}= on <{tag}>")
            if name in {"href", "src", "action", "formaction"} and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"javascript: URL on <{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.page_title += data


@pytest.fixture
def claim(paper) -> Claim:
    return Claim.objects.filter(paragraph__document=paper).order_by("key").first()


@pytest.fixture
def thread(course, author, claim):
    return thread_create(
        user=author, course=course, title="Is the founding date right?", body="Look at **2001**."
    )


@pytest.fixture
def main_pages(paper, course, claim, thread, assignment) -> dict[str, tuple[str, str]]:
    """Each main page type: (who views it, URL)."""
    return {
        "home": ("anonymous", reverse("annotations:home")),
        "login": ("anonymous", reverse("login")),
        "reading": ("author", reverse("annotate:reading", args=[course.pk])),
        "public reading": ("anonymous", reverse("annotations:reading", args=[paper.slug])),
        "claims": ("author", reverse("challenges:claims", args=[course.pk])),
        "claim detail": ("author", reverse("challenges:claim", args=[course.pk, claim.key])),
        "timeline": ("anonymous", reverse("timeline:timeline")),
        "threads": ("author", reverse("threads:list", args=[course.pk])),
        "thread": ("author", reverse("threads:detail", args=[course.pk, thread.pk])),
        "assignment": ("author", reverse("assignments:detail", args=[assignment.pk])),
        "dashboard": ("instructor", reverse("assignments:dashboard", args=[course.pk])),
        "queue": ("instructor", reverse("moderation:queue", args=[course.pk])),
    }


def get_as(client, who: str, url: str, users: dict):
    if who != "anonymous":
        client.force_login(users[who])
    response = client.get(url)
    client.logout()
    return response


def test_the_main_pages_run_no_inline_code(client, main_pages, author, instructor):
    users = {"author": author, "instructor": instructor}

    for name, (who, url) in main_pages.items():
        response = get_as(client, who, url, users)
        parser = InlineCode()
        parser.feed(response.content.decode())

        assert response.status_code == 200, (name, url)
        assert parser.page_title.strip(), (name, url)
        assert parser.found == [], (name, url, parser.found)


def test_the_thread_page_loads_htmx_and_its_helpers_from_files(client, main_pages, author):
    client.force_login(author)

    html = client.get(main_pages["thread"][1]).content.decode()

    assert 'src="/static/js/htmx-forms.js"' in html
    assert "django_htmx/htmx-2.min.js" in html
    assert "data-reset-on-success" in html
    assert "hx-on" not in html


def assert_strict_scripts(response, where: str) -> dict[str, list[str]]:
    directives = policy(response)
    assert directives["script-src"] == ["'self'"], where
    assert "'unsafe-inline'" not in directives["script-src"], where
    assert "'unsafe-eval'" not in directives["script-src"], where
    return directives


def test_every_page_type_carries_the_strict_policy(client, main_pages, author, instructor, curator):
    users = {"author": author, "instructor": instructor}
    for name, (who, url) in main_pages.items():
        directives = assert_strict_scripts(get_as(client, who, url, users), name)
        assert directives == {
            "default-src": ["'self'"],
            "script-src": ["'self'"],
            "style-src": ["'self'"],
            "img-src": ["'self'", "data:"],
            "object-src": ["'none'"],
            "base-uri": ["'self'"],
            "form-action": ["'self'"],
            "frame-ancestors": ["'none'"],
        }, name

    others = {
        "api list": ("anonymous", "/api/v1/claims/"),
        "api root": ("anonymous", "/api/v1/"),
        "not found": ("anonymous", "/no-such-page/"),
        "admin": ("curator", reverse("admin:index")),
        "admin list": ("curator", reverse("admin:annotations_claim_changelist")),
    }
    for name, (who, url) in others.items():
        response = get_as(client, who, url, {"curator": curator})
        assert response.status_code in {200, 404}, name
        assert policy(response)["style-src"] == ["'self'"], name
        assert_strict_scripts(response, name)


def test_the_admin_runs_no_inline_script(client, curator, claim):
    client.force_login(curator)

    for url in [reverse("admin:index"), reverse("admin:annotations_claim_change", args=[claim.pk])]:
        parser = InlineCode()
        parser.feed(client.get(url).content.decode())
        assert [item for item in parser.found if "script" in item or item.startswith("on")] == [], url


@pytest.mark.django_db
def test_the_api_docs_allow_inline_styles_but_still_no_inline_script(client):
    response = client.get(reverse("api-docs"))
    parser = InlineCode()
    parser.feed(response.content.decode())

    directives = assert_strict_scripts(response, "api docs")
    assert directives["style-src"] == ["'self'", "'unsafe-inline'"]
    assert [item for item in parser.found if "script" in item] == []
    assert 'id="swagger-ui"' in response.content.decode()


@pytest.mark.django_db
def test_the_api_docs_start_up_script_is_served_as_a_file(client):
    response = client.get(reverse("api-docs"), {"script": ""})

    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in response.content.decode()
