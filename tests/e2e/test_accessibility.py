"""Every page type passes axe-core's WCAG 2.1 A/AA rules (and its best practices) in Chromium,
seen by the role that uses it, with no violation of serious or critical impact.

axe-core is vendored in ``tests/e2e/assets/`` (see the README there). It is injected with
``page.evaluate``: the DevTools protocol runs it outside the page's Content-Security-Policy,
so the pages are checked exactly as the site serves them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from annotations.models import Assignment, Course, CourseGroup, Thread
from annotations.services import moderation as moderation_services
from annotations.services import threads as thread_services
from tests.e2e.conftest import ARTIFACTS, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "assets" / "axe.min.js"
SCREENSHOTS = ARTIFACTS / "screenshots"
RULE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING_IMPACTS = {"serious", "critical"}
# A claim of the demo course with an upheld dispute: its page shows a challenge, its
# resolution and the evidence status.
CHALLENGED_CLAIM = "c-28-4"
SPAM = "Cheap essays written for you at essays.example"


OPEN_ALL_DETAILS = """() => {
  const closed = [...document.querySelectorAll("details:not([open])")];
  closed.forEach(details => { details.open = true; });
  return closed.length;
}"""


OVERFLOWING = """() => [...document.querySelectorAll("body *")]
  .filter(element => element.getBoundingClientRect().right > window.innerWidth + 0.5)
  .filter(element => !element.closest(".timeline-scroll, .table-scroll"))
  .slice(0, 8)
  .map(element => element.outerHTML.slice(0, 100) + " → " + Math.round(element.getBoundingClientRect().right))"""


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it stands, restricted to the WCAG 2.1 A/AA and
    best-practice rules."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    options = {"runOnly": {"type": "tag", "values": RULE_TAGS}, "resultTypes": ["violations"]}
    return page.evaluate("options => axe.run(document, options).then(r => r.violations)", options)


def describe(label: str, violations: list[dict[str, Any]]) -> str:
    """Violations as a reader can act on them: rule, impact, help, and each offending node
    with axe's own summary of what to fix."""
    lines = [f"{label}:"]
    for violation in violations:
        lines.append(
            f"  [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})"
        )
        for node in violation["nodes"][:8]:
            target = " ".join(json.dumps(part) for part in node["target"])
            lines.append(f"    at {target}: {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ").strip()
            if summary:
                lines.append(f"      {summary[:300]}")
        if len(violation["nodes"]) > 8:
            lines.append(f"    … and {len(violation['nodes']) - 8} more")
    return "\n".join(lines)


def audit(page: Any, pages: list[tuple[str, str]], screenshots: dict[str, str] | None = None) -> None:
    """Opens each (label, path), runs axe, saves the named desktop screenshots, and fails
    with every serious or critical violation of every page at once."""
    screenshots = screenshots or {}
    report = []
    for label, path in pages:
        response = page.goto(path)
        page.wait_for_load_state()
        expected = 404 if label == "not found" else 200
        assert response.status == expected, f"{label} ({path}) answered {response.status}"
        assert page.locator("main").count() == 1, f"{label} ({path}) has no <main>"
        if label in screenshots:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{screenshots[label]}.png"), full_page=False)
        violations = axe_violations(page)
        # Forms folded into <details> (notes, replies, flags, moderation) are hidden from
        # axe until opened: check them open too.
        if page.evaluate(OPEN_ALL_DETAILS):
            seen = {v["id"] for v in violations}
            violations += [v for v in axe_violations(page) if v["id"] not in seen]
        serious = [v for v in violations if v["impact"] in FAILING_IMPACTS]
        if serious:
            report.append(describe(f"{label} ({path})", serious))
        lesser = [v for v in violations if v["impact"] not in FAILING_IMPACTS]
        if lesser:  # shown with ``pytest -s`` (and on failure), not failed on
            print(describe(f"{label} ({path}), moderate or minor", lesser))
        # Nothing, open or folded, makes the page scroll sideways.
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > page.viewport_size["width"]:
            report.append(f"{label} ({path}): the page is {width}px wide: {page.evaluate(OVERFLOWING)}")
    assert not report, "axe-core found serious or critical violations:\n" + "\n\n".join(report)


