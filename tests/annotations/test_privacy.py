"""A person's own data: the download of it, and anonymising the account on request."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token

from annotations.models import Annotation, AuditEntry, Claim, Grade, Post
from annotations.models.moderation import FlagReason
from annotations.services import annotations as annotation_services
from annotations.services import assignments as assignment_services
from annotations.services import moderation as moderation_services
from annotations.services import threads as thread_services
from annotations.services.privacy import NOT_SITE_STAFF, user_anonymise
from tests.factories import AssignmentFactory

PASSWORD = "a-long-test-password"


@pytest.fixture
def work(course, author, groupmate, other_group_student, ta, instructor, paper):
    """The author's work beside a groupmate's: private notes, a thread where both post, a
    flag by a student of another group on the author's post, a released grade and a withheld one."""
    paragraph = paper.paragraphs.order_by("order").first()
    own_note = annotation_services.annotation_create(
        user=author, course=course, paragraph=paragraph, start=0, end=10, body="My private thought."
    )
    annotation_services.annotation_create(
        user=groupmate,
        course=course,
        paragraph=paragraph,
        start=0,
        end=10,
        body="Groupmate's private thought.",
    )
    claim = Claim.objects.filter(paragraph__document=paper).first()
    thread = thread_services.thread_create(
        user=groupmate, course=course, title="Dates", body="Opening", claim=claim
    )
    opening = thread.posts.get()
    mine = thread_services.post_create(user=author, thread=thread, body="My reply", parent=opening)
    answer = thread_services.post_create(user=groupmate, thread=thread, body="An answer to you", parent=mine)
    moderation_services.flag_create(user=other_group_student, target=mine, reason=FlagReason.SPAM)
    moderation_services.hide(user=ta, target=mine, reason="Spam.")
    released = AssignmentFactory(course=course, created_by=instructor, title="Released one")
    withheld = AssignmentFactory(course=course, created_by=instructor, title="Withheld one")
    for assignment, score in ((released, "8"), (withheld, "3")):
        assignment_services.grade_set(
            user=instructor,
            assignment=assignment,
            student=author,
            score=Decimal(score),
            feedback=f"{score}/10",
        )
    assignment_services.grades_release(user=instructor, assignment=released)
    return {"note": own_note, "thread": thread, "mine": mine, "answer": answer}


def _download(client, user) -> dict:
    client.force_login(user)
    response = client.post(reverse("my-data"))
    assert response["Content-Disposition"].startswith('attachment; filename="my-data-')
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content.decode("utf-8"))


def test_the_my_data_page_offers_the_download(client, author):
    client.force_login(author)
    page = client.get(reverse("my-data")).content.decode()
    assert "Download my data (JSON)" in page
    assert f'action="{reverse("my-data")}"' in page


