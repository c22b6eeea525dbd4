"""An assignment from start to finish: the instructor sets it, a student does part of it and
sees what is missing, the instructor grades, releases and exports the grades."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from annotations.models import Assignment
from tests.e2e.conftest import ARTIFACTS, log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "Dating the Moscow agreement"


def local(moment: dt.datetime) -> str:
    """A moment as a ``datetime-local`` input takes it, in the site's time zone."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_an_assignment_is_set_done_in_part_graded_released_and_exported(page, demo):
    now = timezone.now()

    log_in(page, "instructor")
    page.goto(f"/courses/{demo.pk}/")
    page.get_by_role("link", name="the course's assignments").click()
    page.get_by_role("link", name="New assignment").click()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Instructions").fill("Check the paper's date for the Moscow agreement.")
    page.get_by_label("Claims in scope").fill("c-20-8")
    page.get_by_label("Opens").fill(local(now - dt.timedelta(hours=1)))
    page.get_by_label("Due", exact=True).fill(local(now + dt.timedelta(days=7)))
    page.get_by_label("Annotations asked").fill("1")
    page.get_by_label("Challenges asked").fill("1")
    page.get_by_label("Sources cited asked").fill("1")
    page.get_by_label("Points").fill("10")
    page.get_by_role("button", name="Set the assignment").click()
    page.wait_for_load_state()
    assignment = Assignment.objects.get(title=TITLE)
    assert page.locator("h1").inner_text().startswith(TITLE)
    assert "c-20-8" in page.locator("main").inner_text()

    log_in(page, "student5")
    page.goto(f"/courses/{demo.pk}/claims/c-20-8/")
    page.get_by_label("Your stance").select_option("disputes")
    page.get_by_label("Argument").fill("The Moscow agreement was signed on 24 April 1997.")
    page.get_by_label("Source 1", exact=True).select_option("pan-hu-2006")
    page.get_by_role("button", name="File the challenge").click()
    page.wait_for_load_state()
    page.goto(f"/courses/{demo.pk}/assignments/")
    page.get_by_role("link", name=TITLE).click()
    progress = page.locator("main").inner_text()
    assert "Still to do: 1 annotation." in progress
    assert "Grades are not released yet" in progress
    page.screenshot(path=str(ARTIFACTS / "assignment-student.png"), full_page=True)

    log_in(page, "instructor")
    page.goto(assignment.get_absolute_url())
    page.get_by_role("link", name="The class table").click()
    page.screenshot(path=str(ARTIFACTS / "assignment-class-table.png"), full_page=True)
    row = page.locator("tr").filter(has_text="student5")
    assert "1/1" in row.inner_text()
    row.get_by_role("link", name="Grade").click()
    page.get_by_label("Score").fill("8")
    page.get_by_label("Feedback").fill("Well sourced; annotate the passage too.")
    page.get_by_role("button", name="Save the grade").click()
    page.wait_for_load_state()
    page.goto(assignment.get_absolute_url())
    page.get_by_role("button", name="Release the grades").click()
    page.wait_for_load_state()
    with page.expect_download() as download:
        page.get_by_role("link", name="grades for Canvas (CSV)").click()
    text = download.value.path().read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert rows[1][0] == "Points Possible"
    scores = {row[3]: row[5] for row in rows[2:]}
    assert scores["student5"] == "8"
    assert len(scores) == 6

    page.goto(f"/courses/{demo.pk}/dashboard/")
    page.screenshot(path=str(ARTIFACTS / "course-dashboard.png"), full_page=True)

    log_in(page, "student5")
    page.goto(assignment.get_absolute_url())
    released = page.locator("main").inner_text()
    assert "Well sourced; annotate the passage too." in released
    assert "Your grade: 8 of 10 (set by staff)." in released
    assert page.problems == []