@pytest.fixture
def discussion(demo: Course) -> Thread:
    """A Group A thread in the demo course: student1 asks student2 (a mention, so student2
    has a notification), student2 answers, student1 replies, and student1 flags an advert
    posted by student3, so the review queue holds it."""
    users = {u.username: u for u in User.objects.filter(username__in=["student1", "student2", "student3"])}
    thread = thread_services.thread_create(
        user=users["student1"],
        course=demo,
        group=CourseGroup.objects.get(course=demo, name="Group A"),
        title="Who dated the Moscow agreement?",
        body="@student2 the paper says 2012; I think it was 1997.",
    )
    answer = thread_services.post_create(
        user=users["student2"], thread=thread, body="The record says **24 April 1997**."
    )
    thread_services.post_create(user=users["student1"], thread=thread, body="Thanks.", parent=answer)
    spam = thread_services.post_create(user=users["student3"], thread=thread, body=SPAM)
    moderation_services.flag_create(user=users["student1"], target=spam, reason="spam")
    return thread


def test_public_pages_have_no_serious_accessibility_violations(page, demo):
    audit(
        page,
        [
            ("home", "/"),
            ("public reading", "/read/"),
            ("claims list", "/claims/"),
            ("claim detail", f"/claims/{CHALLENGED_CLAIM}/"),
            ("timeline", "/timeline/"),
            ("event", "/events/almaty-summit-1998/"),
            ("actors", "/actors/"),
            ("actor", "/actors/china/"),
            ("sources", "/sources/"),
            ("login", "/accounts/login/"),
            ("signup", "/accounts/signup/"),
            ("not found", "/no-such-page/"),
        ],
        screenshots={"public reading": "desktop-public-reading", "timeline": "desktop-timeline"},
    )


def test_a_students_pages_have_no_serious_accessibility_violations(page, demo, discussion):
    assignment = Assignment.objects.get(course=demo)
    log_in(page, "student2")
    audit(
        page,
        [
            ("course reading view", f"/courses/{demo.pk}/read/"),
            ("course page", f"/courses/{demo.pk}/"),
            ("course claims list", f"/courses/{demo.pk}/claims/"),
            ("course claim with challenges", f"/courses/{demo.pk}/claims/{CHALLENGED_CLAIM}/"),
            ("course timeline", f"/courses/{demo.pk}/timeline/"),
            ("threads", f"/courses/{demo.pk}/threads/"),
            ("thread", f"/courses/{demo.pk}/threads/{discussion.pk}/"),
            ("assignment", f"/assignments/{assignment.pk}/"),
            ("notifications", "/notifications/"),
            ("courses", "/courses/"),
        ],
        screenshots={
            "course reading view": "desktop-reading-view",
            "course claim with challenges": "desktop-claim-with-challenges",
            "thread": "desktop-thread",
            "assignment": "desktop-assignment-student",
        },
    )


def test_staff_pages_have_no_serious_accessibility_violations(page, demo, discussion):
    assignment = Assignment.objects.get(course=demo)
    log_in(page, "instructor")
    audit(
        page,
        [
            ("class progress", f"/assignments/{assignment.pk}/progress/"),
            ("dashboard", f"/courses/{demo.pk}/dashboard/"),
            ("link proposals", f"/courses/{demo.pk}/proposals/"),
            ("course management", f"/courses/{demo.pk}/manage/"),
        ],
        screenshots={
            "class progress": "desktop-assignment-progress",
            "dashboard": "desktop-dashboard",
        },
    )
    log_in(page, "ta")
    audit(
        page,
        [("review queue", f"/courses/{demo.pk}/moderation/")],
        screenshots={"review queue": "desktop-review-queue"},
    )
    assert SPAM in page.locator("main").inner_text()
