"""The ``benchmark`` command and the ``/health/`` floor it measures against.

Timings themselves are never asserted: only the shape of what is measured and reported,
and the verdicts on figures crafted for the purpose.
"""

from __future__ import annotations

import gc
import json
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from annotations.models import Claim, Course, Membership, Source
from annotations.models.challenges import Stance
from annotations.models.courses import Role
from annotations.models.moderation import FlagReason
from annotations.services import challenges, links, moderation, sources, threads
from scoproject import benchmark, gc_tuning
from scoproject.benchmark import KINDS, TARGET_NAMES, percentile, row_counts
from timeline.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def collector_restored():
    """The command settles the collector as a worker does; the test process gets its own back."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.fixture(autouse=True)
def quick_speed_reading(monkeypatch):
    """The machine's speed read over a short loop: its full length takes a second."""
    monkeypatch.setattr(benchmark, "SPEED_LOOP", 100_000)


QUICK = ["--requests", "3", "--warmup", "1"]


@pytest.fixture
def demo(paper, capsys):
    """The demo course and accounts, with a discussion thread so every page has an object,
    and a second challenge of c-21-2 so that it is the most challenged claim."""
    call_command("seed_demo")
    course = Course.objects.get(join_code="SCO-DEMO")
    student = Membership.objects.get(course=course, user__username="student1", role=Role.STUDENT).user
    challenges.challenge_create(
        user=student,
        course=course,
        claim=Claim.objects.get(key="c-21-2"),
        stance=Stance.NEEDS_CONTEXT,
        argument="Who else met in Almaty?",
    )
    thread = threads.thread_create(user=student, course=course, title="Dates", body="Which summit was first?")
    threads.post_create(user=student, thread=thread, body="The Shanghai one, in 1996.")
    # A course source, an event proposal and a flag (and so a review item): an object for
    # every API endpoint.
    source, _ = sources.source_add(
        user=student, course=course, kind=Source.Kind.WEB, authors=["SCO Secretariat"], year=2001,
        title="Declaration on the establishment", url="https://example.org/declaration",
    )  # fmt: skip
    links.event_propose(
        user=student, course=course, title="Astana summit", date="2005-07-05", type=Event.Type.SUMMIT,
        source=source,
    )  # fmt: skip
    classmate = Membership.objects.get(course=course, user__username="student2").user
    moderation.flag_create(user=classmate, target=thread.posts.order_by("pk").last(), reason=FlagReason.SPAM)
    capsys.readouterr()
    return course


def run(tmp_path: Path, *args: str, name: str = "run.json") -> dict:
    path = tmp_path / name
    call_command("benchmark", *QUICK, "--json", str(path), *args)
    return json.loads(path.read_text(encoding="utf-8"))


def crafted(tmp_path: Path, p95s: dict[str, float]) -> Path:
    path = tmp_path / "before.json"
    targets = [{"name": name, "p95_ms": p95} for name, p95 in p95s.items()]
    path.write_text(json.dumps({"targets": targets}), encoding="utf-8")
    return path


def test_health_answers_ok_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/")

    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")


def test_health_answers_plain_http_when_every_other_path_redirects_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/health/").status_code == 200
    assert client.get("/read/").status_code == 301


def test_it_times_the_floor_and_every_kind_of_target_and_writes_nothing(demo, tmp_path):
    before = row_counts()

    data = run(tmp_path)

    assert row_counts() == before

    targets = {t["name"]: t for t in data["targets"]}
    assert {t["kind"] for t in data["targets"]} == set(KINDS)
    assert set(targets) == set(TARGET_NAMES)
    floor = targets["floor"]
    assert floor["url"] == "/health/"
    assert floor["ratio_p95_to_floor"] == 1.0
    for target in data["targets"]:
        assert 0 < target["p50_ms"] <= target["p95_ms"] <= target["max_ms"], target
        assert target["status"] == 200, target
        assert target["bytes"] > 0, target
        assert target["ratio_p95_to_floor"] == pytest.approx(target["p95_ms"] / floor["p95_ms"], rel=1e-3)
    assert targets["reading"]["url"] == f"/courses/{demo.pk}/read/"
    assert targets["progress"]["username"] == "instructor"
    assert targets["claim-challenges"]["url"] == f"/courses/{demo.pk}/claims/c-21-2/"
    assert targets["api-claim"]["url"] == "/api/v1/claims/c-21-2/"
    assert f"course={demo.pk}" in targets["search-annotations"]["url"]


def test_it_measures_with_the_collector_settled_as_in_a_worker(demo, tmp_path):
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    run(tmp_path, "--only", "api-claim")
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (gc_tuning.YOUNG_THRESHOLD, *gc_tuning.OLDER_THRESHOLDS)


def test_cold_empties_the_cache_before_every_timed_request(demo, tmp_path, monkeypatch):
    from scoproject import benchmark

    clears = []
    monkeypatch.setattr(benchmark.cache, "clear", lambda: clears.append(1))
    warm = run(tmp_path, "--only", "api-claim", name="warm.json")
    assert clears == []

    cold = run(tmp_path, "--only", "reading", "--cold", name="cold.json")

    timed = len(cold["targets"]) * int(QUICK[1])  # the floor and the reading
    assert len(clears) == timed
    assert cold["settings"]["cold"] is True
    assert warm["settings"]["cold"] is False


