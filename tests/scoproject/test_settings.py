"""Settings come from the environment and a bad value stops start-up, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from scoproject import settings as project_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("helper", "name", "raw", "message"),
    [
        (
            lambda: project_settings.env_bool("DEBUG", default=True),
            "DEBUG",
            "maybe",
            "DEBUG='maybe' is not a yes/no value",
        ),
        (
            lambda: project_settings.env_int("SECURE_HSTS_SECONDS", default=0),
            "SECURE_HSTS_SECONDS",
            "1y",
            "SECURE_HSTS_SECONDS='1y' is not a whole number",
        ),
        (
            lambda: project_settings.env_database("DATABASE_URL", default="sqlite://"),
            "DATABASE_URL",
            "mysql://x@y/z",
            "DATABASE_URL='mysql://x@y/z': only sqlite:// and postgres://",
        ),
        (
            lambda: project_settings.env_database("DATABASE_URL", default="sqlite://"),
            "DATABASE_URL",
            "nonsense",
            "DATABASE_URL='nonsense' is not a usable database URL",
        ),
        (
            lambda: project_settings.env_redis_url("REDIS_URL"),
            "REDIS_URL",
            "http://127.0.0.1:6379/0",
            "REDIS_URL='http://127.0.0.1:6379/0' is not a Redis URL",
        ),
        (
            lambda: project_settings.env_page_cost("PG_RANDOM_PAGE_COST"),
            "PG_RANDOM_PAGE_COST",
            "fast",
            "PG_RANDOM_PAGE_COST='fast' must be a positive number",
        ),
        (
            lambda: project_settings.env_page_cost("PG_RANDOM_PAGE_COST"),
            "PG_RANDOM_PAGE_COST",
            "-1",
            "PG_RANDOM_PAGE_COST='-1' must be a positive number",
        ),
        (
            lambda: project_settings.env_database("DATABASE_REPLICA_URL", default=""),
            "DATABASE_REPLICA_URL",
            "mysql://x@y/z",
            "DATABASE_REPLICA_URL='mysql://x@y/z': only sqlite:// and postgres://",
        ),
    ],
)
def test_a_bad_value_names_the_variable(monkeypatch, helper, name, raw, message):
    monkeypatch.setenv(name, raw)

    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(")):
        helper()


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("yes", True), ("off", False), ("False", False)])
def test_yes_no_words_are_understood(monkeypatch, raw, value):
    monkeypatch.setenv("DEBUG", raw)

    assert project_settings.env_bool("DEBUG", default=not value) is value


def test_lists_are_comma_separated(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "sco.example.org, www.sco.example.org,")

    assert project_settings.env_list("ALLOWED_HOSTS", default=[]) == [
        "sco.example.org",
        "www.sco.example.org",
    ]


def test_a_postgres_url_selects_postgresql(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sco")

    config = project_settings.env_database("DATABASE_URL", default="sqlite://")

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["NAME"] == "sco"


def test_postgresql_prices_random_reads_for_ssds_unless_told_otherwise(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sco")
    assert project_settings.env_database("DATABASE_URL", default="")["OPTIONS"]["options"] == (
        "-c random_page_cost=1.1"
    )

    monkeypatch.setenv("PG_RANDOM_PAGE_COST", "4")
    assert project_settings.env_database("DATABASE_URL", default="")["OPTIONS"]["options"] == (
        "-c random_page_cost=4.0"
    )

    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sco?options=-c%20work_mem%3D8MB")
    assert (
        project_settings.env_database("DATABASE_URL", default="")["OPTIONS"]["options"] == "-c work_mem=8MB"
    )


@pytest.mark.parametrize("raw", ["redis://127.0.0.1:6379/0", "rediss://cache.example.org:6380/1"])
def test_redis_and_tls_redis_urls_are_accepted(monkeypatch, raw):
    monkeypatch.setenv("REDIS_URL", raw)

    assert project_settings.env_redis_url("REDIS_URL") == raw


def test_an_unset_redis_url_means_no_redis(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)

    assert project_settings.env_redis_url("REDIS_URL") is None


def run_check(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL"}}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_start_up_stops_on_a_bad_variable_and_names_it():
    result = run_check(DEBUG="perhaps")

    assert result.returncode != 0
    assert "DEBUG='perhaps' is not a yes/no value" in result.stderr


def test_production_needs_a_secret_key():
    result = run_check(DEBUG="false")

    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_with_nothing_set_it_runs_in_development_on_sqlite():
    result = run_check()

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