def test_the_my_data_page_asks_to_log_in_first(client):
    response = client.get(reverse("my-data"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client.post(reverse("my-data"))["Location"].startswith(reverse("login"))


def test_my_data_holds_my_work_and_not_others(client, work, author, groupmate):
    data = _download(client, author)
    assert data["profile"]["username"] == "author"
    assert [m["group"] for m in data["memberships"]] == ["Group A"]
    assert [a["body"] for a in data["annotations"]] == ["My private thought."]
    assert [p["body"] for p in data["posts"]] == ["My reply"]
    assert data["posts"][0]["moderation"] == "hidden"
    text = json.dumps(data)
    assert "Groupmate's private thought." not in text
    assert "An answer to you" not in text
    # Who flagged my post is not mine to know.
    assert data["flags_raised"] == []
    assert "other_group_student" not in text


def test_my_data_holds_the_language_my_emails_are_written_in(client, work, author, groupmate):
    from annotations.services.notifications import language_record

    language_record(user=author, language="ru")

    assert _download(client, author)["language"] == "ru"
    assert _download(client, groupmate)["language"] is None


def test_my_data_holds_released_grades_only(client, work, author):
    data = _download(client, author)
    assert [(g["assignment"], g["score"], g["feedback"]) for g in data["grades"]] == [
        ("Released one", "8.00", "8/10")
    ]


def test_my_data_holds_the_flags_i_raised(client, work, other_group_student):
    data = _download(client, other_group_student)
    assert [(f["kind"], f["target_id"], f["reason"]) for f in data["flags_raised"]] == [
        ("post", work["mine"].pk, "spam")
    ]


def test_my_data_counts_its_queries(client, work, author, django_assert_max_num_queries):
    client.force_login(author)
    with django_assert_max_num_queries(30):
        client.post(reverse("my-data"))


def test_anonymising_keeps_the_work_threads_grades_and_audit_log(work, author, curator):
    audit_before = list(AuditEntry.objects.order_by("pk").values())
    posts_before = list(
        Post.objects.order_by("pk").values("pk", "thread_id", "parent_id", "author_id", "body")
    )
    grades_before = list(Grade.objects.order_by("pk").values())
    user_anonymise(actor=curator, user=author)

    assert list(Post.objects.order_by("pk").values("pk", "thread_id", "parent_id", "author_id", "body")) == (
        posts_before
    )
    assert Annotation.objects.get(pk=work["note"].pk).author_id == author.pk
    assert list(Grade.objects.order_by("pk").values()) == grades_before
    # The old entries are untouched; one more records the act, without the old name.
    audit_after = list(AuditEntry.objects.order_by("pk").values())
    assert audit_after[: len(audit_before)] == audit_before
    assert [(e["action"], e["target_label"]) for e in audit_after[len(audit_before) :]] == [
        ("account.anonymise", f"former-student-{author.pk}")
    ]


def test_anonymising_leaves_no_trace_of_the_name_in_the_account(author, curator):
    author.first_name, author.last_name, author.email = "Ada", "Author", "ada@example.org"
    author.save()
    user_anonymise(actor=curator, user=author)
    row = get_user_model().objects.filter(pk=author.pk).values().get()
    assert row["username"] == f"former-student-{author.pk}"
    assert (row["first_name"], row["last_name"], row["email"], row["is_active"]) == ("", "", "", False)
    for value in row.values():
        assert "author" not in str(value).lower()
        assert "ada" not in str(value).lower()
    assert not get_user_model().objects.get(pk=author.pk).has_usable_password()


def test_an_anonymised_person_can_no_longer_log_in(client, author, curator):
    token = Token.objects.create(user=author)
    client.force_login(author)
    user_anonymise(actor=curator, user=author)
    # The session they had is over, and neither the old name nor the pseudonym lets them in.
    assert client.get(reverse("my-data")).status_code == 302
    client.logout()
    for username in ("author", f"former-student-{author.pk}"):
        response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
        assert not response.wsgi_request.user.is_authenticated
        assert client.get(reverse("my-data")).status_code == 302
    assert not Token.objects.filter(key=token.key).exists()


def test_anonymising_twice_changes_nothing_more(author, curator):
    user_anonymise(actor=curator, user=author)
    entries = AuditEntry.objects.count()
    again = user_anonymise(actor=curator, user=author)
    assert again.username == f"former-student-{author.pk}"
    assert AuditEntry.objects.count() == entries


@pytest.mark.parametrize("actor_name", ["groupmate", "instructor"])
def test_only_site_staff_can_anonymise(request, author, actor_name):
    actor = request.getfixturevalue(actor_name)
    with pytest.raises(PermissionDenied, match=str(NOT_SITE_STAFF)):
        user_anonymise(actor=actor, user=author)
    assert get_user_model().objects.get(pk=author.pk).username == "author"


def test_the_command_anonymises_and_its_dry_run_does_not(author, curator):
    out = io.StringIO()
    call_command("anonymise_user", "author", "--actor", "curator", "--dry-run", stdout=out)
    assert "Would anonymise 'author'" in out.getvalue()
    assert get_user_model().objects.get(pk=author.pk).username == "author"
    call_command("anonymise_user", "author", "--actor", "curator", stdout=out)
    assert get_user_model().objects.get(pk=author.pk).username == f"former-student-{author.pk}"


def test_the_command_refuses_a_non_staff_actor(author, groupmate):
    with pytest.raises(CommandError, match=str(NOT_SITE_STAFF)):
        call_command("anonymise_user", "author", "--actor", "groupmate", stdout=io.StringIO())


def test_the_admin_action_anonymises_the_selected_accounts(client, author, curator):
    client.force_login(curator)
    url = reverse("admin:auth_user_changelist")
    response = client.post(url, {"action": "anonymise", "_selected_action": [author.pk]}, follow=True)
    assert "Anonymised 1 account(s)." in response.content.decode()
    assert get_user_model().objects.get(pk=author.pk).username == f"former-student-{author.pk}"


def test_the_anonymised_name_shows_in_the_thread(client, work, author, curator, groupmate):
    thread_services.post_create(user=author, thread=work["thread"], body="A visible post")
    user_anonymise(actor=curator, user=author)
    client.force_login(groupmate)
    page = client.get(
        reverse("threads:detail", kwargs={"pk": work["thread"].course_id, "thread_pk": work["thread"].pk})
    ).content.decode()
    assert "An answer to you" in page
    assert "A visible post" in page
    assert f"former-student-{author.pk}" in page
    assert ">author<" not in page