def test_the_json_names_the_database_the_data_and_the_settings(demo, tmp_path):
    data = run(tmp_path, "--only", "api-claim")

    assert data["database_vendor"] in {"sqlite", "postgresql"}
    assert data["row_counts"]["courses"] == Course.objects.count()
    assert data["row_counts"]["users"] >= 9
    assert data["row_counts"]["challenges"] == 5
    assert data["row_counts"]["posts"] == 2
    assert {"annotations", "challenges", "posts", "users", "courses"} <= set(data["row_counts"])
    assert data["settings"]["requests"] == 3
    assert data["settings"]["warmup"] == 1
    assert data["settings"]["budgets_ms"] == {"api": 30.0, "page": 80.0, "search": 50.0}
    assert data["machine"]["loop"] == "sum(i * i for i in range(100000))"
    assert 0 < data["machine"]["seconds"] < 1
    assert data["machine"]["cores"] >= 1
    assert data["machine"]["python"].startswith("CPython 3.")


def test_it_prints_an_aligned_table_with_each_target(demo, tmp_path, capsys):
    run(tmp_path, "--only", "w3c-collection,api-claim")

    out = capsys.readouterr().out
    lines = [
        line
        for line in out.splitlines()
        if line.split()[:1] in (["floor"], ["w3c-collection"], ["api-claim"])
    ]
    assert [line.split()[0] for line in lines] == ["floor", "w3c-collection", "api-claim"]
    speed = next(line for line in out.splitlines() if line.startswith("machine: "))
    assert re.fullmatch(
        r"machine: sum\(i \* i for i in range\(100000\)\) in \d+\.\d\d s \(CPython 3\.\d+\.\d+, \d+ cores\)",
        speed,
    )
    header = next(line for line in out.splitlines() if line.startswith("target"))
    p95_end = header.index("p95 ms") + len("p95 ms")
    assert all(line[p95_end - 1] != " " and line[p95_end] == " " for line in lines)


def test_only_runs_the_named_targets_and_the_floor(demo, tmp_path):
    data = run(tmp_path, "--only", "thread,api-posts")

    assert [t["name"] for t in data["targets"]] == ["floor", "thread", "api-posts"]


def test_it_refuses_an_unknown_target_name(demo, tmp_path):
    with pytest.raises(CommandError, match="Unknown target"):
        run(tmp_path, "--only", "nonesuch")


def test_it_skips_a_target_the_data_lacks_with_a_note(demo, tmp_path, capsys):
    demo.assignments.all().delete()

    data = run(tmp_path, "--only", "progress,w3c-collection")

    assert [t["name"] for t in data["targets"]] == ["floor", "w3c-collection"]
    assert "progress: the course has no assignment" in data["notes"]
    assert "skipped progress: the course has no assignment" in capsys.readouterr().out


def test_check_fails_when_a_target_exceeds_its_budget(demo, tmp_path, capsys):
    with pytest.raises(CommandError, match=r"1 target\(s\) failed: w3c-collection"):
        run(tmp_path, "--only", "w3c-collection", "--budget", "page=0.000001", "--check")

    out = capsys.readouterr().out
    assert "FAIL" in next(line for line in out.splitlines() if line.startswith("w3c-collection"))
    # The figures are written even when the check fails.
    assert json.loads((tmp_path / "run.json").read_text())["targets"][1]["within_budget"] is False


def test_check_passes_targets_within_their_budgets(demo, tmp_path, capsys):
    data = run(tmp_path, "--only", "api-claim", "--budget", "api=100000", "--check")

    assert data["targets"][1]["within_budget"] is True
    assert "PASS" in next(
        line for line in capsys.readouterr().out.splitlines() if line.startswith("api-claim")
    )


def test_compare_flags_a_p95_that_grew_beyond_the_limit_and_passes_one_within(demo, tmp_path, capsys):
    before = crafted(tmp_path, {"w3c-collection": 1e-6, "api-claim": 1e6, "gone": 5.0})

    data = run(
        tmp_path, "--only", "w3c-collection,api-claim", "--budget", "page=1e6", "--compare", str(before)
    )

    targets = {t["name"]: t for t in data["targets"]}
    assert targets["w3c-collection"]["within_growth"] is False
    assert targets["w3c-collection"]["growth"] == pytest.approx(
        targets["w3c-collection"]["p95_ms"] / 1e-6, rel=1e-3
    )
    assert targets["api-claim"]["within_growth"] is True
    assert targets["floor"]["growth"] is None
    out = capsys.readouterr().out.split("p95 against")[1]
    assert "FAIL" in next(line for line in out.splitlines() if line.startswith("w3c-collection"))
    assert "PASS" in next(line for line in out.splitlines() if line.startswith("api-claim"))
    assert "gone" not in out


def test_check_fails_on_growth_beyond_the_limit(demo, tmp_path):
    before = crafted(tmp_path, {"api-claim": 1e-6})

    with pytest.raises(CommandError, match="api-claim"):
        run(tmp_path, "--only", "api-claim", "--budget", "api=1e6", "--compare", str(before), "--check")


def test_a_wrong_password_skips_the_targets_of_that_account(demo, tmp_path):
    with pytest.raises(CommandError, match="No target could be timed"):
        run(tmp_path, "--only", "reading", "--password", "not-the-password")


def test_percentiles_interpolate_between_ranks():
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0], 95) == pytest.approx(2.9)
    assert percentile([5.0], 95) == 5.0
